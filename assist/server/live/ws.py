"""The websocket shell: sockets in, `Session`/`Desk` in the middle, store and sockets out.

It owns what the core must not: the auth deadline, frame sizes, the per-connection
send queue (a slow client is cut off rather than slowing everyone), and the order
"push, then commit, then reply": the prompt never waits for the disk, the acknowledgement does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import msgspec
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from assist import messages, protocol
from assist.config import Settings
from assist.effects import Outcome, Push, Write
from assist.errors import AssistError, Conflict, InvalidFormat, MessageTooLarge, TooManyCalls
from assist.live.desk import Desk
from assist.scripts.pack import Pack
from assist.server.cluster import RESYNC, Bus
from assist.server.ops import logs
from assist.server.ops.metrics import Metrics
from assist.server.store import Store, token_hash
from assist.session import Principal, Session

log = logging.getLogger(__name__)

SERVICE_RESTART = 1012
"""Close code of a drain (RFC 6455 "service restart"): reconnect soon, to any instance."""
RESTART_REASON = "service restart: reconnect"
GOING_AWAY = 1001

PUBLISH_SLICE = 250
"""Live calls re-decided between two turns of the event loop when a pack is put in force (`Hub.use_pack`)."""
PUBLISH_DRAIN_WAIT = 2.0
"""Seconds a new pack's first updates are given to leave before every live call is re-decided under it."""
HARD_FRAME_FACTOR = 4
"""Frames up to this multiple of the limit get a `message_too_large` reply; bigger ones close the socket."""
TOKENS = "tokens"
"""Cluster topic: tokens were revoked; every instance checks its connections' tokens at once."""
CALLS = "calls"
"""Cluster topic: what the leader list shows of these live calls changed on the instance that holds them
(started, labels, context, ended; `server/leader/live.py`). Payload `{"ids": [call ids]}`."""
ORPHAN_FACTOR = 2
"""On a shared database a live call nobody has touched for this many `call_idle_timeout`s is taken by one
instance (the one whose claim wins, `Store.adopt`) and ended as abandoned (its instance died and its softphone
never came back); the instance that holds a call ends it after one timeout, so a held call is never taken."""


def frame_bytes(frame: str | bytes, limit: int) -> int:
    """Size on the wire; text frames are only encoded when they could be over the limit."""
    if isinstance(frame, bytes) or len(frame) * 4 <= limit:
        return len(frame)
    return len(frame.encode())


