"""The websocket commands of agent feedback (documented in docs/protocol.md §7)."""

from __future__ import annotations

from assist.protocol import AGENT_ROLES, Command, CommandSpec


class FeedbackGet(Command):
    """The categories an agent may pick, and the feedback already given on the call."""

    call_id: str


class FeedbackCategory(Command):
    """ "The category is wrong; it is this one." Sent again while open, it changes the correction."""

    call_id: str
    category: str
    comment: str = ""


class FeedbackWarning(Command):
    """ "This warning is wrong": the warning pushed for transcript line `index` by forbidden rule `rule`."""

    call_id: str
    index: int
    rule: str
    comment: str = ""


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("feedback.get", FeedbackGet, AGENT_ROLES),
    CommandSpec("feedback.category", FeedbackCategory, AGENT_ROLES),
    CommandSpec("feedback.warning", FeedbackWarning, AGENT_ROLES),
)
"""Each command: its type, struct and the roles allowed; the app adds them to the instance's table."""
