"""One connection's state: unauthenticated -> ready -> closed, id order, role checks.

Sans-I/O: the websocket shell feeds decoded messages in and gets typed commands
(or errors) out; it owns the socket, the auth deadline and the send queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assist import messages, protocol
from assist.errors import AuthRequired, IdReuse, Unauthorized


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is on the other end of a connection."""

    user: str
    role: str
    lang: str


@dataclass
class Session:
    """`commands` is the instance's command table: what may be parsed and who may send it."""

    commands: protocol.CommandTable
    principal: Principal | None = None
    last_id: int = 0
    calls: set[str] = field(default_factory=set)

    @property
    def ready(self) -> bool:
        return self.principal is not None

    def authenticate(self, principal: Principal) -> dict[str, Any]:
        self.principal = principal
        return messages.auth_ok(principal.user, principal.role, principal.lang)

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
