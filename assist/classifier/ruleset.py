"""The compiled form of a pack's classification rules (what `compile_rules` returns).

Plain frozen data: keywords (`Term`), rules made of keyword groups (`Rule`), and the
categories and helper signals that rules vote for (`Target`). The keyword automata
are built from this by `matching.Matcher`; the decision is made by `decide`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Within = Literal["segment", "call"]


@dataclass(frozen=True, slots=True)
class Term:
    """One keyword, normalised, with how it may be matched.

    `not_words` are longer look-alikes that cancel an overlapping match (投诉你 inside
    投诉你们). `word` keywords (ASCII) must stand as a whole word in the original text
    (so `ts` does not match inside `its`); `prefix` lets `complain*` match complaint.
    """

    text: str
    norm: str
    not_words: tuple[str, ...] = ()
    sound: bool = True
    fuzzy: bool = True
    word: bool = False
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """Keyword groups that together vote for one target.

    Every group needs one of its terms; `near` (characters) or `within` says how close.
    `unless` terms in the same segment cancel the rule there. `negation` drops keyword
    hits that are negated (我不是要投诉).
    """

    id: str
    target: str
    groups: tuple[tuple[int, ...], ...]
    unless: tuple[int, ...]
    sources: frozenset[str]
    fields: frozenset[str]
    within: Within = "segment"
    near: int | None = None
    weight: float = 1.0
    negation: bool = True

    def applies_to(self, source: str, field_name: str | None) -> bool:
        if source in self.sources:
            return True
        return source == "context" and field_name is not None and field_name in self.fields


@dataclass(frozen=True, slots=True)
class Target:
    """A category (a label) or a signal (a named building block other targets use)."""

    name: str
    is_category: bool
    rules: tuple[int, ...]
    threshold: float = 1.0
    requires: tuple[str, ...] = ()
    requires_any: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Negation:
    """Cues that negate a keyword right before (不是要…) or right after (…就算了) it."""

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    window: int = 3
    corrections: tuple[str, ...] = ()
    """Self-corrections right after a keyword, even past a pause ("我想投诉……哦不对，是咨询")."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything the classifier needs, validated. Targets are in evaluation order."""

    terms: tuple[Term, ...]
    rules: tuple[Rule, ...]
    targets: tuple[Target, ...]
    priority: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    negation: Negation = field(default_factory=Negation)
    fuzzy_cutoff: float = 88.0

    def target(self, name: str) -> Target:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)
