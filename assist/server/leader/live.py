"""The shift leader's live-call list: paged, and kept current by push over the websocket.

A leader's console sends `calls.subscribe` and gets the first page of live calls in the leader's order
(most serious category first, then longest running), with the total and a cursor; it fetches the other
pages with `calls.list`. From then on it receives `calls.delta` pushes: the rows of calls that started
or changed and the ids of calls that ended, at most one batch every `FLUSH_EVERY` seconds however busy
the floor is. Pages and deltas leave on the connection's one queue in the order they were made, so a
console that applies them as they arrive holds every live call as it now is (docs/protocol.md §6).

Rows are small on purpose (issue 14 item 4): the customer's name and the queue cut to
`TEXT_CHARS`, at most `ROW_ESCALATIONS` escalations; the whole context is in a call's details
(`GET /api/leader/calls/{id}`). `GET /api/leader/calls` pages the same rows over HTTP.

What changed is learnt from the hub (every push about a call: `Hub.call_observers`) and from routing
(escalation and fault events: `RoutingService.observers`); nothing is polled.

Several instances on one database (docs/operations.md, "Several instances on one PostgreSQL"): the list
also shows the calls other instances hold (`elsewhere`), read from the store when a leader first asks and
kept current by their notices. An instance tells the others (`CALLS`, ids only: a customer's name never
goes into a notice) when what the list shows of a call it holds changed — started, labels, queue or name,
ended — once its writes are committed, gathered for `FLUSH_EVERY` seconds: a note that changes no label
costs one set lookup, not a notice. Whoever hears one reads those calls' rows from the store.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assist import messages
from assist.effects import Push
from assist.errors import InvalidFormat
from assist.live.calls import CallState
from assist.protocol import Command, CommandSpec
from assist.routing.commands import LEADER_ROLES
from assist.server.cluster import MAX_PAYLOAD, RESYNC
from assist.server.leader import data
from assist.server.live.ws import CALLS, Connection, Handler, notice_ids
from assist.server.routing import store as rs
from assist.server.routing.service import RoutingService

log = logging.getLogger(__name__)

PAGE_LIMIT = 200
"""Rows in one page (`calls.subscribe`, `calls.list`, `GET /api/leader/calls?limit=`) at most."""
DEFAULT_PAGE = 50
FLUSH_EVERY = 0.25
"""Seconds changes are gathered before one `calls.delta` goes out: a busy floor is one push, not thousands."""
DELTA_ROWS = 500
"""Rows in one `calls.delta` at most (a publish re-decides every call at once: several pushes then)."""
TEXT_CHARS = 40
NOTICE_BYTES = MAX_PAYLOAD - 200
"""Call ids in one `CALLS` notice at most, in bytes (the envelope takes the rest)."""
ROW_ESCALATIONS = 5


class CallsSubscribe(Command):
    limit: int = DEFAULT_PAGE


class CallsList(Command):
    limit: int = DEFAULT_PAGE
    after: str | None = None
    """The next page: the last reply's `next`."""


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("calls.subscribe", CallsSubscribe, LEADER_ROLES),
    CommandSpec("calls.list", CallsList, LEADER_ROLES),
)
PUSH_TYPES = ("calls.delta",)


def _cut(value: Any) -> str | None:
    return str(value)[:TEXT_CHARS] if isinstance(value, (str, int, float)) and str(value) else None


def parse_cursor(raw: str) -> tuple[int, float, str]:
    """A page cursor (`rank|started_at|call_id`, as `next` gave it); InvalidFormat when it is not one."""
    parts = raw.split("|", 2)
    try:
        if len(parts) != 3:
            raise ValueError(raw)
        return int(parts[0]), float(parts[1]), parts[2]
    except ValueError:
        raise InvalidFormat("after: not a cursor this server gave (use the last reply's `next`)") from None


