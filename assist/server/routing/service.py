"""The routing shell: websocket commands, the deadline scheduler and the outbox, over the pure core.

Deadlines are rows, not sleeping tasks. The scheduler wakes at the earliest due row (or
`delivery.tick` at most), fires due steps through `assist.routing.escalation`, and commits
state, outbox rows and audit lines in one transaction; then it pushes events. After a
restart it simply finds the overdue rows and fires them at once (marked late), once. The
outbox delivers with retry and exponential backoff, keyed by (escalation, step, recipient,
channel): one worker per target (channel, address) sends that target's notifications in the
order they were queued, so a slow target delays only itself. A console notification waits for
its user to connect (and falls back to other channels after `console_fallback_after`). One lock
serialises every read-modify-write of routing state within the instance.

Several instances on one PostgreSQL database (docs/operations.md, "Escalations and deliveries across
instances"): every instance runs the scheduler and the outbox over the same rows, and claims decide who
acts (`routing.store`, "claims"). The scheduler fires under the escalations' row locks (`SKIP LOCKED`:
the other instances pass over what one is firing), re-reading what it locked, in one transaction with
the writes, so a step fires once; a leader's change locks the same row. A report or patrol is sent by
the instance that moves its time on. A delivery is leased while it is sent; a lease whose holder died
runs out and another instance sends it. After each commit the instance tells the others (`TOPIC` on the
hub's bus: references to the events, never their contents): they wake their loops (a new deadline),
push the events to their leaders and the call's sidebars, and take up a declared or recovered fault.

Wiring (app.py): `routing = await start_routing(hub, settings)` after the hub is built,
`add_routing_routes(app, routing)` before the HTTP runner is set up, and
`await routing.close()` first in `Running.close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import tomllib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from assist import messages, protocol
from assist.config import Settings
from assist.effects import Write
from assist.errors import Conflict, NotFound, ValidationFailed
from assist.routing import commands as c
from assist.routing.config import RoutingConfig, fallback_channels, parse_routing
from assist.routing.directory import Directory, parse_directory
from assist.routing.escalation import Effects, Escalation, Escalations, audit, local_day, notification
from assist.routing.faults import (
    DEFAULT_TALKING_POINTS,
    Fault,
    check_form,
    link_call,
    matching_faults,
    parse_time,
    unlink_call,
)
from assist.routing.plans import UNRESOLVABLE, escalation_kind, fault_plan, plan_for
from assist.routing.records import check_record, settled_on_call
from assist.routing.report import daily_report, next_daily, patrol
from assist.server.cluster import RESYNC
from assist.server.leader.data import report_facts
from assist.server.live.ws import Connection, Handler, Hub
from assist.server.routing import store as rs
from assist.server.routing.notifiers import (
    ConsoleNotifier,
    DeliveryFailed,
    EmailNotifier,
    HttpSmsGateway,
    Message,
    NotConnected,
    Notifier,
    SmsNotifier,
    WebhookNotifier,
    retry_delay,
)
from assist.session import Principal

log = logging.getLogger(__name__)

FIRE_BATCH = 500
"""Due escalations fired in one transaction by the scheduler (bounds a pass's lock hold and its commit)."""
PASSED_OVER_WAIT = 0.05
"""After a pass that found due escalations locked by another instance (firing them), the scheduler looks again
this much later at the soonest (not at once, over and over, while they are still due), or when woken."""
MAX_FAULT_NOTICES = 10
"""Declared faults one agent connection is told of at once (the most severe and newest)."""
TOPIC = "routing"
"""The cluster bus topic of routing's notices: `{"events": [references]}`, `{"directory": true}`,
`{"console": [outbox keys]}` (a console notification pushed here, for its user's connections elsewhere)."""
NOTICE_EVENTS = 40
"""Event references per notice (each well under 200 bytes: far inside PostgreSQL's payload limit)."""
_STATE = ("escalation", "fault", "step", "text")
"""An event's parts that are state (customer data among it): a notice names them, the receiver reads them."""

CategoryCorrection = Callable[[Escalation, str, Principal, float], Awaitable[tuple[list[Write], dict[str, Any] | None]]]
"""Checks a leader's category correction of an escalation's call; gives the rows to store with the resolution
and the reply's `feedback` (installed by the feedback service)."""


def load_routing(path: Path | None) -> RoutingConfig:
    """The routing file, or the plan's defaults with an empty directory when there is none."""
    if path is None:
        return RoutingConfig()
    with open(path, "rb") as fh:
        return parse_routing(tomllib.load(fh))


async def start_routing(hub: Hub, settings: Settings) -> RoutingService:
    """Load the routing file (or the plan's defaults), add routing's commands to `hub`, start its loops."""
    service = RoutingService(hub, settings, load_routing(settings.routing))
    await service.start()
    return service


class RoutingService:
    def __init__(self, hub: Hub, settings: Settings, config: RoutingConfig) -> None:
        self.hub = hub
        self.settings = settings
        self.config = config
        self.policy = Escalations(config)
        self.lock = asyncio.Lock()
        self.subscribers: weakref.WeakKeyDictionary[Connection, int] = weakref.WeakKeyDictionary()
        self.active_faults: dict[str, Fault] = {}
        self.noticed: dict[str, weakref.WeakSet[Connection]] = {}
        self.wake = asyncio.Event()
        self.outbox_wake = asyncio.Event()
        self.closed = False
        self.http: aiohttp.ClientSession | None = None
        self.notifiers: dict[str, Notifier] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        """One delivery worker per target (channel, address) while it has something to send."""
        self._passes: set[asyncio.Task[None]] = set()
        self._tells: set[asyncio.Task[None]] = set()
        """Resumed calls being told their escalations."""
        self.passed_over = 0
        """Due escalations the last scheduler pass left to another instance, which held them."""
        self._fallback_lock = asyncio.Lock()
        """Passes overlap (a slow target does not hold up the next one); only one falls back at a time."""
        self.call_fault: dict[str, str | None] = {}
        """Live calls -> the fault they are counted against (None: none), as last read or written."""
        self.call_started: dict[str, float] = {}
        self.correct_category: CategoryCorrection | None = None
        self.observers: list[Callable[[dict[str, Any]], None]] = []
        """Told every event `broadcast` sends (the leader's live-call list flags escalated and fault calls)."""

    @property
    def db(self) -> Any:
        return self.hub.store.db

    @property
    def instance(self) -> str:
        """This instance's name in the leases it holds."""
        return self.hub.bus.instance

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        now = self.hub.clock()
        stored = await rs.load_directory(self.db)
        if stored is None:
            directory = self.config.directory
            await self.hub.store.write(
                [
                    _directory_row(directory, "config", now),
                    audit("config", "directory", "directory", now, source=str(self.settings.routing)),
                ]
            )
        else:
            directory = parse_directory(stored)
        self.policy.directory = directory
        self.refresh_pack()
        self.hub.resume_observers.append(self._resumed)
        self.hub.bus.on(TOPIC, self._heard)
        self.hub.bus.on(RESYNC, self._resync)
        await self._init_schedule(now)
        if self.hub.store.file is not None:  # SQLite: one instance, this one; a crash's leases are void
            async with self.hub.store.unit() as db:
                await rs.release_leases(db)
        for fault in await rs.list_faults(self.db, "open"):
            self.active_faults[fault.id] = fault
            self.call_fault.update(dict.fromkeys(fault.calls, fault.id))
        d = self.config.delivery
        self.http = aiohttp.ClientSession()
        self.notifiers = {
            "console": ConsoleNotifier(self.send_to_user),
            "webhook": WebhookNotifier(self.http, self.settings.notify_secret, d.timeout),
        }
        if d.sms_url:
            self.notifiers["sms"] = SmsNotifier(
                HttpSmsGateway(self.http, d.sms_url, self.settings.notify_secret, d.timeout)
            )
        if d.smtp_host:
            self.notifiers["email"] = EmailNotifier(
                d.smtp_host,
                d.smtp_port,
                tls=d.smtp_tls,
                user=d.smtp_user,
                password=os.environ.get("ASSIST_SMTP_PASSWORD", ""),
                sender=d.smtp_from,
                timeout=d.timeout,
            )
        self._register()
        self._tasks = [
            asyncio.create_task(self._scheduler(), name="routing-scheduler"),
            asyncio.create_task(self._outbox(), name="routing-outbox"),
        ]

    async def close(self, grace: float = 0.0) -> None:
        """Stop the loops (pending rows stay in the store for the next start). With `grace` (a drain), the
        deliveries under way may finish for that long first: a notification its receiver has taken is then
        recorded as delivered instead of being sent again after the restart."""
        if self.closed:
            return
        self.closed = True
        for task in self._tasks:
            task.cancel()  # no new pass; a delivery worker stops after the notification it is sending
        in_flight = [*self._passes, *self.workers.values()]
        if grace > 0 and in_flight:
            await asyncio.wait(in_flight, timeout=grace)
        tasks = [*self._tasks, *self._passes, *self.workers.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.http is not None:
            await self.http.close()

    def _register(self) -> None:
        handlers: dict[type[protocol.Command], Handler] = {
            c.EscalationSubscribe: self._subscribe,
            c.EscalationList: self._list,
            c.EscalationAck: self._ack,
            c.EscalationResolve: self._resolve,
            c.EscalationNote: self._note,
            c.EscalationUnresolved: self._unresolved,
            c.FaultOpen: self._fault_open,
            c.FaultRecover: self._fault_recover,
            c.FaultUnresolvable: self._fault_unresolvable,
            c.FaultList: self._fault_list,
            c.RecordSubmit: self._record_submit,
            c.CallEscalate: self._call_escalate,
            c.FaultUpdate: self._fault_update,
            c.FaultLink: self._fault_link,
            c.FaultUnlink: self._fault_unlink,
        }
        self.hub.add_commands(c.COMMANDS, handlers)

    # -- directory and the forbidden-phrase check -------------------------------------------------

    @property
    def directory(self) -> Directory:
        return self.policy.directory

    def refresh_pack(self) -> None:
        """Make the hub forbid the directory's internal numbers, in this pack and every pack published later."""
        self.hub.set_internal_numbers(self.directory.secret_numbers())

    async def set_directory(self, raw: Mapping[str, Any], who: str) -> Directory:
        """Replace the directory (validated first; every problem reported at once)."""
        directory = parse_directory(raw)
        now = self.hub.clock()
        async with self.lock:
            await self.hub.store.write(
                [
                    _directory_row(directory, who, now),
                    audit(who, "directory", "directory", now, contacts=len(directory.contacts)),
                ]
            )
            self.policy.directory = directory
            self.refresh_pack()
        await self._tell_others({"directory": True})
        return directory

    async def _reload_directory(self) -> None:
        stored = await rs.load_directory(self.db)
        if stored is not None:
            async with self.lock:
                self.policy.directory = parse_directory(stored)
                self.refresh_pack()

    # -- effects ----------------------------------------------------------------------------------

    async def commit(self, eff: Effects) -> None:
        """Rows first (one transaction), then the pushes; then wake the loops for new deadlines/outbox rows."""
        await self.hub.store.write(eff.writes)
        await self.committed(eff)

    async def committed(self, eff: Effects) -> None:
        """After `eff`'s rows are committed: push its events here, wake the loops, and tell the other instances
        (they push the same events to their connections and wake their loops for the new deadlines)."""
        for event in eff.events:
            self.broadcast(event)
            self._tell_call(event)
        self.wake.set()
        self.outbox_wake.set()
        if eff.events and self.hub.bus.shared:
            refs = [_ref(e) for e in eff.events]
            for i in range(0, len(refs), NOTICE_EVENTS):
                await self._tell_others({"events": refs[i : i + NOTICE_EVENTS]})

    async def _tell_others(self, notice: dict[str, Any]) -> None:
        if self.hub.bus.shared:
            await self.hub.bus.publish(TOPIC, notice)

    @contextlib.asynccontextmanager
    async def _locked(self, esc_id: str) -> AsyncIterator[tuple[Any, Escalation]]:
        """The escalation read afresh under its row lock, in a unit of work: write its changes with
        `store.apply(db, ...)` in the block, and they commit with it. Another instance's scheduler passes over
        it meanwhile, and its leaders' changes wait: no change is lost, no step fires twice."""
        async with self.hub.store.unit() as db:
            await rs.lock_escalations(db, [esc_id], wait=True)
            esc = await rs.load_escalation(db, esc_id)
            if esc is None:
                raise NotFound(f"no escalation {esc_id!r}")
            yield db, esc

    # -- what the other instances tell ------------------------------------------------------------

    async def _heard(self, notice: Mapping[str, Any]) -> None:
        """Another instance committed a change: take it up here (`TOPIC`)."""
        if notice.get("directory"):
            await self._reload_directory()
        for key in notice.get("console") or ():
            row = await rs.outbox_row(self.db, str(key))
            if row is not None:
                push = messages.escalation_notify(row["key"], row["source"], row["step"], row["text"])
                self.send_to_user(row["address"], push)
        refs = [r for r in notice.get("events") or () if isinstance(r, dict)]
        # the state the events show, as it now is: each escalation and fault read once
        escalations = {
            e.id: e
            for e in await rs.load_escalations(
                self.db, list({r["escalation_id"] for r in refs if isinstance(r.get("escalation_id"), str)})
            )
        }
        faults: dict[str, Fault] = {}
        for fault_id in {r["fault_id"] for r in refs if isinstance(r.get("fault_id"), str)}:
            if (fault := await rs.load_fault(self.db, fault_id)) is not None:
                faults[fault.id] = self._fault_changed(fault)
        report = await rs.last_report_text(self.db) if any(r.get("event") == "report" for r in refs) else ""
        for ref in refs:
            event = _rebuild(ref, escalations, faults, report)
            if event is not None:
                self.broadcast(event)
                self._tell_call(event)
        if faults:
            self._send_notices()
        self.wake.set()  # a new or moved deadline: the scheduler reads the next one again
        self.outbox_wake.set()

    def _fault_changed(self, fault: Fault) -> Fault:
        """A fault declared, changed or recovered on another instance: this instance's agents are told of it
        (`_send_notices`), or that it is over."""
        if fault.status == "recovered":
            self.active_faults.pop(fault.id, None)
            for conn in self.noticed.pop(fault.id, weakref.WeakSet()):
                conn.send(messages.assist_notice("fault", fault_id=fault.id, active=False))
        else:
            self.active_faults[fault.id] = fault
        self.call_fault.clear()  # links may have moved there: read again before linking a call here
        return fault

    async def _resync(self, _: Mapping[str, Any]) -> None:
        """Notices may have been missed (the bus reconnected): read the faults and the directory again, and
        tell each subscribed board to subscribe again — an escalation filed or closed on another instance
        meanwhile would otherwise be missing from it, or stay on it, until the leader reloads."""
        now = self.hub.clock()
        for conn, sub in list(self.subscribers.items()):
            if not conn.closed:
                conn.send(messages.escalation_event("resync", now, "", subscription=sub))
        await self._reload_directory()
        faults = {f.id: f for f in await rs.list_faults(self.db, "open")}
        for fault_id in [k for k in self.active_faults if k not in faults]:
            fault = await rs.load_fault(self.db, fault_id)
            if fault is not None:
                self._fault_changed(fault)
        for fault in faults.values():
            self._fault_changed(fault)
        self._send_notices()
        self.wake.set()
        self.outbox_wake.set()

    def broadcast(self, event: dict[str, Any]) -> None:
        for observe in self.observers:
            observe(event)
        for conn, sub in list(self.subscribers.items()):
            if conn.closed:
                self.subscribers.pop(conn, None)
            else:
                conn.send({**event, "subscription": sub})

    def _tell_call(self, event: dict[str, Any]) -> None:
        """An escalation of a call, filed or changed by anyone: `call.escalation` to every connection that shows
        the call and to its agent's (whose sidebar still shows it after the call ended, when watchers are gone)."""
        esc = event.get("escalation")
        if not isinstance(esc, dict) or not isinstance(esc.get("subject"), dict):
            return
        subject = esc["subject"]
        call_id = subject.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            return
        live = self.hub.desk.calls.get(call_id)
        agent = live.user if live is not None else subject.get("agent")
        targets = set(self.hub.watchers.get(call_id, ()))
        targets.update(
            conn
            for conn in self.hub.connections
            if conn.session.principal is not None and conn.session.principal.user == agent
        )
        if targets:
            text = messages.encode(messages.call_escalation(call_id, event["event"], event["at"], event["by"], esc))
            for conn in targets:
                conn.send_text(text)

    def _resumed(self, conn: Connection, call_id: str) -> None:
        """A softphone resumed a call (a reloaded sidebar, a reconnect): tell that connection the call's
        escalations as they stand (`call.escalation`, event `state`), so it shows 已上报 without waiting for
        the next change."""
        task = asyncio.get_running_loop().create_task(self._tell_escalations(conn, call_id))
        self._tells.add(task)
        task.add_done_callback(self._tells.discard)

    async def _tell_escalations(self, conn: Connection, call_id: str) -> None:
        started = (await rs.call_started(self.db, [call_id])).get(call_id)
        if started is None:
            return
        for esc in await rs.escalations_of_call(self.db, call_id, started):
            conn.send(messages.call_escalation(call_id, "state", self.hub.clock(), "", esc.to_json()))

    def send_to_user(self, user: str, message: dict[str, Any]) -> int:
        sent = 0
        for conn in list(self.hub.connections):
            p = conn.session.principal
            if p is not None and p.user == user and not conn.closed:
                conn.send(message)
                sent += 1
        return sent

    # -- the scheduler ----------------------------------------------------------------------------

    async def _init_schedule(self, now: float) -> None:
        stored = await rs.schedule(self.db)
        s = self.config.schedule
        writes = []
        # A missed report or patrol (service down) keeps its past time and fires once, now.
        if stored.get("daily_report", math.inf) > now:
            writes.append(_schedule_row("daily_report", next_daily(now, s.daily_report_at, s.timezone)))
        if stored.get("patrol", math.inf) > now:
            writes.append(_schedule_row("patrol", _next_slot(now, s.patrol_every)))
        await self.hub.store.write(writes)

    async def _scheduler(self) -> None:
        tick = self.config.delivery.tick
        while True:
            now = self.hub.clock()
            nxt = None
            try:
                await self.run_due(now)
                nxt = await rs.next_wake(self.db)
            except Exception:  # one bad pass (a busy database, a bad row) must not stop every deadline
                log.exception("routing: scheduler pass failed")
            wait = tick if nxt is None else min(tick, max(0.0, nxt - self.hub.clock()))
            if self.passed_over:
                wait = max(wait, min(tick, PASSED_OVER_WAIT))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):  # not wait_for: on 3.11 it can swallow the cancel of close()
                    await self.wake.wait()
            self.wake.clear()

    async def run_due(self, now: float) -> None:
        """One pass: fire due steps, reports and patrols; link outage calls; tell agents of open faults.

        Due escalations are fired `FIRE_BATCH` at a time: read together, fired under one hold of the lock
        and committed in one transaction (one fsync), then their events pushed — so a pass costs a few
        commits however many steps fell due (docs/performance.md, "Deadlines")."""
        due_ids = await rs.due_escalations(self.db, now)
        self.passed_over = 0
        for i in range(0, len(due_ids), FIRE_BATCH):
            async with self.lock:
                eff = Effects()
                # Locked (those another instance is firing are passed over) and read again under the lock, then
                # fired and written in the same transaction: a step fires once however many instances look.
                async with self.hub.store.unit() as db:
                    batch = due_ids[i : i + FIRE_BATCH]
                    mine = await rs.lock_escalations(db, batch, wait=False)
                    self.passed_over += len(batch) - len(mine)
                    for esc in await rs.load_escalations(db, mine):
                        eff.add(self.policy.fire_due(esc, now))
                    await self.hub.store.apply(db, eff.writes)
                if eff.writes or eff.events:
                    await self.committed(eff)
        sched = await rs.schedule(self.db)
        s = self.config.schedule
        if sched.get("daily_report", math.inf) <= now:
            due = sched["daily_report"]
            # the same facts as the console's preview and 'send now': the calls with their start times
            facts = await report_facts(self.db, local_day(due, s.timezone), s.timezone, self.hub.desk.calls)
            eff = daily_report(self.config, self.directory, facts, now)
            await self._once("daily_report", due, next_daily(now, s.daily_report_at, s.timezone), eff)
        if sched.get("patrol", math.inf) <= now:
            eff = patrol(self.config, self.directory, sched["patrol"], now)
            await self._once("patrol", sched["patrol"], _next_slot(now, s.patrol_every), eff)
        await self._link_outage_calls(now)
        self._send_notices()

    async def _once(self, name: str, was: float, next_at: float, eff: Effects) -> None:
        """Send a report or patrol that fell due at `was`, unless another instance already did: the one that
        moves its time on to `next_at` sends it, in the same transaction."""
        async with self.hub.store.unit() as db:
            if not await rs.claim_schedule(db, name, was, next_at):
                return
            await self.hub.store.apply(db, eff.writes)
        await self.committed(eff)

    async def _link_outage_calls(self, now: float) -> None:
        """Link each live outage call to the declared fault it matches: it names the fault's system (or a
        synonym of it) and began in the fault's window. A call counts against one fault at most."""
        if not self.active_faults:
            return
        live = {cid: call for cid, call in self.hub.desk.calls.items() if "system_outage" in call.result.labels}
        for cid in [k for k in self.call_fault if k not in self.hub.desk.calls]:
            self.call_fault.pop(cid, None)
            self.call_started.pop(cid, None)
        if not live:
            return
        async with self.lock:
            eff = Effects()
            for cid in live:
                if cid not in self.call_fault:
                    self.call_fault[cid] = await rs.linked_fault(self.db, cid)
            todo = [cid for cid in live if self.call_fault[cid] is None]
            missing = [cid for cid in todo if cid not in self.call_started]
            self.call_started.update(await rs.call_started(self.db, missing))
            matched = [
                (cid, fault)
                for cid in sorted(todo)  # locked in id order: two instances' passes never wait in a circle
                if (fault := self._match(cid, self._call_text(cid), self.call_started.get(cid, now))) is not None
            ]
            if not matched:
                return
            async with self.hub.store.unit() as db:
                for cid, fault in matched:
                    eff.add((await self._link(db, fault, cid, "classified", "system", now, move=False))[1])
                await self.hub.store.apply(db, eff.writes)
            if eff.writes:
                await self.committed(eff)

    def _call_text(self, call_id: str, *extra: str) -> str:
        """What the call says so far (context, notes, transcript), plus the agent's own words of a report."""
        call = self.hub.desk.calls.get(call_id)
        parts = list(extra)
        if call is not None:
            parts += [str(v) for v in call.context.values() if isinstance(v, (str, int, float))]
            parts += [*call.notes, *(line.text for line in call.transcript)]
        return "\n".join(parts)

    def _match(self, call_id: str, text: str, started_at: float) -> Fault | None:
        """The declared fault this call is about, if its text names the fault's system within its window."""
        faults = [f for f in self.active_faults.values() if call_id not in f.unlinked]
        found = matching_faults(faults, text, started_at, self.config.linking.before, self.hub.desk.pack.synonyms)
        return found[0] if found else None

    async def _load_fault(self, fault_id: str) -> Fault:
        fault = self.active_faults.get(fault_id) or await rs.load_fault(self.db, fault_id)
        if fault is None:
            raise NotFound(f"no fault {fault_id!r}")
        return fault

    async def _link(
        self,
        db: Any,
        fault: Fault,
        call_id: str,
        how: str,
        who: str,
        now: float,
        reason: str = "",
        *,
        move: bool = True,
    ) -> tuple[Fault, Effects]:
        """Count the call against `fault`, moving it from any other fault it counted against (audited); with
        `move=False` (an automatic link) a call linked meanwhile stays where it is. Decided in the unit `db`
        (write the effects with `store.apply(db, ...)` in it) under the call's row lock, on the links as
        committed: instances linking one call at once take turns, so it counts against one fault and the audit
        tells one story. The fault as it now stands, and the effects."""
        await rs.lock_call(db, call_id)
        fault = await rs.load_fault(db, fault.id) or fault
        eff = Effects()
        current = await rs.linked_fault(db, call_id)
        if (current == fault.id and call_id in fault.calls) or (current is not None and not move):
            self.call_fault[call_id] = current
            return fault, eff
        if current is not None and current != fault.id and (other := await rs.load_fault(db, current)) is not None:
            eff.writes += unlink_call(other, call_id, who, now)
            other.unlinked.discard(call_id)  # moved, not judged unaffected: it may come back automatically
            self._cache(other)
            eff.writes.append(
                audit(who, "fault_unlink", other.id, now, call_id=call_id, moved_to=fault.id, reason=reason)
            )
            eff.events.append(_fault_event("unlinked", other, now, who, call_id=call_id))
        eff.writes += link_call(fault, call_id, how, now, who)
        eff.writes.append(
            audit(who, "fault_link", fault.id, now, call_id=call_id, how=how, moved_from=current, reason=reason)
        )
        eff.events.append(_fault_event("linked", fault, now, who, call_id=call_id, how=how))
        self._cache(fault)
        self.call_fault[call_id] = fault.id
        return fault, eff

    async def _link_and_commit(
        self,
        fault: Fault,
        call_id: str,
        how: str,
        who: str,
        now: float,
        reason: str = "",
        *,
        before: Effects | None = None,
        after: Effects | None = None,
    ) -> Fault:
        """`_link` with the change it is part of (`before` and `after` it), committed in one unit of work, then
        pushed; the fault as it now stands."""
        async with self.hub.store.unit() as db:
            fault, linked = await self._link(db, fault, call_id, how, who, now, reason)
            eff = Effects().add(before or Effects()).add(linked).add(after or Effects())
            await self.hub.store.apply(db, eff.writes)
        await self.committed(eff)
        return fault

    def _cache(self, fault: Fault) -> None:
        """A fault read afresh: the copy of the declared faults (what calls are matched against) follows it."""
        if fault.id in self.active_faults:
            self.active_faults[fault.id] = fault

    # -- the outbox -------------------------------------------------------------------------------

    async def _outbox(self) -> None:
        tick = self.config.delivery.tick
        while True:
            # A pass starts the workers of due targets and does not wait for them here: the next pass
            # (a new row, a tick) is not held up by one slow target.
            task = asyncio.create_task(self._pass(), name="routing-outbox-pass")
            self._passes.add(task)
            task.add_done_callback(self._passes.discard)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(tick):  # not wait_for: on 3.11 it can swallow the cancel of close()
                    await self.outbox_wake.wait()
            self.outbox_wake.clear()

    async def _pass(self) -> None:
        try:
            await self.deliver_due(self.hub.clock())
        except Exception:
            log.exception("routing: outbox pass failed")

    async def deliver_due(self, now: float) -> None:
        """One pass: fall back for console users away too long, then start a worker for every target whose
        oldest notification is due (a console one: as soon as its user is connected), and wait for those."""
        await self._fall_back(now)
        started = []
        for row in await rs.pending_heads(self.db):
            target = (row["channel"], row["address"])
            running = self.workers.get(target)
            if running is not None and not running.done():
                continue
            if self._due(row, now):
                task = asyncio.create_task(self._drain(target, now), name=f"routing-deliver-{target[0]}")
                self.workers[target] = task
                started.append(task)
        if started:
            await asyncio.gather(*started, return_exceptions=True)

    def _due(self, row: Mapping[str, Any], now: float) -> bool:
        if row["channel"] == "console" and self._has_console(row["address"]):
            return True
        return float(row["next_at"]) <= now

    def _has_console(self, user: str) -> bool:
        return any(
            not conn.closed and conn.session.principal is not None and conn.session.principal.user == user
            for conn in self.hub.connections
        )

    async def _drain(self, target: tuple[str, str], now: float) -> None:
        """Deliver a target's notifications in queue order while they are due; stop at the first that fails
        (the next ones wait behind it: the target's order is kept)."""
        try:
            while not self.closed:
                row = await rs.target_head(self.db, *target)
                at = max(now, self.hub.clock())
                if row is None or not self._due(row, at):
                    return
                if not await self._claim(row, at):
                    return  # another instance is sending this target's head: its order stays with that one
                if not await self._deliver(row):
                    return
        finally:
            if self.workers.get(target) is asyncio.current_task():
                del self.workers[target]

    async def _claim(self, row: Mapping[str, Any], now: float) -> bool:
        """Lease the notification to this instance while it is sent (a lease whose holder died runs out)."""
        d = self.config.delivery
        async with self.hub.store.unit() as db:
            return await rs.claim_delivery(
                db, row["key"], int(row["attempts"]), self.instance, now, now + 4 * d.timeout + d.lease_slack
            )

    async def _deliver(self, row: Mapping[str, Any]) -> bool:
        d = self.config.delivery
        msg = Message(
            row["key"], row["source"], row["step"], row["recipient"], row["channel"], row["address"], row["text"]
        )
        attempts = int(row["attempts"]) + 1
        notifier = self.notifiers.get(msg.channel)
        try:
            if notifier is None:
                raise DeliveryFailed(f"no notifier configured for {msg.channel!r}", permanent=True)
            await notifier.deliver(msg)
        except DeliveryFailed as exc:
            now = self.hub.clock()
            waiting = isinstance(exc, NotConnected)  # a console waits for its user: it never fails
            final = not waiting and (exc.permanent or attempts >= d.max_attempts)
            writes = [
                Write(
                    "routing_delivery",
                    {
                        "key": msg.key,
                        "attempts": attempts,
                        "error": str(exc),
                        "failed_at": now if final else None,
                        "next_at": now + retry_delay(attempts, d.backoff, d.backoff_max),
                        "claimed_by": self.instance,
                    },
                )
            ]
            if final:
                writes.append(audit("system", "delivery_failed", msg.source, now, key=msg.key, error=str(exc)))
            await self.hub.store.write(writes)
            return False
        now = self.hub.clock()
        await self.hub.store.write(
            [
                Write(
                    "routing_delivery",
                    {
                        "key": msg.key,
                        "attempts": attempts,
                        "next_at": now,
                        "delivered_at": now,
                        "claimed_by": self.instance,
                    },
                )
            ]
        )
        if msg.channel == "console":  # the user's connections on the other instances get it too
            await self._tell_others({"console": [msg.key]})
        return True

    async def _fall_back(self, now: float) -> None:
        """A console notification whose user has not connected for `console_fallback_after` is also sent on the
        fallback channels the contact has (once; audited). The console one keeps waiting for the user."""
        d = self.config.delivery
        if d.console_fallback_after <= 0:
            return
        async with self._fallback_lock:
            await self._fall_back_locked(now)

    async def _fall_back_locked(self, now: float) -> None:
        d = self.config.delivery
        for row in await rs.waiting_consoles(self.db, now - d.console_fallback_after):
            if self._has_console(row["address"]):
                continue  # connected: it is being delivered
            contact = self.directory.contacts.get(row["recipient"])
            channels = [
                (ch, contact.channels[ch])
                for ch in fallback_channels(d)
                if contact is not None and ch in contact.channels
            ]
            writes = [
                notification(row["source"], row["step"], contact, ch, addr, row["text"], now)
                for ch, addr in channels
                if contact is not None
            ]
            writes.append(
                audit(
                    "system",
                    "console_fallback",
                    row["source"],
                    now,
                    key=row["key"],
                    user=row["address"],
                    waited=now - float(row["created_at"]),
                    channels=[ch for ch, _ in channels],
                )
            )
            async with self.hub.store.unit() as db:
                if not await rs.claim_fallback(db, row["key"], now):
                    continue  # another instance fell back already, or it was delivered meanwhile
                await self.hub.store.apply(db, writes)
            self.outbox_wake.set()

    # -- commands: leaders ------------------------------------------------------------------------

    async def _esc(self, esc_id: str) -> Escalation:
        esc = await rs.load_escalation(self.db, esc_id)
        if esc is None:
            raise NotFound(f"no escalation {esc_id!r}")
        return esc

    async def _subscribe(self, conn: Connection, cmd: c.EscalationSubscribe, now: float) -> None:
        self.subscribers[conn] = cmd.id
        limit = max(1, min(cmd.limit, c.SNAPSHOT_LIMIT))
        open_ = await rs.list_escalations(self.db, "open", limit + 1)
        conn.send(
            messages.result(
                cmd.id,
                {
                    "subscription": cmd.id,
                    "escalations": [e.to_json() for e in open_[:limit]],
                    "more": len(open_) > limit,
                },
            )
        )

    async def _list(self, conn: Connection, cmd: c.EscalationList, now: float) -> None:
        limit = max(1, min(cmd.limit, c.LIST_LIMIT))
        found = await rs.list_escalations(self.db, cmd.status, limit + 1, after=cmd.after)
        conn.send(
            messages.result(cmd.id, {"escalations": [e.to_json() for e in found[:limit]], "more": len(found) > limit})
        )

    async def _change(
        self, conn: Connection, cid: int, esc_id: str, change: Callable[[Escalation, str], Effects]
    ) -> None:
        who = _who(conn)
        async with self.lock:
            async with self._locked(esc_id) as (db, esc):
                eff = change(esc, who)
                await self.hub.store.apply(db, eff.writes)
            await self.committed(eff)
        conn.send(messages.result(cid, {"escalation": esc.to_json()}))

    async def _ack(self, conn: Connection, cmd: c.EscalationAck, now: float) -> None:
        await self._change(conn, cmd.id, cmd.escalation_id, lambda e, who: self.policy.ack(e, who, now))

    async def _note(self, conn: Connection, cmd: c.EscalationNote, now: float) -> None:
        await self._change(conn, cmd.id, cmd.escalation_id, lambda e, who: self.policy.note(e, who, cmd.text, now))

    async def _unresolved(self, conn: Connection, cmd: c.EscalationUnresolved, now: float) -> None:
        await self._change(conn, cmd.id, cmd.escalation_id, lambda e, who: self.policy.mark_unresolved(e, who, now))

    async def _resolve(self, conn: Connection, cmd: c.EscalationResolve, now: float) -> None:
        p = conn.session.principal
        assert p is not None
        reply: dict[str, Any] = {}
        async with self.lock:
            esc = await self._esc(cmd.escalation_id)
            if esc.kind == "fault":
                raise Conflict("a fault's escalation ends with fault.recover (it records the recovery time)")
            if esc.status == "resolved":
                raise Conflict(f"escalation {esc.id} is already resolved")
            extra: list[Write] = []
            if cmd.category:
                if self.correct_category is None:
                    raise ValidationFailed(
                        "category corrections are not available on this service", fields={"category": "not available"}
                    )
                extra, reply["feedback"] = await self.correct_category(esc, cmd.category, p, now)
                if reply["feedback"] is not None:
                    extra.append(
                        audit(
                            p.user,
                            "category_feedback",
                            esc.id,
                            now,
                            category=cmd.category,
                            feedback_id=reply["feedback"]["feedback_id"],
                        )
                    )
            async with self._locked(esc.id) as (db, esc):  # read again: it may have changed elsewhere meanwhile
                eff = self.policy.resolve(esc, p.user, now, cmd.resolution, cmd.forwarded_to)
                eff.writes += extra
                await self.hub.store.apply(db, eff.writes)
            await self.committed(eff)
        conn.send(messages.result(cmd.id, {"escalation": esc.to_json(), **reply}))

    # -- commands: faults -------------------------------------------------------------------------

    async def _fault_open(self, conn: Connection, cmd: c.FaultOpen, now: float) -> None:
        who = _who(conn)
        tz = self.config.schedule.timezone
        form = check_form(
            {f: getattr(cmd, f) for f in ("occurred_at", "symptoms", "level", "system", "reported_by")}, tz, now
        )
        fault_id, esc_id = _new_id("F"), _new_id("E")
        subject = {k: form[k] for k in ("system", "symptoms", "level", "reported_by")}
        async with self.lock:
            esc, eff = self.policy.open(
                esc_id,
                "fault",
                fault_plan(form["level"], self.config.deadlines),
                subject,
                who,
                now,
                anchor=form["occurred_at"],
                fault_id=fault_id,
            )
            fault = Fault(
                fault_id,
                form["occurred_at"],
                form["symptoms"],
                form["level"],
                form["system"],
                form["reported_by"],
                who,
                now,
                esc_id,
            )
            if cmd.report_id:
                report = await self._esc(cmd.report_id)
                if report.kind != "fault_report":
                    raise ValidationFailed(
                        "report_id must be an agent's fault report",
                        fields={"report_id": f"{cmd.report_id} is a {report.kind} escalation"},
                    )
                if report.status == "open":
                    eff.add(self.policy.resolve(report, who, now, f"fault {fault_id} opened"))
            eff.writes.insert(0, fault.row())
            eff.writes.append(audit(who, "fault_open", fault_id, now, **subject, occurred_at=form["occurred_at"]))
            eff.events.append(_fault_event("opened", fault, now, who))
            call_id = report.subject.get("call_id") if cmd.report_id else None
            if isinstance(call_id, str):
                fault = await self._link_and_commit(fault, call_id, "report", who, now, before=eff)
            else:
                await self.commit(eff)
            self.active_faults[fault_id] = fault
        self._send_notices()
        deadlines = [
            {"step": s.name, "roles": list(s.roles), "due_at": s.due_at, "fired_at": s.fired_at}
            for s in esc.steps
            if not s.reminder_of
        ]
        conn.send(messages.result(cmd.id, {"fault": fault.to_json(), "escalation_id": esc_id, "deadlines": deadlines}))

    @contextlib.asynccontextmanager
    async def _fault(self, fault_id: str) -> AsyncIterator[tuple[Any, Fault, Escalation]]:
        """A fault and its escalation read under the escalation's row lock (`_locked`): a fault's changes on
        any instance take turns."""
        found = await rs.load_fault(self.db, fault_id)
        if found is None:
            raise NotFound(f"no fault {fault_id!r}")
        async with self._locked(found.escalation_id) as (db, esc):
            fault = await rs.load_fault(db, fault_id)
            assert fault is not None  # faults are never deleted
            yield db, fault, esc

    async def _fault_recover(self, conn: Connection, cmd: c.FaultRecover, now: float) -> None:
        who = _who(conn)
        cause, responsible = cmd.cause.strip(), cmd.responsible.strip()
        try:
            recovered_at = (
                now if cmd.recovered_at is None else parse_time(cmd.recovered_at, self.config.schedule.timezone)
            )
        except ValueError:
            raise ValidationFailed("bad recovery time", fields={"recovered_at": "epoch seconds or ISO 8601"}) from None
        async with self.lock:
            async with self._fault(cmd.fault_id) as (db, fault, esc):
                if fault.status == "recovered":
                    raise Conflict(f"fault {fault.id} was recovered already")
                if not fault.occurred_at <= recovered_at <= now + 60:
                    raise ValidationFailed(
                        "the recovery time must be after the fault began and not in the future",
                        fields={"recovered_at": "between occurred_at and now"},
                    )
                fault.status, fault.recovered_at = "recovered", recovered_at
                fault.cause, fault.responsible = cause or fault.cause, responsible or fault.responsible
                if fault.cause or fault.responsible:
                    esc.subject.update(cause=fault.cause, responsible=fault.responsible)
                eff = self.policy.resolve(esc, who, now, "recovered")
                eff.writes += [
                    fault.row(),
                    audit(
                        who,
                        "fault_recover",
                        fault.id,
                        now,
                        recovered_at=recovered_at,
                        cause=fault.cause,
                        responsible=fault.responsible,
                    ),
                ]
                eff.events.append(_fault_event("recovered", fault, now, who))
                await self.hub.store.apply(db, eff.writes)
            await self.committed(eff)
            self.active_faults.pop(fault.id, None)
        for conn_ in self.noticed.pop(fault.id, weakref.WeakSet()):
            conn_.send(messages.assist_notice("fault", fault_id=fault.id, active=False))
        conn.send(messages.result(cmd.id, {"fault": fault.to_json()}))

    async def _fault_unresolvable(self, conn: Connection, cmd: c.FaultUnresolvable, now: float) -> None:
        who = _who(conn)
        problems = {k: "required (text)" for k in ("cause", "responsible") if not getattr(cmd, k).strip()}
        if problems:
            raise ValidationFailed("record the cause and the responsible person", fields=problems)
        async with self.lock:
            async with self._fault(cmd.fault_id) as (db, fault, esc):
                if fault.status != "open":
                    raise Conflict(f"fault {fault.id} is {fault.status}")
                fault.status, fault.cause = "unresolvable", cmd.cause.strip()
                fault.responsible = cmd.responsible.strip()
                esc.subject.update(cause=fault.cause, responsible=fault.responsible)
                eff = self.policy.add_step(esc, UNRESOLVABLE, who, now)
                eff.add(self.policy.resolve(esc, who, now, f"unresolvable: {fault.cause}", status="unresolvable"))
                eff.writes += [
                    fault.row(),
                    audit(who, "fault_unresolvable", fault.id, now, cause=fault.cause, responsible=fault.responsible),
                ]
                eff.events.append(_fault_event("unresolvable", fault, now, who))
                await self.hub.store.apply(db, eff.writes)
            await self.committed(eff)
            self.active_faults[fault.id] = fault
        conn.send(messages.result(cmd.id, {"fault": fault.to_json(), "escalation": esc.to_json()}))

    async def _fault_update(self, conn: Connection, cmd: c.FaultUpdate, now: float) -> None:
        """Record or correct cause and responsible person, in any status (back office finds the cause later)."""
        who = _who(conn)
        changes = {k: v.strip() for k in ("cause", "responsible") if (v := getattr(cmd, k)) is not None}
        if not changes:
            raise ValidationFailed(
                "give the cause, the responsible person, or both",
                fields={"cause": "required (text)", "responsible": "required (text)"},
            )
        async with self.lock:
            async with self._fault(cmd.fault_id) as (db, fault, esc):
                if fault.status == "unresolvable":
                    empty = {
                        k: "required (text): an unresolvable fault keeps both" for k, v in changes.items() if not v
                    }
                    if empty:
                        raise ValidationFailed("record the cause and the responsible person", fields=empty)
                before = {k: getattr(fault, k) for k in changes}
                for k, v in changes.items():
                    setattr(fault, k, v)
                esc.subject.update(cause=fault.cause, responsible=fault.responsible)
                eff = Effects(
                    [fault.row(), esc.row(), audit(who, "fault_update", fault.id, now, before=before, after=changes)],
                    [_fault_event("updated", fault, now, who)],
                )
                await self.hub.store.apply(db, eff.writes)
            await self.committed(eff)
            if fault.id in self.active_faults:
                self.active_faults[fault.id] = fault
        conn.send(messages.result(cmd.id, {"fault": fault.to_json()}))

    async def _fault_link(self, conn: Connection, cmd: c.FaultLink, now: float) -> None:
        who = _who(conn)
        async with self.lock:
            async with self.hub.store.unit() as db:  # under the call's row lock: see `_link`
                found = await rs.lock_call(db, cmd.call_id)
                fault = await rs.load_fault(db, cmd.fault_id)
                if fault is None:
                    raise NotFound(f"no fault {cmd.fault_id!r}")
                if not found:
                    raise NotFound(f"no call {cmd.call_id!r}")
                if cmd.call_id in fault.calls:
                    raise Conflict(f"call {cmd.call_id} is already counted against fault {fault.id}")
                fault, eff = await self._link(db, fault, cmd.call_id, "leader", who, now, cmd.reason)
                await self.hub.store.apply(db, eff.writes)
            await self.committed(eff)
        conn.send(messages.result(cmd.id, {"fault": fault.to_json()}))

    async def _fault_unlink(self, conn: Connection, cmd: c.FaultUnlink, now: float) -> None:
        who = _who(conn)
        async with self.lock:
            async with self.hub.store.unit() as db:  # under the call's row lock: see `_link`
                await rs.lock_call(db, cmd.call_id)
                fault = await rs.load_fault(db, cmd.fault_id)
                if fault is None:
                    raise NotFound(f"no fault {cmd.fault_id!r}")
                if cmd.call_id not in fault.calls:
                    raise NotFound(f"call {cmd.call_id!r} is not counted against fault {fault.id}")
                eff = Effects(
                    [
                        *unlink_call(fault, cmd.call_id, who, now),
                        audit(who, "fault_unlink", fault.id, now, call_id=cmd.call_id, reason=cmd.reason),
                    ],
                    [_fault_event("unlinked", fault, now, who, call_id=cmd.call_id)],
                )
                await self.hub.store.apply(db, eff.writes)
            await self.committed(eff)
            self._cache(fault)
            if self.call_fault.get(cmd.call_id) == fault.id:
                self.call_fault[cmd.call_id] = None
        conn.send(messages.result(cmd.id, {"fault": fault.to_json()}))

    async def _fault_list(self, conn: Connection, cmd: c.FaultList, now: float) -> None:
        faults = await rs.list_faults(self.db, cmd.status)
        conn.send(messages.result(cmd.id, {"faults": [f.to_json() for f in faults]}))

    def talking_points(self, lang: str) -> list[str]:
        """What agents may say while a fault is declared: the pack's, or the plan's wording."""
        pack = self.hub.desk.pack
        script = pack.scripts.get("system_outage")
        points = [
            tp.render(lang, {}, pack.default_language)
            for tp in (script.talking_points if script else ())
            if tp.id == "declared_maintenance"
        ]
        return [*(points or DEFAULT_TALKING_POINTS[:1]), *DEFAULT_TALKING_POINTS[1:]]

    def _send_notices(self) -> None:
        """Every live agent connection learns of the active faults, once per connection and fault — at most
        `MAX_FAULT_NOTICES` of them, most severe and newest first (a day of many declared faults must not fill
        an agent's queue and cut the sidebar off)."""
        counts: dict[Connection, int] = {}
        for seen in self.noticed.values():
            for conn in seen:
                counts[conn] = counts.get(conn, 0) + 1
        points: dict[str, list[str]] = {}
        for fault in sorted(self.active_faults.values(), key=lambda f: (f.level, -f.opened_at)):
            seen = self.noticed.setdefault(fault.id, weakref.WeakSet())
            for conn in list(self.hub.connections):
                p = conn.session.principal
                if p is None or p.role not in ("agent", "admin") or conn in seen or conn.closed:
                    continue
                if counts.get(conn, 0) >= MAX_FAULT_NOTICES:
                    continue
                counts[conn] = counts.get(conn, 0) + 1
                seen.add(conn)
                if p.lang not in points:
                    points[p.lang] = self.talking_points(p.lang)
                conn.send(
                    messages.assist_notice(
                        "fault",
                        fault_id=fault.id,
                        active=True,
                        level=fault.level,
                        system=fault.system,
                        talking_points=points[p.lang],
                        text=f"已确认系统故障（{fault.system}），请按维护口径答复客户，不要说“系统坏了”。",
                    )
                )

    # -- commands: agents -------------------------------------------------------------------------

    async def _reported_fault(self, call_id: str, fault_id: str, text: str, now: float) -> Fault | None:
        """The declared fault an agent's outage report is about: the one the agent names, the one the call is
        already counted against, or the one whose system the call names in its window. None: the center has
        not been told of this failure, and the report goes to the seat administrator and shift leader."""
        if fault_id:
            fault = self.active_faults.get(fault_id)
            if fault is None:
                raise ValidationFailed("no such declared fault", fields={"fault_id": f"{fault_id} is not open"})
            return fault
        current = await rs.linked_fault(self.db, call_id)
        if current is not None and current in self.active_faults:
            return self.active_faults[current]
        started = (await rs.call_started(self.db, [call_id])).get(call_id, now)
        return self._match(call_id, text, started)

    async def _check_call(self, conn: Connection, call_id: str) -> dict[str, Any]:
        p = conn.session.principal
        assert p is not None
        live = self.hub.desk.calls.get(call_id)
        if live is not None and (live.user == p.user or p.role == "admin"):
            return {"context": live.context, "labels": list(live.result.labels)}
        owner = await rs.call_owner(self.db, call_id)
        if owner is None or (owner != p.user and p.role != "admin"):
            raise NotFound(f"no call {call_id!r} of yours")
        return {"context": {}, "labels": []}

    async def _record_submit(self, conn: Connection, cmd: c.RecordSubmit, now: float) -> None:
        who = _who(conn)
        call = await self._check_call(conn, cmd.call_id)
        pack = self.hub.desk.pack
        script = pack.scripts.get(cmd.form)
        if script is None or not script.checklist:
            forms = [k for k, v in pack.scripts.items() if v.checklist]
            raise ValidationFailed(f"unknown form {cmd.form!r}", fields={"form": f"one of {', '.join(forms)}"})
        fields = check_record(script.checklist, cmd.fields)
        lang = _lang(conn)
        wording = [
            tp.render(lang, call["context"], pack.default_language)
            for tp in script.talking_points
            if tp.id == "prescribed_reply"
        ]
        rec_id = _new_id("R")
        subject = {"call_id": cmd.call_id, "agent": who, "record_id": rec_id, **fields}
        reply: dict[str, Any] = {"record_id": rec_id, "wording": wording}
        async with self.lock:
            eff = Effects()
            fault = None
            if cmd.form == "system_outage" and not settled_on_call(cmd.form, fields):
                words = [str(v) for v in fields.values()]
                fault = await self._reported_fault(cmd.call_id, cmd.fault_id, self._call_text(cmd.call_id, *words), now)
            if settled_on_call(cmd.form, fields):
                kind, esc_id, fault_id = "suggestion", "", ""
            elif fault is not None:
                kind, esc_id, fault_id = "fault_link", "", fault.id
            else:
                kind, fault_id = "escalation", ""
                esc_kind = escalation_kind(cmd.form)
                esc_id = _new_id("E")
                esc, opened = self.policy.open(
                    esc_id, esc_kind, plan_for(esc_kind, self.config.deadlines), subject, who, now
                )
                eff.add(opened)
                reply["escalation"] = esc.to_json()
            eff.writes.append(
                Write(
                    "routing_record",
                    {
                        "id": rec_id,
                        "call_id": cmd.call_id,
                        "form": cmd.form,
                        "kind": kind,
                        "fields": fields,
                        "escalation_id": esc_id,
                        "fault_id": fault_id,
                        "submitted_by": who,
                        "at": now,
                    },
                )
            )
            eff.writes.append(audit(who, "record", rec_id, now, form=cmd.form, kind=kind, call_id=cmd.call_id))
            if fault is None:
                await self.commit(eff)
            else:
                fault = await self._link_and_commit(fault, cmd.call_id, "record", who, now, after=eff)
                reply.update(fault=fault.to_json(), talking_points=self.talking_points(lang))
        conn.send(
            messages.result(
                cmd.id, {**reply, "kind": kind, "escalation_id": esc_id or None, "fault_id": fault_id or None}
            )
        )

    async def _call_escalate(self, conn: Connection, cmd: c.CallEscalate, now: float) -> None:
        who = _who(conn)
        call = await self._check_call(conn, cmd.call_id)
        kind = escalation_kind(cmd.kind)
        async with self.lock:
            fault = None
            if kind == "fault_report":
                fault = await self._reported_fault(
                    cmd.call_id, cmd.fault_id, self._call_text(cmd.call_id, cmd.reason), now
                )
            if fault is not None:
                said = Effects([audit(who, "escalate", fault.id, now, call_id=cmd.call_id, reason=cmd.reason)])
                fault = await self._link_and_commit(fault, cmd.call_id, "escalate", who, now, cmd.reason, after=said)
                result = {
                    "kind": "fault_link",
                    "fault": fault.to_json(),
                    "escalation_id": None,
                    "talking_points": self.talking_points(_lang(conn)),
                }
            else:
                subject = {
                    "call_id": cmd.call_id,
                    "agent": who,
                    "reason": cmd.reason,
                    "labels": ",".join(call["labels"]),
                }
                esc, eff = self.policy.open(
                    _new_id("E"), kind, plan_for(kind, self.config.deadlines), subject, who, now
                )
                await self.commit(eff)
                result = {"kind": "escalation", "escalation_id": esc.id, "escalation": esc.to_json()}
        conn.send(messages.result(cmd.id, result))


def _ref(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event as a notice names it: its kind, time and author, and the ids of the state it shows (the
    escalation, the fault, the step fired), which the other instances read from the database."""
    ref = {k: v for k, v in event.items() if k not in _STATE}
    if isinstance(esc := event.get("escalation"), Mapping):
        ref["escalation_id"] = esc["escalation_id"]
    if isinstance(fault := event.get("fault"), Mapping):
        ref["fault_id"] = fault["fault_id"]
    if isinstance(step := event.get("step"), Mapping):
        ref["step_name"] = step["name"]
    return ref


def _rebuild(
    ref: Mapping[str, Any], escalations: Mapping[str, Escalation], faults: Mapping[str, Fault], report: str
) -> dict[str, Any] | None:
    """The event another instance pushed, from its reference (`_ref`) and the state it names as it now is;
    None when that state is not there."""
    event = {k: v for k, v in ref.items() if k not in ("escalation_id", "fault_id", "step_name")}
    if isinstance(esc_id := ref.get("escalation_id"), str):
        if (esc := escalations.get(esc_id)) is None:
            return None
        if isinstance(step := ref.get("step_name"), str):
            with contextlib.suppress(KeyError):
                event["step"] = esc.step(step).to_json()
        event["escalation"] = esc.to_json()
    if isinstance(fault_id := ref.get("fault_id"), str):
        if (fault := faults.get(fault_id)) is None:
            return None
        event["fault"] = fault.to_json()
    if event.get("event") == "report" and "escalation" not in event:
        event["text"] = report
    return event


def _fault_event(event: str, fault: Fault, now: float, who: str, **extra: Any) -> dict[str, Any]:
    """A `fault.event` push to the leaders' consoles (subscribers): the fault as it now is."""
    return messages.fault_event(event, now, who, **extra, fault=fault.to_json())


def _who(conn: Connection) -> str:
    p = conn.session.principal
    assert p is not None
    return p.user


def _lang(conn: Connection) -> str:
    p = conn.session.principal
    return p.lang if p is not None else "zh-CN"


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _next_slot(now: float, every: float) -> float:
    """The next multiple of `every` (e.g. each :00 and :30) after `now`."""
    return (math.floor(now / every) + 1) * every


def _schedule_row(name: str, next_at: float) -> Write:
    return Write("routing_schedule", {"name": name, "next_at": next_at})


def _directory_row(directory: Directory, who: str, now: float) -> Write:
    return Write("routing_directory", {"data": directory.to_json(), "updated_by": who, "updated_at": now})
