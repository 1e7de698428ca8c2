"""The websocket commands of agent feedback (documented in docs/protocol.md §7)."""

from __future__ import annotations

from assist.protocol import Command


class FeedbackGet(Command):
    """The categories an agent may pick, and the feedback already given on the call."""

    call_id: str


class FeedbackCategory(Command):
    """"The category is wrong; it is this one." Sent again while open, it changes the correction."""

    call_id: str
    category: str
    comment: str = ""


class FeedbackWarning(Command):
    """"This warning is wrong": the warning pushed for transcript line `index` by forbidden rule `rule`."""

    call_id: str
    index: int
    rule: str
    comment: str = ""


AGENT_ROLES = frozenset({"agent", "admin"})

COMMANDS: dict[str, tuple[type[Command], frozenset[str]]] = {
    "feedback.get": (FeedbackGet, AGENT_ROLES),
    "feedback.category": (FeedbackCategory, AGENT_ROLES),
    "feedback.warning": (FeedbackWarning, AGENT_ROLES),
}
"""type -> (command class, roles allowed)."""
