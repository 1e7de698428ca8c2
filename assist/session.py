"""One connection's state: unauthenticated -> ready -> closed, id order, role checks, and the agent's own
space of call ids.

Sans-I/O: the websocket shell feeds decoded messages in and gets typed commands
(or errors) out; it owns the socket, the auth deadline and the send queue.

Call ids are the softphone's, and no agent can take or burn another agent's: when the id an agent names
belongs to a call of another agent (live or ended), the agent's call is kept under the key
`<agent>/<call_id>` instead (the shell decides, `Hub.call_key`; an id with a slash is always kept so, which
reserves those keys). What the agent is sent shows its ids as it sent them (`Session.outgoing`); leaders,
supervisors and the store see the key.
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


MAX_KEYS = 256
"""Call ids whose key one connection remembers (an agent holds at most `max_calls_per_agent` live calls)."""
SCOPED_ROLES = frozenset({"agent"})
"""Roles whose call ids are their own (an admin names any call by its key, as a leader does)."""


def scope_prefix(user: str) -> str:
    """What an agent's call id is prefixed with where another agent has it: the user id (percent-encoded, so
    no user's prefix can be the start of another's) and a slash."""
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
    keys: dict[str, str] = field(default_factory=dict)
    """The key of each call id this agent named (most recent last, at most `MAX_KEYS`)."""

    def remember_key(self, call_id: str, key: str) -> None:
        self.keys.pop(call_id, None)
        self.keys[call_id] = key
        while len(self.keys) > MAX_KEYS:
            del self.keys[next(iter(self.keys))]

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
        return cmd