class LiveCalls:
    """The live-call list of one service: its rows, pages, subscribers and the deltas they are sent."""

    def __init__(self, routing: RoutingService) -> None:
        self.routing = routing
        self.hub = routing.hub
        self.subscribers: weakref.WeakKeyDictionary[Connection, int] = weakref.WeakKeyDictionary()
        self.started: dict[str, float] = {}
        """Live calls' start times, read from the store once per call."""
        self.escalated: dict[str, dict[str, str]] | None = None
        """Open escalations by call (escalation id -> kind), loaded once, then kept by routing's events."""
        self._loading: asyncio.Future[None] | None = None
        self._early: list[dict[str, Any]] | None = None
        self.dirty: set[str] = set()
        self.sent: dict[str, dict[str, Any]] = {}
        """Each call's row as the last delta had it: a push that changed nothing the list shows sends nothing."""
        self._flush: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.elsewhere: dict[str, dict[str, Any]] = {}
        """Calls other instances hold (a shared database): what their rows show, read from the store."""
        self._elsewhere_read = False
        self._reading = asyncio.Lock()
        self.told: dict[str, int] = {}
        """What the other instances were last told of each call held here (a digest of what its row shows)."""
        self.to_tell: set[str] = set()
        self._tell: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Add the commands to the hub and listen to what changes a row."""
        handlers: dict[type[Command], Handler] = {CallsSubscribe: self._subscribe, CallsList: self._list}
        self.hub.add_commands(COMMANDS, handlers)
        self.hub.call_observers.append(self.changed)
        self.routing.observers.append(self._routing_event)
        if self.hub.bus.shared:
            self.hub.committed_observers.append(self._committed)
            self.hub.bus.on(CALLS, self._heard)
            self.hub.bus.on(RESYNC, self._resync)

    # -- what changed ---------------------------------------------------------------------------------

    def changed(self, call_id: str) -> None:
        """A push about this call went out (started, labels, context, ended): its row may have changed."""
        if not self.subscribers:
            return
        self.dirty.add(call_id)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(FLUSH_EVERY, self._flush_soon)

    def _routing_event(self, event: Mapping[str, Any]) -> None:
        esc = event.get("escalation")
        if isinstance(esc, Mapping):
            if self.escalated is not None:
                self._apply(esc)
            elif self._early is not None:
                self._early.append(dict(esc))
            call_id = (esc.get("subject") or {}).get("call_id")
            if isinstance(call_id, str):
                self.changed(call_id)
        fault = event.get("fault")
        if event.get("type") == "fault.event" and isinstance(fault, Mapping):
            for call_id in [*fault.get("calls", ()), *([event["call_id"]] if "call_id" in event else [])]:
                if isinstance(call_id, str):
                    self.changed(call_id)

    def _apply(self, esc: Mapping[str, Any]) -> None:
        assert self.escalated is not None
        call_id = (esc.get("subject") or {}).get("call_id")
        esc_id = esc.get("escalation_id")
        if not isinstance(call_id, str) or not isinstance(esc_id, str):
            return
        mine = self.escalated.setdefault(call_id, {})
        if esc.get("status") in ("open", "unresolvable"):
            mine[esc_id] = str(esc.get("kind"))
        else:
            mine.pop(esc_id, None)
            if not mine:
                del self.escalated[call_id]

    async def _escalations(self) -> dict[str, dict[str, str]]:
        """Open escalations by call: read once (events met during the read are applied after it)."""
        if self.escalated is None:
            if self._loading is None:
                self._loading = asyncio.ensure_future(self._load_escalations())
            await asyncio.shield(self._loading)
        assert self.escalated is not None
        return self.escalated

    async def _load_escalations(self) -> None:
        self._early = []
        try:
            by_call = await data.open_escalations_by_call(self.routing.db)
            self.escalated = {cid: {e["escalation_id"]: e["kind"] for e in found} for cid, found in by_call.items()}
            for esc in self._early:
                self._apply(esc)
        finally:
            self._early = None
            self._loading = None

    async def _starts(self, call_ids: Iterable[str]) -> None:
        """Learn the start of calls not yet known (a call the store does not have yet stays unknown)."""
        live = self.hub.desk.calls
        for gone in [c for c in self.started if c not in live]:
            del self.started[gone]  # ended: forget it (without subscribers, no delta does)
        missing = [c for c in call_ids if c not in self.started]
        for i in range(0, len(missing), 500):
            self.started.update(await rs.call_started(self.routing.db, missing[i : i + 500]))

    # -- rows and pages -------------------------------------------------------------------------------

    def _keys(self, rank: Mapping[str, int]) -> list[tuple[tuple[int, float, str], str]]:
        """Every live call's sort key (the leader's order): those held here, then those held elsewhere."""
        live = self.hub.desk.calls
        keyed = [
            ((rank.get(c.result.category, len(rank)), self.started.get(cid, math.inf), cid), cid)
            for cid, c in live.items()
        ]
        keyed += [
            ((rank.get(r["category"], len(rank)), r["started_at"], cid), cid)
            for cid, r in self.elsewhere.items()
            if cid not in live
        ]
        return keyed

    def row(self, call: CallState, linked: Mapping[str, str]) -> dict[str, Any]:
        """What the list shows of a call held here (small: the rest is in the call's details)."""
        ctx = call.context
        return self._row(
            call.call_id,
            {
                "agent": call.user,
                "queue": _cut(ctx.get("queue")),
                "customer": _cut(ctx.get("customer_name")),
                "category": call.result.category,
                "labels": list(call.result.labels),
                "started_at": self.started.get(call.call_id),
            },
            linked,
        )

    def _row(self, call_id: str, shown: Mapping[str, Any], linked: Mapping[str, str]) -> dict[str, Any]:
        escalations = (self.escalated or {}).get(call_id, {})
        return {
            "call_id": call_id,
            **shown,
            "escalations": [{"escalation_id": k, "kind": v} for k, v in list(escalations.items())[:ROW_ESCALATIONS]],
            "escalated": len(escalations),
            "fault_id": linked.get(call_id),
        }

    def row_of(self, call_id: str, linked: Mapping[str, str]) -> dict[str, Any] | None:
        """A live call's row, held here or elsewhere; None once it ended."""
        call = self.hub.desk.calls.get(call_id)
        if call is not None:
            return self.row(call, linked)
        shown = self.elsewhere.get(call_id)
        return self._row(call_id, shown, linked) if shown is not None else None

    def _linked(self) -> dict[str, str]:
        return {cid: f.id for f in self.routing.active_faults.values() for cid in f.calls}

    async def prepare(self) -> None:
        """What rows need from the store, read for every live call (before a page is built without awaiting)."""
        await self._escalations()
        await self._starts(list(self.hub.desk.calls))
        if self.hub.bus.shared and not self._elsewhere_read:
            await self._read_elsewhere()

    def page(self, limit: int, after: str | None = None) -> dict[str, Any]:
        """One page of rows in the leader's order, after the cursor; built without awaiting (call `prepare` first)."""
        limit = max(1, min(limit, PAGE_LIMIT))
        cursor = parse_cursor(after) if after else None
        rank = {c: i for i, c in enumerate(self.hub.desk.pack.priority)}
        keyed = self._keys(rank)
        total = len(keyed)
        if cursor is not None:
            keyed = [kc for kc in keyed if kc[0] > cursor]
        keyed.sort(key=lambda kc: kc[0])
        linked = self._linked()
        rows = [row for _, cid in keyed[:limit] if (row := self.row_of(cid, linked)) is not None]
        more = len(keyed) > limit
        last = keyed[limit - 1][0] if more else None
        return {
            "now": self.hub.clock(),
            "total": total,
            "calls": rows,
            "more": more,
            "next": f"{last[0]}|{last[1]!r}|{last[2]}" if last is not None else None,
        }

    # -- commands ---------------------------------------------------------------------------------------

    async def _subscribe(self, conn: Connection, cmd: CallsSubscribe, now: float) -> None:
        await self.prepare()
        first = self.page(cmd.limit)
        self.subscribers[conn] = cmd.id  # after the page is built, with no await between: no change is missed
        conn.send(messages.result(cmd.id, {"subscription": cmd.id, **first}))
        for call_id in [c for c in self.hub.desk.calls if c not in self.started]:
            self.changed(call_id)  # started while this was being prepared: the next delta brings its start

    async def _list(self, conn: Connection, cmd: CallsList, now: float) -> None:
        await self.prepare()
        conn.send(messages.result(cmd.id, self.page(cmd.limit, cmd.after)))

    # -- deltas ---------------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the timers and the deltas and notices under way: at shutdown nothing is sent any more, and no
        task is left pending when the loop ends."""
        for timer in (self._flush, self._tell):
            if timer is not None:
                timer.cancel()
        self._flush = self._tell = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _flush_soon(self) -> None:
        self._flush = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Send every subscriber the rows that changed and the calls that ended since the last delta."""
        try:
            ids, self.dirty = self.dirty, set()
            live = self.hub.desk.calls
            await self._escalations()
            await self._starts([c for c in ids if c in live])
            linked = self._linked()
            rows: list[dict[str, Any]] = []
            gone: list[str] = []
            for cid in ids:
                row = self.row_of(cid, linked)
                if row is None:
                    gone.append(cid)
                    self.sent.pop(cid, None)
                    continue
                if self.sent.get(cid) != row:
                    self.sent[cid] = row
                    rows.append(row)
            subscribers = [(c, sub) for c, sub in list(self.subscribers.items()) if not c.closed]
            if not subscribers:
                self.subscribers.clear()
                self.sent.clear()
                return
            if not rows and not gone:
                return
            now, total = self.hub.clock(), len(live) + sum(1 for c in self.elsewhere if c not in live)
            for i in range(0, max(len(rows), 1), DELTA_ROWS):
                part, ended = rows[i : i + DELTA_ROWS], gone if i == 0 else []
                for conn, sub in subscribers:
                    conn.send(messages.calls_delta(sub, now, total, part, ended))
        except Exception:  # a delta that failed must not stop the next ones
            log.exception("leader: could not send the live-call changes")

    # -- the other instances on the same database -----------------------------------------------------

    def _committed(self, pushes: Sequence[Push]) -> None:
        """Calls held here were pushed about (or ended) and their writes are committed: tell the others soon
        (what their rows show may have changed). A push about a call held elsewhere (an escalation's) is
        theirs to tell."""
        live = self.hub.desk.calls
        for push in pushes:
            cid = push.call_id
            if cid in live or cid in self.told or push.message.get("type") == "call.ended":
                self.to_tell.add(cid)
                if cid in live and self.elsewhere.pop(cid, None) is not None:
                    self.changed(cid)  # resumed here: a row of this instance's now
        if self.to_tell and self._tell is None:
            self._tell = asyncio.get_running_loop().call_later(FLUSH_EVERY, self._tell_soon)

    def _tell_soon(self) -> None:
        self._tell = None
        task = asyncio.get_running_loop().create_task(self.tell())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def tell(self) -> None:
        """One notice (or a few, for a publish's thousands) with the calls whose row changed or that ended."""
        try:
            ids, self.to_tell = self.to_tell, set()
            live = self.hub.desk.calls
            changed: list[str] = []
            for cid in sorted(ids):
                call = live.get(cid)
                if call is None:  # ended (or let go to another instance): always said, the others drop it
                    self.told.pop(cid, None)
                    changed.append(cid)
                    continue
                ctx = call.context
                digest = hash(
                    (call.result.category, call.result.labels, _cut(ctx.get("queue")), _cut(ctx.get("customer_name")))
                )
                if self.told.get(cid) != digest:
                    self.told[cid] = digest
                    changed.append(cid)
            part: list[str] = []
            size = 0
            for cid in changed:
                if part and size + len(cid.encode()) + 3 > NOTICE_BYTES:
                    await self.hub.bus.publish(CALLS, {"ids": part})
                    part, size = [], 0
                part.append(cid)
                size += len(cid.encode()) + 3
            if part:
                await self.hub.bus.publish(CALLS, {"ids": part})
        except Exception:
            log.exception("leader: could not tell the other instances of live-call changes")

    async def _heard(self, notice: Mapping[str, Any]) -> None:
        """Another instance holds these calls and what their rows show changed: read them from the store
        (once a leader here has asked for the list; until then there is nothing to keep)."""
        ids = notice_ids(notice)
        for cid in ids:
            self.told.pop(cid, None)  # held elsewhere now (the hub let it go): tell again if it comes back
        if not self._elsewhere_read:
            return
        async with self._reading:
            live = self.hub.desk.calls
            wanted = [c for c in ids if c not in live]
            found = await data.live_elsewhere(self.routing.db, wanted)
            for cid in wanted:
                if cid in found:
                    self.elsewhere[cid] = self._shown(found[cid])
                else:
                    self.elsewhere.pop(cid, None)
                self.changed(cid)

    async def _read_elsewhere(self) -> None:
        """Every live call of the store that is not held here (once; then notices keep it)."""
        async with self._reading:
            if self._elsewhere_read:
                return
            found = await data.live_elsewhere(self.routing.db)
            live = self.hub.desk.calls
            before = set(self.elsewhere)
            self.elsewhere = {cid: self._shown(r) for cid, r in found.items() if cid not in live}
            self._elsewhere_read = True
        for cid in before | set(self.elsewhere):
            self.changed(cid)

    async def _resync(self, _: Mapping[str, Any]) -> None:
        """Notices may have been missed: read the calls held elsewhere again (now, if a leader is watching)."""
        self._elsewhere_read = False
        if self.subscribers:
            await self._read_elsewhere()

    @staticmethod
    def _shown(stored: Mapping[str, Any]) -> dict[str, Any]:
        ctx = stored["context"] if isinstance(stored["context"], Mapping) else {}
        return {
            "agent": stored["agent"],
            "queue": _cut(ctx.get("queue")),
            "customer": _cut(ctx.get("customer_name")),
            "category": stored["category"],
            "labels": list(stored["labels"]),
            "started_at": stored["started_at"],
        }
