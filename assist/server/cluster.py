"""What one instance tells the other instances that share its database (docs/operations.md, "Several
instances on one PostgreSQL").

An instance does its own part of a change at once (its sidebars, its leaders) and then publishes a short
notice — a topic and a few ids — so the others do theirs: a pack published or rolled back, a fault declared,
an escalation or a live call changed, a token revoked. A notice carries references, not state: the receiver
reads what it needs from the shared database, so a notice that arrives twice, late or out of order does no
harm, and one that was lost (the listening connection dropped) is made good by `RESYNC`, which every
receiver handles by reading the state again.

`Bus` is the single-instance bus (SQLite, or one instance on PostgreSQL with nobody listening): nobody else
to tell. `PgBus` is PostgreSQL's `LISTEN`/`NOTIFY` — no extra server. Handlers are per instance (`on`),
never module-level.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from assist.config import is_postgres

log = logging.getLogger("assist.cluster")

Handler = Callable[[Mapping[str, Any]], Awaitable[None]]

CHANNEL = "assist_cluster"
"""The PostgreSQL notification channel's prefix. Channels are per database, so the schema the service's
tables live in is appended: instances on one schema hear each other, a test's schema hears only itself."""
RESYNC = "resync"
"""The topic a bus raises itself when notices may have been missed (it reconnected): read the state again."""
MAX_PAYLOAD = 7_900
"""PostgreSQL refuses a notification payload of 8,000 bytes or more; a notice names ids, never contents."""


def instance_name() -> str:
    """This process's name in notices (host, pid and a random part: a restarted process is another one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Bus:
    """The bus of an instance alone: `publish` tells nobody. The base of `PgBus`, which does."""

    def __init__(self, instance: str | None = None) -> None:
        self.instance = instance or instance_name()
        self.handlers: dict[str, list[Handler]] = {}
        self.received = 0
        """Notices from other instances handed to handlers (metrics, tests)."""

    @property
    def shared(self) -> bool:
        """Whether other instances may be listening (a caller can skip building a notice when not)."""
        return False

    def on(self, topic: str, handler: Handler) -> None:
        """Run `handler(payload)` for each notice on `topic` from another instance (and for `RESYNC`)."""
        self.handlers.setdefault(topic, []).append(handler)

    async def publish(self, topic: str, payload: Mapping[str, Any] | None = None) -> None:
        """Tell the other instances. Call it after the change is committed: they read it from the database."""

    async def start(self) -> None:
        """Begin listening."""

    async def close(self) -> None:
        """Stop listening."""

    def encode(self, topic: str, payload: Mapping[str, Any] | None) -> str:
        text = msgspec.json.encode({"from": self.instance, "topic": topic, "data": dict(payload or {})}).decode()
        if len(text.encode()) > MAX_PAYLOAD:
            raise ValueError(f"cluster notice {topic!r} is {len(text.encode())} bytes (at most {MAX_PAYLOAD})")
        return text

    async def dispatch(self, text: str) -> None:
        """Run the handlers of one received notice; ours (echoed back by PostgreSQL) and malformed ones are
        skipped. A failing handler is logged and does not stop the others."""
        try:
            notice = msgspec.json.decode(text)
            origin, topic, data = notice["from"], notice["topic"], notice["data"]
        except (msgspec.DecodeError, KeyError, TypeError):
            log.warning("cluster: ignored a malformed notice (%d bytes)", len(text))
            return
        if origin == self.instance or not isinstance(topic, str) or not isinstance(data, dict):
            return
        self.received += 1
        await self.run(topic, data)

    async def run(self, topic: str, data: Mapping[str, Any]) -> None:
        for handler in self.handlers.get(topic, ()):
            try:
                await handler(data)
            except Exception:
                log.exception("cluster: the handler of %r failed", topic)


class PgBus(Bus):
    """`LISTEN`/`NOTIFY` on the shared PostgreSQL database: one connection listens, another sends."""

    def __init__(self, url: str, instance: str | None = None, *, retry: float = 1.0) -> None:
        super().__init__(instance)
        self.url = url
        self.retry = retry
        self.channel = ""
        """`CHANNEL` and the schema of the service's tables, found by the first connection."""
        self._send: Any = None
        self._send_lock = asyncio.Lock()
        self._listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        """Set while the listening connection is up (a test waits on it before it publishes elsewhere)."""

    @property
    def shared(self) -> bool:
        return True

    async def start(self) -> None:
        import psycopg

        self._psycopg = psycopg
        connected = asyncio.get_running_loop().create_future()
        self._listener = asyncio.create_task(self._listen(connected), name="cluster-listen")
        await connected  # the first connection's error (a wrong URL) surfaces at start, as the store's does

    async def _listen(self, connected: asyncio.Future[None]) -> None:
        first = True
        while True:
            try:
                conn = await self._psycopg.AsyncConnection.connect(self.url, autocommit=True)
            except Exception as exc:
                if first:
                    connected.set_exception(exc)
                    return
                log.warning("cluster: cannot listen (%s); retrying in %g s", type(exc).__name__, self.retry)
                await asyncio.sleep(self.retry)
                continue
            try:
                if self.channel == "":
                    self.channel = await channel_of(conn)
                await conn.execute(f'LISTEN "{self.channel}"')
                self.listening.set()
                if first:
                    connected.set_result(None)
                else:  # notices sent while we were not listening are lost: every receiver reads its state again
                    log.info("cluster: listening again; resynchronising")
                    await self.run(RESYNC, {})
                first = False
                async for notify in conn.notifies():
                    await self.dispatch(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cluster: the listening connection failed (%s); reconnecting", type(exc).__name__)
            finally:
                self.listening.clear()
                await conn.close()
            await asyncio.sleep(self.retry)

    async def publish(self, topic: str, payload: Mapping[str, Any] | None = None) -> None:
        """Send one notice. A failure is logged, not raised: the change is committed, and the others catch up
        when they resynchronise."""
        text = self.encode(topic, payload)
        async with self._send_lock:
            for attempt in (1, 2):
                try:
                    if self._send is None or self._send.closed:
                        self._send = await self._psycopg.AsyncConnection.connect(self.url, autocommit=True)
                    await self._send.execute("SELECT pg_notify(%s, %s)", (self.channel, text))
                    return
                except Exception as exc:
                    self._send = None
                    if attempt == 2:
                        log.warning("cluster: could not send %r (%s)", topic, type(exc).__name__)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        if self._send is not None:
            await self._send.close()
            self._send = None


async def channel_of(conn: Any) -> str:
    """The channel for the schema `conn`'s tables are in (`search_path`'s first), within PostgreSQL's 63
    characters of an identifier."""
    cur = await conn.execute("SELECT current_schema()")
    row = await cur.fetchone()
    schema = str(row[0] if row and row[0] else "public")
    return f"{CHANNEL}_{schema}".replace('"', "")[:63]


async def open_bus(db: Path | str) -> Bus:
    """The bus for the `db` setting: `PgBus` for a PostgreSQL URL, listening when this returns; else `Bus`."""
    bus: Bus = PgBus(str(db)) if is_postgres(db) else Bus()
    await bus.start()
    return bus