def refreeze() -> None:
    """Put the new pack's automata and model (long-lived, many objects) out of the collector's way.

    Everything alive now is frozen with it, live connections and calls included; once they end, their
    reference cycles could only be freed by a full collection over unfrozen objects, so the previous
    freeze is undone and one full collection runs first — one pause per publish, after its pushes
    are out, instead of a leak that grows with every publish."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Connection:
    """One client: its session and its bounded outgoing queue.

    The queue is a deque drained by a pump task that exists only while there is something to
    send: an idle connection holds no task and no asyncio.Queue (idle memory per connection is a
    target, docs/performance.md). It is bounded by count and by bytes: a few big replies left
    unread (a leader's lists) cost as much memory as thousands of small pushes."""

    __slots__ = (
        "__weakref__",
        "_pump",
        "closed",
        "dropped",
        "max_bytes",
        "max_queue",
        "queue",
        "queued_bytes",
        "session",
        "token_hash",
        "ws",
    )

    def __init__(
        self,
        ws: ServerConnection,
        max_queue: int,
        commands: protocol.CommandTable,
        dropped: Callable[[int], None] | None = None,
        max_bytes: int = 4 * 2**20,
    ) -> None:
        self.ws = ws
        self.dropped = dropped
        """Told how many queued messages were dropped when the client is cut off as too slow (metrics)."""
        self.session = Session(commands)
        self.max_queue = max_queue
        self.max_bytes = max_bytes
        self.queue: deque[bytes] = deque()
        """Encoded messages not yet handed to the socket (sent as text frames)."""
        self.queued_bytes = 0
        self.closed = False
        self.token_hash = ""
        self._pump: asyncio.Task[None] | None = None

    def send(self, message: dict[str, Any]) -> None:
        if not self.closed:
            self._queue(messages.encode(self.session.outgoing(message)).encode())

    def send_text(self, text: str | bytes) -> None:
        """Queue a message encoded for every watcher of a call (`Hub.deliver`); an agent's own call ids in
        it are shown as the agent sent them (`Session.outgoing`)."""
        if self.closed:
            return
        data = text.encode() if isinstance(text, str) else text
        prefix = self.session.prefix
        if prefix and b'"' + prefix.encode() in data:
            data = messages.encode(self.session.outgoing(msgspec.json.decode(data))).encode()
        self._queue(data)

    def _queue(self, data: bytes) -> None:
        """Queue an encoded message (a push is encoded once for all its watchers).

        A client that leaves `max_queue` messages or `max_bytes` bytes unread is cut off (1013) and what
        waited for it is dropped; one message over `max_bytes` still goes to a client with nothing waiting."""
        if self.closed:
            return
        if len(self.queue) >= self.max_queue or (self.queue and self.queued_bytes + len(data) > self.max_bytes):
            log.warning(
                "ws: client %s too slow (%d messages, %d KiB unsent), disconnecting",
                self.ws.remote_address,
                len(self.queue),
                self.queued_bytes // 1024,
            )
            if self.dropped is not None:
                self.dropped(len(self.queue) + 1)
            self.close_soon(1013, "client too slow")
            return
        self.queue.append(data)
        self.queued_bytes += len(data)
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._drain())

    def close_soon(self, code: int, reason: str) -> None:
        self.closed = True
        self._clear()
        asyncio.get_running_loop().create_task(self.ws.close(code, reason))

    def _clear(self) -> None:
        self.queue.clear()
        self.queued_bytes = 0

    async def _drain(self) -> None:
        try:
            while self.queue and not self.closed:
                data = self.queue.popleft()
                self.queued_bytes -= len(data)
                await self.ws.send(data, text=True)
        except (ConnectionClosed, asyncio.CancelledError):
            self._clear()
        finally:
            self._pump = None

    def stop(self) -> None:
        """The connection is gone: drop what was queued and stop sending."""
        self.closed = True
        self._clear()
        if self._pump is not None:
            self._pump.cancel()


Handler = Callable[[Connection, Any, float], Awaitable[None]]
"""Runs one accepted command of a connection at time `now`; it replies (and pushes) itself."""


