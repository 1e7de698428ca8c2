"""One connection's state: unauthenticated -> ready -> closed, id order, role checks, and the agent's own
space of call ids.

Sans-I/O: the websocket shell feeds decoded messages in and gets typed commands
(or errors) out; it owns the socket, the auth deadline and the send queue.

Call ids are the softphone's, and an agent can only name its own: an agent's `call_id` is kept as
`<agent>/<call_id>` (`scoped`) from the moment it is read, so another agent starting the same id starts
another call — nobody can take or burn an id another agent's softphone will use (issue 14). What the agent
is sent shows its ids as it sent them (`Session.outgoing`); leaders, supervisors and the store see the
scoped key, which names the agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from assist import messages, protocol
from assist.errors import AuthRequired, IdReuse, Unauthorized


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is on the other end of a connection."""

    user: str
    role: str
    lang: str


SCOPED_ROLES = frozenset({"agent"})
"""Roles whose call ids are their own (an admin names any call by its key, as a leader does)."""


def scope_prefix(user: str) -> str:
    """What an agent's call ids are prefixed with: the user id (percent-encoded, so no user's prefix can be
    the start of another's) and a slash."""
    return quote(user, safe="") + "/"


def unscoped(message: Any, prefix: str, depth: int = 0) -> Any:
    """`message` with every `call_id` that starts with `prefix` shown without it (a copy where one changed)."""
    if depth > 8:
        return message
    if isinstance(message, dict):
        out = None
        for k, v in message.items():
            if k == "call_id" and isinstance(v, str) and v.startswith(prefix):
                new: Any = v[len(prefix) :]
            elif isinstance(v, (dict, list)):
                new = unscoped(v, prefix, depth + 1)
            elif k == "message" and isinstance(v, str) and prefix in v:  # an error naming the call
                new = v.replace(prefix, "")
            else:
                continue
            if new is not v:
                out = dict(message) if out is None else out
                out[k] = new
        return message if out is None else out
    if isinstance(message, list):
        items = [unscoped(v, prefix, depth + 1) for v in message]
        return message if all(a is b for a, b in zip(items, message, strict=True)) else items
    return message


@dataclass
class Session:
    """`commands` is the instance's command table: what may be parsed and who may send it."""

    commands: protocol.CommandTable
    principal: Principal | None = None
    last_id: int = 0
    calls: set[str] = field(default_factory=set)
    prefix: str = ""
    """An agent's call-id prefix (`scope_prefix`); empty for the roles that name calls by their key."""

    @property
    def ready(self) -> bool:
        return self.principal is not None

    def authenticate(self, principal: Principal) -> dict[str, Any]:
        self.principal = principal
        self.prefix = scope_prefix(principal.user) if principal.role in SCOPED_ROLES else ""
        return messages.auth_ok(principal.user, principal.role, principal.lang)

    def outgoing(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message as this connection is shown it: an agent sees its own call ids as it sent them."""
        return unscoped(message, self.prefix) if self.prefix else message

    def accept(self, data: dict[str, Any]) -> protocol.Command:
        """Validate one decoded message of a ready connection into a command it may run."""
        cid = protocol.command_id(data)
        if self.principal is None:
            raise AuthRequired("authenticate first")
        if cid <= self.last_id:
            raise IdReuse(f"id {cid} is not greater than the previous id {self.last_id}")
        self.last_id = cid
        cmd = self.commands.parse(data)
        cmd.id = cid
        type_ = data["type"]
        if not self.commands.allows(type_, self.principal.role):
            raise Unauthorized(f"role {self.principal.role!r} may not use {type_!r}")
        if self.prefix:
            call_id = getattr(cmd, "call_id", None)
            if isinstance(call_id, str):
                cmd.call_id = self.prefix + call_id  # type: ignore[attr-defined]
        return cmd
