"""The classifier's data: what goes in (segments of a call) and what comes out.

Plain frozen dataclasses so that the core stays pure and results can be cached,
compared in tests and serialised by the shells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["customer", "agent", "note", "context"]
SOURCES: tuple[Source, ...] = ("customer", "agent", "note", "context")

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


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a category was chosen: which rule matched which words, and where."""

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
    """The decision for a whole call so far. `labels[0] == category`; `none` stands alone."""

    category: str
    labels: tuple[str, ...]
    evidence: tuple[Evidence, ...] = field(default=())

    @staticmethod
    def empty() -> Classification:
        return Classification(NONE, (NONE,), ())


@dataclass(frozen=True, slots=True)
class ForbiddenHit:
    """A forbidden phrase found in something the agent said or wrote to the customer.

    `span` indexes the original (un-normalised) text, so the sidebar can highlight it.
    """

    rule: str
    phrase: str
    span: tuple[int, int]
    alternative: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "phrase": self.phrase,
            "span": list(self.span),
            "alternative": self.alternative,
        }