class Hub:
    """Every connection, which one watches which call, and the instance's command table: each command's
    struct, roles and handler, added by the live desk here and by each feature's service at start."""

    def __init__(self, settings: Settings, desk: Desk, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.desk = desk
        self.store = store
        self.clock = clock
        self.watchers: dict[str, set[Connection]] = {}
        """Per call, every connection that shows it: the agent's (call.start) and viewers (call.get)."""
        self.connections: set[Connection] = set()
        self.directory_numbers: tuple[str, ...] = ()
        self.freeze_after_publish = False
        """`gc.freeze()` once a new pack is in force (`assist serve` turns it on; see docs/performance.md)."""
        self.call_observers: list[Callable[[str], None]] = []
        """Told the call id of every push `deliver` hands out (the leader's live-call list, `server/leader/live.py`)."""
        self.committed_observers: list[Callable[[Sequence[Push]], None]] = []
        """Told the pushes of an outcome once the writes that went with them are committed (what other instances
        are told of: they read the store)."""
        self.resume_observers: list[Callable[[Connection, str], None]] = []
        """Told when a connection resumes a live call (a reloaded sidebar, a reconnect): routing tells it the
        call's escalations, which that page has not seen."""
        self.bus: Bus = Bus()
        """What this instance tells the others sharing its database, and hears from them (`server/cluster.py`;
        `app.start` gives it the PostgreSQL bus when the database is shared)."""
        self._revoked_seen: set[str] = set()
        """Token hashes the last minute's check found revoked (`close_revoked`)."""
        self.metrics = Metrics()
        """This instance's instruments, read by `/metrics` (docs/operations.md)."""
        self.commands = protocol.CommandTable()
        self.handlers: dict[type[protocol.Command], Handler] = {}
        self.add_commands(protocol.LIVE_COMMANDS, {spec.cls: self._live for spec in protocol.LIVE_COMMANDS})
        self.draining = False
        """A drain has begun (`drain`): frames read from now on are not run."""
        self.in_command: dict[Connection, asyncio.Task[Any]] = {}
        """Connections whose command is being run, with the task running it; a drain closes each once its
        reply is out."""
        self._command_done = asyncio.Event()
        self.forgotten: set[str] = set()
        """Live calls dropped from memory because a commit of theirs failed (the database was unreachable):
        the next command for one of them takes it back from the store first."""

    def add_commands(
        self, specs: Sequence[protocol.CommandSpec], handlers: Mapping[type[protocol.Command], Handler]
    ) -> None:
        """Accept a feature's commands on this instance, each with its handler."""
        missing = [s.name for s in specs if s.cls not in handlers]
        if missing:
            raise ValueError(f"no handler for {', '.join(missing)}")
        self.commands.add(specs)
        for spec in specs:
            self.handlers[spec.cls] = handlers[spec.cls]

    async def use_pack(self, pack: Pack, version: str) -> None:
        """Put a (newly published or rolled-back) pack in force; live sidebars get an update at once,
        and what each call was re-decided to is recorded like any other classification.

        First every sidebar is told of the new pack with its call's labels as they stand (its guidance
        from the new pack's scripts); then, when the pack classifies differently, the first updates are
        given time to leave and every call is rescanned and re-decided under it, and a call whose labels
        that changed is pushed again, as any change of labels is. Labels are sticky (`calls.sticky`: a
        re-decision can add a label or make a general complaint urgent, never drop one), so the first
        update shows nothing the second takes back. Both passes go a slice of calls at a time with a turn
        of the event loop between slices, so notes keep being answered; one commit records the
        re-decisions, after the pushes (the prompt never waits for the disk)."""
        rescan = self.desk.switch_pack(self._with_numbers(pack), version)
        lang_of = self.lang_by_user()
        call_ids = list(self.desk.calls)
        writes: list[Write] = []
        pushed: list[Push] = []
        for redecide in (False, True) if rescan else (False,):
            if redecide:
                await self._sent(PUBLISH_DRAIN_WAIT)
            for i in range(0, len(call_ids), PUBLISH_SLICE):
                outcome = self.desk.redecide(
                    call_ids[i : i + PUBLISH_SLICE], lang_of, self.clock(), rescan=redecide, push_all=not redecide
                )
                self.deliver(outcome.pushes)
                writes.extend(outcome.writes)
                pushed.extend(outcome.pushes)
                await asyncio.sleep(0)
        try:
            await self.commit(Outcome(writes=writes, pushes=pushed))
        except Exception:
            log.exception("ws: could not record the re-classification under pack %s", version)
        if self.freeze_after_publish:
            refreeze()

    async def _sent(self, limit: float) -> None:
        """Wait until every connection's queue is empty, `limit` seconds at most: a new pack's first updates
        leave before the re-decision takes the CPU (each send queue moves one message per loop turn)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and any(c.queue for c in self.connections):
            await asyncio.sleep(0.005)

    def set_internal_numbers(self, numbers: Iterable[str]) -> None:
        """The contact directory's internal numbers, checked in agent lines besides the pack's own."""
        self.directory_numbers = tuple(numbers)
        self.desk.pack = self._with_numbers(self.desk.pack)

    def _with_numbers(self, pack: Pack) -> Pack:
        numbers = [c.number for c in pack.internal_contacts] + list(self.directory_numbers)
        return dataclasses.replace(pack, forbidden=pack.forbidden.with_internal_numbers(numbers))

    def lang_by_user(self) -> dict[str, str]:
        return {
            c.session.principal.user: c.session.principal.lang
            for c in self.connections
            if c.session.principal is not None
        }

    def deliver(self, pushes: list[Push]) -> None:
        """Send each push to every connection that shows its call, encoded once for all of them."""
        for push in pushes:
            for observe in self.call_observers:
                observe(push.call_id)
            watching = self.watchers.get(push.call_id)
            if watching:
                text = messages.encode(push.message).encode()
                for conn in watching:
                    conn.send_text(text)
            if push.message.get("type") == "call.ended":
                self.watchers.pop(push.call_id, None)

    async def handler(self, ws: ServerConnection) -> None:
        conn = Connection(
            ws, self.settings.max_queue, self.commands, self.metrics.push_dropped, self.settings.max_queue_bytes
        )
        if not await self._authenticate(conn):
            return
        self.connections.add(conn)
        task = asyncio.current_task()
        assert task is not None
        try:
            async for frame in ws:
                if self.draining:
                    continue  # never run, never answered: the client sends it again after reconnecting
                self.in_command[conn] = task
                try:
                    await self.receive(conn, frame)
                finally:
                    del self.in_command[conn]
                    if self.draining:
                        self._command_done.set()
        except ConnectionClosed:
            pass
        finally:
            self.connections.discard(conn)
            for call_id in list(conn.session.calls):
                watching = self.watchers.get(call_id)
                if watching is not None:
                    watching.discard(conn)
                    if not watching:
                        del self.watchers[call_id]
            conn.stop()

    async def _authenticate(self, conn: Connection) -> bool:
        ws = conn.ws
        try:
            async with asyncio.timeout(self.settings.auth_timeout):
                frame = await ws.recv()
        except TimeoutError:
            await self._refuse(ws, 'authentication timed out: send {"type": "auth", "token": …} first')
            return False
        except ConnectionClosed:
            return False
        try:
            if frame_bytes(frame, self.settings.max_message_bytes) > self.settings.max_message_bytes:
                raise MessageTooLarge("auth message too large")
            auth = protocol.parse_auth(protocol.decode_frame(frame))
        except AssistError as exc:
            await self._refuse(ws, exc.message)
            return False
        found = await self.store.lookup_token(auth.token)
        conn.token_hash = token_hash(auth.token)
        if found is None:
            await self._refuse(ws, "invalid or revoked token")
            return False
        user, role = found
        lang = auth.lang if auth.lang in ("zh-CN", "en") else self.settings.language
        reply = conn.session.authenticate(Principal(user, role, lang))
        with contextlib.suppress(ConnectionClosed):
            await ws.send(messages.encode(reply))
        return True

    async def _refuse(self, ws: ServerConnection, message: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(messages.encode(messages.auth_invalid(message)))
            await ws.close(4001, "auth failed")

    async def receive(self, conn: Connection, frame: str | bytes) -> None:
        if conn.closed:  # cut off as too slow (1013 on its way): what it sent meanwhile is dropped, not worked on
            return
        cid: int | None = None
        try:
            size = frame_bytes(frame, self.settings.max_message_bytes)
            if size > self.settings.max_message_bytes:
                cid = protocol.frame_id(frame)
                raise MessageTooLarge(f"message of {size} bytes is over the limit of {self.settings.max_message_bytes}")
            data = protocol.decode_frame(frame)
            call_id = data.get("call_id")
            logs.bind_call(call_id if isinstance(call_id, str) else None)
            raw_id = data.get("id")
            cid = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
            if data.get("type") == "auth":
                raise InvalidFormat("already authenticated")
            cmd = conn.session.accept(data)
            if conn.session.prefix and isinstance(getattr(cmd, "call_id", None), str):
                cmd.call_id = await self.call_key(conn.session, cmd.call_id)  # type: ignore[attr-defined]
            await self.handlers[type(cmd)](conn, cmd, self.clock())
        except AssistError as exc:
            conn.send(messages.error(cid, exc.to_json()))
        except Exception:
            log.exception("ws: unexpected error")
            conn.send(messages.error(cid, {"code": "internal_error", "message": "internal error; logged"}))

    async def call_key(self, session: Session, call_id: str) -> str:
        """The key an agent's `call_id` names: the id itself, unless a call of another agent (live here, or
        live or ended in the store) has it — then `<agent>/<call_id>`, so nobody can take or burn the ids
        another agent's softphone will use (issue 14). An id with a slash is always prefixed: the keys with
        one are the prefixed ones. Remembered per connection; the same answer every time for the same store."""
        key = session.keys.get(call_id)
        if key is None:
            assert session.principal is not None
            user = session.principal.user
            if "/" in call_id:
                key = session.prefix + call_id
            else:
                live = self.desk.calls.get(call_id)
                owner = live.user if live is not None else await self.store.call_owner(call_id)
                if owner is None:  # nobody's yet: asked again next time (another agent may start it first)
                    return call_id
                key = call_id if owner == user else session.prefix + call_id
            session.remember_key(call_id, key)
        return key

    async def _live(self, conn: Connection, cmd: protocol.Command, now: float) -> None:
        """A live-call command: the desk decides, the pushes go out at once (the prompt never waits for
        the disk), the store commits, and only then the reply acknowledges the command."""
        principal = conn.session.principal
        assert principal is not None
        call_id = getattr(cmd, "call_id", None)
        if isinstance(cmd, protocol.CallStart) and cmd.call_id not in self.desk.calls:
            await self._restore(cmd.call_id, principal)
            if cmd.call_id not in self.desk.calls:
                self._check_call_cap(principal)
        elif isinstance(call_id, str) and call_id in self.forgotten:
            self.forgotten.discard(call_id)
            if call_id not in self.desk.calls:  # as it was stored, before the commit that failed
                await self._restore(call_id, principal)
        elif isinstance(cmd, protocol.CallGet) and cmd.call_id not in self.desk.calls and self.bus.shared:
            await self._view_elsewhere(conn, cmd, principal)
            return
        started = time.perf_counter()
        outcome = self.desk.handle(principal, cmd, now)
        self.metrics.classified(time.perf_counter() - started)
        if isinstance(cmd, (protocol.CallStart, protocol.CallGet)) and call_id:
            self.watchers.setdefault(call_id, set()).add(conn)
            conn.session.calls.add(call_id)
        self.deliver(outcome.pushes)
        try:
            await self.commit(outcome)
        except Exception:
            # Not durable, so not acknowledged: forget the in-memory change too. The call is
            # rebuilt from what the store has with its next command (or call.start).
            if isinstance(call_id, str) and self.desk.forget(call_id) is not None:
                self.forgotten.add(call_id)
            raise
        conn.send(messages.result(cmd.id, outcome.reply))
        if isinstance(cmd, protocol.CallStart) and outcome.reply.get("resumed"):
            for told in self.resume_observers:
                told(conn, cmd.call_id)
        if isinstance(cmd, (protocol.CallNote, protocol.CallTranscript)):
            self.metrics.note_handled(time.perf_counter() - started)

    async def _view_elsewhere(self, conn: Connection, cmd: protocol.CallGet, principal: Principal) -> None:
        """`call.get` of a live call this instance does not hold, on a shared database: another instance holds it,
        so the answer is the call as stored (everything acknowledged), and this connection watches it from here:
        `tell_viewers` sends it what the holder changes. The watch is set before the read, so a change told
        meanwhile is not missed."""
        watching = self.watchers.setdefault(cmd.call_id, set())
        watching.add(conn)
        try:
            call = self.desk.view(principal, cmd.call_id, await self.store.live_call(cmd.call_id))
        except Exception:
            watching.discard(conn)
            if not watching:
                self.watchers.pop(cmd.call_id, None)
            raise
        conn.session.calls.add(cmd.call_id)
        conn.send(messages.result(cmd.id, {"update": self.desk.update_message(call, principal.lang)}))

    async def tell_viewers(self, call_ids: Iterable[str]) -> None:
        """Connections here that show calls another instance holds (`call.get`) get what changed there (the
        holder's `calls` notice): the call as now stored, or `call.ended`."""
        for call_id in call_ids:
            if not self.watchers.get(call_id) or call_id in self.desk.calls:
                continue
            stored = await self.store.live_call(call_id)
            watching = list(self.watchers.get(call_id, ()))
            if stored is None:
                self.watchers.pop(call_id, None)
                for conn in watching:
                    conn.send(messages.call_ended(call_id))
                continue
            meta, events = stored
            call = self.desk.rebuild(call_id, meta["user"], meta["context"], events, 0.0)
            for conn in watching:
                lang = conn.session.principal.lang if conn.session.principal is not None else ""
                conn.send(self.desk.update_message(call, lang))

    def _check_call_cap(self, principal: Principal) -> None:
        """A new call of a user who already holds `max_calls_per_agent` live calls is refused: one agent
        (or a script with an agent's token) cannot fill the service with calls and their contexts."""
        cap = self.settings.max_calls_per_agent
        held = self.desk.held_by(principal.user)
        if held >= cap:
            raise TooManyCalls(
                f"{principal.user} already has {held} live calls (at most {cap}); "
                "end one (call.end) before starting another",
                limit=cap,
            )

    async def commit(self, outcome: Outcome) -> None:
        """Commit the outcome's writes; then show its pushes to `committed_observers`."""
        await self.store.write(outcome.writes)
        if outcome.pushes:
            for told in self.committed_observers:
                told(outcome.pushes)

    # -- the other instances on the same database (server/cluster.py) -----------------------------------

    def listen(self) -> None:
        """Hear the other instances: a revocation closes this instance's connections with the token at once
        (the minute's poll stays as the safety net, and a resync checks too); a call another instance now
        holds is let go here, and its viewers here are told what changed there."""

        async def check_tokens(_: Mapping[str, Any]) -> None:
            await self.close_revoked("told by the cluster bus")

        async def calls_elsewhere(data: Mapping[str, Any]) -> None:
            ids = notice_ids(data)
            self.let_go(ids)
            await self.tell_viewers(ids)

        self.bus.on(TOKENS, check_tokens)
        self.bus.on(RESYNC, check_tokens)  # notices may have been missed
        self.bus.on(CALLS, calls_elsewhere)

    def let_go(self, call_ids: Iterable[str]) -> list[str]:
        """Forget calls another instance holds now (it told of them: only the holder pushes about a call),
        unless their agent is connected here: otherwise this instance's idle sweep would end a call that
        lives on elsewhere, and its next publish would re-decide it from a stale copy. Those let go."""
        gone = []
        for call_id in call_ids:
            call = self.desk.calls.get(call_id)
            if call is None:
                continue
            watching = self.watchers.get(call_id, set())
            if any(c.session.principal is not None and c.session.principal.user == call.user for c in watching):
                continue
            self.desk.forget(call_id)
            self.desk.fired.pop(call_id, None)
            gone.append(call_id)
        return gone

    async def adopt_orphans(self, now: float) -> int:
        """On a shared database: take the live calls of the store that no instance touched for
        `ORPHAN_FACTOR` × `call_idle_timeout` (their instance died, their softphone never came back), so that
        the idle sweep ends them as abandoned. Each is claimed in the store first: of instances sweeping at once,
        one takes it (and ends it); the claim counts as a touch, so if that end is lost another instance takes
        the call again two timeouts later. A single instance took them all back at its start."""
        if not self.bus.shared:
            return 0
        return await self._take_back(idle_since=now - ORPHAN_FACTOR * self.settings.call_idle_timeout, now=now)

    async def expire_abandoned(self) -> None:
        """Every minute: end calls idle for `call_idle_timeout` (a vanished softphone leaks nothing),
        and close connections whose token was revoked (`assist token revoke`)."""
        while True:
            await asyncio.sleep(min(60.0, self.settings.call_idle_timeout / 4))
            await self.close_revoked()
            await self.sweep(self.clock())

    async def sweep(self, now: float) -> None:
        """One idle sweep at `now`: take the orphans of the shared database (`adopt_orphans`), then end every
        call of this desk idle for `call_idle_timeout` as abandoned."""
        try:
            await self.adopt_orphans(now)
        except Exception:
            log.exception("ws: could not look for calls abandoned by another instance")
        outcome = self.desk.expire(now, self.settings.call_idle_timeout)
        if outcome.writes:
            self.deliver(outcome.pushes)
            try:
                await self.commit(outcome)
            except Exception:
                log.exception("ws: could not record abandoned calls")

    async def restore_live_calls(self) -> int:
        """After a restart, take back every call that was live, so each is resumed or expires as
        abandoned instead of staying 'live' in the store for ever.

        Not on a shared database: the live calls there may be held by another instance, and a copy taken
        now would go stale (a resume here would lose what was said since; the idle sweep would end a call
        that lives on). A resume reads the call from the store (`_restore`); calls whose instance died are
        taken later (`adopt_orphans`)."""
        if self.bus.shared:
            return 0
        return await self._take_back()

    async def _take_back(self, idle_since: float | None = None, now: float = 0.0) -> int:
        """Take the store's live calls this instance does not hold into the desk, each as of its last event;
        how many. With `idle_since` (a shared database), only those silent since then, and only those this
        instance wins the claim of (`Store.adopt`): another instance sweeping at the same time takes the rest."""
        found = [(c, at) for c, at in await self.store.live_call_ids() if c not in self.desk.calls]
        if idle_since is not None:
            idle = [c for c, at in found if at <= idle_since]
            won = set(await self.store.adopt(idle, idle_since, self.bus.instance, now)) if idle else set()
            found = [(c, at) for c, at in found if c in won]
        taken = 0
        for call_id, last_at in found:
            if call_id in self.desk.calls:
                continue
            stored = await self.store.live_call(call_id)
            if stored is None or call_id in self.desk.calls:
                continue
            meta, events = stored
            self.desk.restore(call_id, meta["user"], meta["context"], events, last_at)
            taken += 1
        return taken

    async def close_revoked(self, why: str = "") -> None:
        """Close (4003) the connections whose token was revoked; `why` this check ran is logged with them.

        The minute's check (no `why`) on a shared database is the safety net under the bus's notices: it
        closes what it found revoked at its previous check too, so a notice always comes first (a lost one
        costs two minutes at most)."""
        try:
            revoked = await self.store.revoked(c.token_hash for c in self.connections)
        except Exception:
            log.exception("ws: could not check revoked tokens")
            return
        if not why and self.bus.shared:
            revoked, self._revoked_seen = revoked & self._revoked_seen, revoked
        cut = [c for c in self.connections if c.token_hash in revoked]
        if cut:
            log.info("ws: closing %d connection(s) whose token was revoked (%s)", len(cut), why or "the minute's check")
        for conn in cut:
            conn.closed = True
            await conn.ws.close(4003, "token revoked")

    async def drain(self, reason: str = RESTART_REASON) -> None:
        """Close every connection with 1012 (service restart) so that its client reconnects, to any instance,
        and resumes its call from the store.

        From now on no frame is run; a command already running finishes and its reply (and every push queued
        before it) is sent before the close frame. So a client may rely on this: a command it got no reply
        to before a 1012 close was not run, and it is safe to send it again (`plugin/assist-client.js`)."""
        self.draining = True
        await asyncio.gather(*(self._close_for_restart(conn, reason) for conn in list(self.connections)))

    async def cut_off(self, reason: str = "service stopping") -> None:
        """A drain out of time: close the connections whose command is still running with 1001 (going away:
        it promises nothing about that command, which was not answered and whose writes may or may not be
        committed), then stop those commands."""
        stuck = list(self.in_command.items())
        for conn, _ in stuck:
            conn.closed = True
            asyncio.get_running_loop().create_task(conn.ws.close(GOING_AWAY, reason))
        await asyncio.sleep(0)  # each close task's first step sends its close frame (tasks start in order)
        for _, task in stuck:
            task.cancel()  # its connection closes itself with 1011 on the way out: too late to change the code

    async def _close_for_restart(self, conn: Connection, reason: str) -> None:
        while conn in self.in_command:
            self._command_done.clear()
            await self._command_done.wait()
        while (pump := conn._pump) is not None and not conn.closed:  # the queued replies and pushes go out first
            await asyncio.wait([pump])
        conn.closed = True
        with contextlib.suppress(ConnectionClosed):
            await conn.ws.close(SERVICE_RESTART, reason)

    async def _restore(self, call_id: str, principal: Principal) -> None:
        stored = await self.store.live_call(call_id)
        if stored is None:
            if await self.store.call_ended(call_id):
                raise Conflict(f"call {call_id!r} has ended; a new call needs a new call_id")
            return
        if call_id in self.desk.calls:
            return
        meta, events = stored
        if meta["user"] != principal.user:
            raise Conflict(f"call {call_id!r} is taken by another agent")
        self.desk.restore(call_id, meta["user"], meta["context"], events, self.clock())


def notice_ids(data: Mapping[str, Any], limit: int = 1000) -> list[str]:
    """The call ids of a `CALLS` notice (anything else in it ignored: a notice is only a hint)."""
    ids = data.get("ids")
    if not isinstance(ids, list):
        return []
    return [i for i in ids[:limit] if isinstance(i, str)]


def _process_request(connection: ServerConnection, request: Request) -> Response | None:
    if request.path.split("?")[0] != "/ws":
        return connection.respond(HTTPStatus.NOT_FOUND, "the assist websocket is at /ws\n")
    return None


async def start_ws(hub: Hub) -> Server:
    s = hub.settings
    return await serve(
        hub.handler,
        s.host,
        s.ws_port,
        process_request=_process_request,
        max_size=s.max_message_bytes * HARD_FRAME_FACTOR,
        compression=None,  # permessage-deflate triples per-connection memory (BUDGETS.md)
        ping_interval=20,
        ping_timeout=20,
    )
