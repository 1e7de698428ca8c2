"""A real local HTTP receiver standing in for the webhook endpoints and the SMS gateway."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from assist.server.routing.notifiers import sign


@dataclass
class Receiver:
    secret: str = ""
    fail_first: dict[str, int] = field(default_factory=dict)
    """path -> how many requests to answer 503 before accepting."""
    received: list[dict[str, Any]] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    port: int = 0
    runner: web.AppRunner | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    hold: dict[str, asyncio.Event] = field(default_factory=dict)
    """path -> an event: requests to that path are held (unanswered) until it is set."""
    holding: dict[str, int] = field(default_factory=dict)
    """path -> how many requests are being held there right now."""

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.attempts[request.path] += 1
        gate = self.hold.get(request.path)
        if gate is not None and not gate.is_set():
            self.holding[request.path] = self.holding.get(request.path, 0) + 1
            self.arrived.set()
            await gate.wait()
            self.holding[request.path] -= 1
        if self.fail_first.get(request.path, 0) >= self.attempts[request.path]:
            return web.Response(status=503, text="try later")
        if self.secret and request.headers.get("X-Assist-Signature") != sign(self.secret, body):
            return web.Response(status=401, text="bad signature")
        self.received.append({"path": request.path, "key": request.headers.get("Idempotency-Key"), **json.loads(body)})
        self.arrived.set()
        return web.Response(text="ok")

    def delivered(self, path: str | None = None) -> Counter[str]:
        return Counter(str(r["key"]) for r in self.received if path is None or r["path"] == path)

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        async def loop() -> None:
            while not predicate():
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(loop(), timeout)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        assert self.runner.addresses
        self.port = self.runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
