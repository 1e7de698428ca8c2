"""A real local SMTP server (aiosmtpd) on an ephemeral port, in the test's own event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class SmtpServer:
    refuse_first: int = 0
    """Answer this many messages with 451 (try again later) before accepting."""
    refuse_code: str = "451 4.3.0 Mail server temporarily unavailable"
    attempts: int = 0
    messages: list[Message] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.attempts <= self.refuse_first:
            return self.refuse_code
        content: Any = envelope.original_content or envelope.content
        mail = message_from_bytes(
            content if isinstance(content, bytes) else str(content).encode(), policy=policy.default
        )
        mail["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(mail)
        self.arrived.set()
        return "250 OK"

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async def loop() -> None:
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(loop(), timeout)

    async def start(self) -> SmtpServer:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: SMTP(self, hostname="localhost"), "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
