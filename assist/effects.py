"""What the pure core asks the shells to do: rows to store, messages to push, one reply.

The call desk and the routing core both return these; the websocket shell and the store
carry them out (store first, then reply, then pushes), so neither core imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Write:
    """One row for the store: `table` names what it is (see store.py)."""

    table: str
    row: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Push:
    """A message for every connection that shows `call_id` (the agent's, and viewers via call.get)."""

    call_id: str
    message: dict[str, Any]


@dataclass
class Outcome:
    """The result of one command: the reply's payload, the rows to commit first, the pushes after."""

    reply: dict[str, Any] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
