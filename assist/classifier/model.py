"""The classifier's data: what goes in (segments of a call) and what comes out.

Plain frozen dataclasses so that the core stays pure and results can be cached,
compared in tests and serialised by the shells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Source = Literal["customer", "agent", "supervisor", "third_party", "note", "context"]
Match = Literal["exact", "sound", "fuzzy"]
DecidedBy = Literal["rules", "model", "rules+model", "none"]
SOURCES: tuple[Source, ...] = ("customer", "agent", "supervisor", "third_party", "note", "context")
READ_ALONE: frozenset[str] = frozenset({"customer"})
"""Sources whose every line the learned model also reads on its own (`TextModel.lifted`): what the customer
said, where a category said once in a long call stands. Not the agent's notes: a short note read alone
("客户要求今天给答复") reads more than it says, and cross-validation gained nothing from them."""
LINE_MIN_CHARS = 6
"""A line read alone has at least this many characters once normalised. Shorter answers ("十万。", "对。",
"长江路支行") are one or two character pairs, each weighed as if it were the whole call: "十万" read alone
scored a large-loss urgent complaint in a call booking a cash withdrawal. Cross-validation is unchanged
from 3 to 12 characters (docs/quality.md, session 11)."""


def reads_alone(source: str, normalized: str) -> bool:
    """Whether the model also reads this line on its own (`READ_ALONE`, `LINE_MIN_CHARS`)."""
    return source in READ_ALONE and len(normalized) >= LINE_MIN_CHARS


CATEGORY_IDS: tuple[str, ...] = (
    "major_incident",
    "media.live",
    "media.interview",
    "complaint.urgent",
    "complaint.about_agent",
    "system_outage",
    "complaint.general",
    "none",
)
"""Every category id, most serious first (the plan's default priority)."""

NONE = "none"


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of text of a call, with where it came from.

    `index` is the position within its source (transcript line number, note number);
    `field` names the context key when `source == "context"`.
    """

    source: Source
    index: int
    text: str
    field: str | None = None


class RuleHit(NamedTuple):
    """One keyword group of one rule satisfied in a segment (span in the original text)."""

    rule: int
    group: int
    word: str
    span: tuple[int, int]
    how: Match


@dataclass(frozen=True, slots=True)
class SegmentScan:
    """What one segment contributes to the decision: the rules' hits (for 'segment' rules every
    group is present) and the learned model's feature ids. Depends on the segment alone, so it
    is cached per segment."""

    segment: Segment
    hits: tuple[RuleHit, ...]
    features: tuple[int, ...] = ()
    alone: tuple[float, ...] = ()
    """The model's score per label for this line on its own (a `READ_ALONE` source; else empty)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a category was chosen: which rule matched which words, and where.

    `rule` is "model" when the learned model chose the category; `words` are then the
    call's words that weighed most for it.
    """

    category: str
    rule: str
    words: tuple[str, ...]
    source: Source
    index: int
    span: tuple[int, int]
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "category": self.category,
            "rule": self.rule,
            "words": list(self.words),
            "source": self.source,
            "index": self.index,
            "span": list(self.span),
        }
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass(frozen=True, slots=True)
class Classification:
    """The decision for a whole call so far. `labels[0] == category`; `none` stands alone.

    `decided_by` says which part chose the labels: the rules, the learned model, the rules
    with a label the model added, or nothing ("none").
    """

    category: str
    labels: tuple[str, ...]
    evidence: tuple[Evidence, ...] = field(default=())
    decided_by: DecidedBy = "rules"

    @staticmethod
    def empty() -> Classification:
        return Classification(NONE, (NONE,), (), "none")


@dataclass(frozen=True, slots=True)
class ForbiddenHit:
    """A forbidden phrase found in something the agent said or wrote to the customer.

    `span` indexes the original (un-normalised) text, so the sidebar can highlight it.
    """

    rule: str
    phrase: str
    span: tuple[int, int]
    alternative: str
    by: Literal["rules", "model"] = "rules"
    """Which part found it: the phrase rules, or the learned line model."""

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "rule": self.rule,
            "phrase": self.phrase,
            "span": list(self.span),
            "alternative": self.alternative,
        }


# Fast constructors for the classifier's hot path. A frozen dataclass's __init__ sets each field through
# object.__setattr__ (Python code, ~1 µs for Evidence); setting the slots directly builds the same object
# (same class, same fields: equal, same hash) in about a third of the time. Calls make up to a hundred each.
_object_new = object.__new__
_scan_fields = tuple(SegmentScan.__dict__[f].__set__ for f in ("segment", "hits", "features", "alone"))
_evidence_fields = tuple(
    Evidence.__dict__[f].__set__ for f in ("category", "rule", "words", "source", "index", "span", "field")
)


def new_scan(
    segment: Segment, hits: tuple[RuleHit, ...], features: tuple[int, ...], alone: tuple[float, ...] = ()
) -> SegmentScan:
    """`SegmentScan(segment, hits, features, alone)`, faster."""
    scan: SegmentScan = _object_new(SegmentScan)
    set_segment, set_hits, set_features, set_alone = _scan_fields
    set_segment(scan, segment)
    set_hits(scan, hits)
    set_features(scan, features)
    set_alone(scan, alone)
    return scan


def new_evidence(
    category: str,
    rule: str,
    words: tuple[str, ...],
    source: Source,
    index: int,
    span: tuple[int, int],
    field: str | None,
) -> Evidence:
    """`Evidence(category, rule, words, source, index, span, field)`, faster."""
    ev: Evidence = _object_new(Evidence)
    set_category, set_rule, set_words, set_source, set_index, set_span, set_field = _evidence_fields
    set_category(ev, category)
    set_rule(ev, rule)
    set_words(ev, words)
    set_source(ev, source)
    set_index(ev, index)
    set_span(ev, span)
    set_field(ev, field)
    return ev
