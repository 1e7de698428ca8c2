"""Prometheus metrics of one instance, in a registry the instance owns (no module-level global).

Most figures are read when Prometheus scrapes (`refresh`): live connections and calls from the hub,
queue depths from each connection, the outbox and escalation deadlines from the database (read
connection), and the counters of notes, transcript lines, calls and feedback items from the rows
committed since the last scrape (each table's rowid only grows, so a scrape reads only new rows).
What can only be timed where it happens (classify and note -> update latency, pushes dropped) is
recorded by the hub through the methods below.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiosqlite
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CLASSIFY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass
class _Marks:
    """How far each counted table has been read (rowid), and the last escalation step fire seen."""

    events: int = 0
    calls: int = 0
    feedback: int = 0
    fired: tuple[float, str, str] = (0.0, "", "")


class Metrics:
    """Instruments of one instance. `refresh(hub, now)` then `render()` answers a scrape."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.connections = Gauge("assist_connections", "Open websocket connections, by role.", ["role"], registry=r)
        self.live_calls = Gauge("assist_live_calls", "Live calls, by primary category.", ["category"], registry=r)
        self.notes = Counter("assist_notes", "Note updates committed (call.note).", registry=r)
        self.transcript_lines = Counter(
            "assist_transcript_lines", "Transcript lines committed (call.transcript, interim ones too).", registry=r
        )
        self.calls_started = Counter("assist_calls_started", "Calls started.", registry=r)
        self.classify_seconds = Histogram(
            "assist_classify_seconds",
            "Time to decide a call's labels on one command.",
            buckets=CLASSIFY_BUCKETS,
            registry=r,
        )
        self.note_update_seconds = Histogram(
            "assist_note_update_seconds",
            "From a note or transcript line read off the socket to its reply and pushes queued "
            "(classified and durably committed).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.push_queue = Gauge(
            "assist_push_queue_messages",
            "Messages waiting in the connections' send queues: total and the fullest one.",
            ["which"],
            registry=r,
        )
        self.pushes_dropped = Counter(
            "assist_pushes_dropped",
            "Messages not sent because a client's queue was full (the client is cut off).",
            registry=r,
        )
        self.outbox_pending = Gauge(
            "assist_outbox_pending", "Notifications waiting for delivery, by channel.", ["channel"], registry=r
        )
        self.outbox_oldest = Gauge(
            "assist_outbox_oldest_age_seconds",
            "Age of the oldest notification waiting for delivery, by channel.",
            ["channel"],
            registry=r,
        )
        self.outbox_failed = Gauge(
            "assist_outbox_failed", "Notifications given up after every attempt, by channel.", ["channel"], registry=r
        )
        self.deadline_overdue = Gauge(
            "assist_escalation_overdue_seconds",
            "How far past due the oldest unfired escalation step is (0: none is).",
            registry=r,
        )
        self.deadline_lag = Histogram(
            "assist_escalation_fire_lag_seconds",
            "How late each escalation step fired after its deadline.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.pack = Gauge(
            "assist_pack_info", "The pack version in force (value 1).", ["pack_id", "version"], registry=r
        )
        self.pack_version = Gauge("assist_pack_version", "Number of the pack version in force.", registry=r)
        self.feedback = Counter("assist_feedback_items", "Feedback items filed, by kind.", ["kind"], registry=r)
        self.feedback_open = Gauge("assist_feedback_open", "Feedback items waiting for a trainer.", registry=r)
        self._marks: _Marks | None = None
        self._channels: set[str] = set()
        self._lock = asyncio.Lock()

    # -- hooks: called where the thing happens -----------------------------------------------------

    def classified(self, seconds: float) -> None:
        """The desk decided one command's call in `seconds`."""
        self.classify_seconds.observe(seconds)

    def note_handled(self, seconds: float) -> None:
        """A note or transcript line went from the socket to its reply and pushes in `seconds`."""
        self.note_update_seconds.observe(seconds)

    def push_dropped(self, n: int = 1) -> None:
        self.pushes_dropped.inc(n)

    # -- scrape --------------------------------------------------------------------------------------

    async def start(self, db: aiosqlite.Connection) -> None:
        """Count from now on: rows already in the database are not this process's."""
        async with self._lock:
            self._marks = await _current_marks(db)

    async def refresh(self, hub: Any, now: float) -> None:
        """Read every figure of `hub` (connections, desk, store) as of `now`."""
        async with self._lock:
            db: aiosqlite.Connection = hub.store.db
            if self._marks is None:
                self._marks = await _current_marks(db)
            await self._count_rows(db, self._marks)
            await self._outbox(db, now)
            await self._deadlines(db, now, self._marks)
            self.feedback_open.set(await _scalar(db, "SELECT COUNT(*) FROM feedback_items WHERE status='open'"))
            self._live(hub)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _live(self, hub: Any) -> None:
        roles: dict[str, int] = {}
        total = fullest = 0
        for conn in list(hub.connections):
            principal = conn.session.principal
            role = principal.role if principal is not None else "unauthenticated"
            roles[role] = roles.get(role, 0) + 1
            depth = len(conn.queue)
            total += depth
            fullest = max(fullest, depth)
        self.connections.clear()
        for role, n in roles.items():
            self.connections.labels(role).set(n)
        self.push_queue.labels("total").set(total)
        self.push_queue.labels("max").set(fullest)
        categories: dict[str, int] = {}
        for call in list(hub.desk.calls.values()):
            if not call.ended:
                categories[call.result.category] = categories.get(call.result.category, 0) + 1
        self.live_calls.clear()
        for category, n in categories.items():
            self.live_calls.labels(category).set(n)
        desk = hub.desk
        self.pack.clear()
        self.pack.labels(desk.pack.id, desk.pack_version).set(1)
        number = re.search(r"\d+", desk.pack_version)
        self.pack_version.set(int(number.group(0)) if number else 0)

    async def _count_rows(self, db: aiosqlite.Connection, marks: _Marks) -> None:
        rows = await _rows(
            db,
            "SELECT kind, COUNT(*) AS n, MAX(id) AS top FROM call_events WHERE id > ? GROUP BY kind",
            (marks.events,),
        )
        for row in rows:
            if row["kind"] == "note":
                self.notes.inc(row["n"])
            elif row["kind"] == "transcript":
                self.transcript_lines.inc(row["n"])
            marks.events = max(marks.events, int(row["top"]))
        row = (await _rows(db, "SELECT COUNT(*) AS n, MAX(rowid) AS top FROM calls WHERE rowid > ?", (marks.calls,)))[0]
        if row["n"]:
            self.calls_started.inc(row["n"])
            marks.calls = int(row["top"])
        for row in await _rows(
            db,
            "SELECT kind, COUNT(*) AS n, MAX(rowid) AS top FROM feedback_items WHERE rowid > ? GROUP BY kind",
            (marks.feedback,),
        ):
            self.feedback.labels(row["kind"]).inc(row["n"])
            marks.feedback = max(marks.feedback, int(row["top"]))

    async def _outbox(self, db: aiosqlite.Connection, now: float) -> None:
        pending = await _rows(
            db,
            "SELECT channel, COUNT(*) AS n, MIN(created_at) AS oldest FROM routing_outbox "
            "WHERE delivered_at IS NULL AND failed_at IS NULL GROUP BY channel",
        )
        failed = await _rows(
            db, "SELECT channel, COUNT(*) AS n FROM routing_outbox WHERE failed_at IS NOT NULL GROUP BY channel"
        )
        self._channels |= {r["channel"] for r in pending} | {r["channel"] for r in failed}
        by_pending: Mapping[str, Any] = {r["channel"]: r for r in pending}
        by_failed = {r["channel"]: r["n"] for r in failed}
        for channel in self._channels:
            row = by_pending.get(channel)
            self.outbox_pending.labels(channel).set(row["n"] if row else 0)
            self.outbox_oldest.labels(channel).set(max(0.0, now - row["oldest"]) if row else 0)
            self.outbox_failed.labels(channel).set(by_failed.get(channel, 0))

    async def _deadlines(self, db: aiosqlite.Connection, now: float, marks: _Marks) -> None:
        oldest = await _scalar(
            db,
            "SELECT MIN(s.due_at) FROM routing_steps s JOIN routing_escalations e "
            "ON e.id = s.escalation_id WHERE e.status='open' AND s.fired_at IS NULL "
            "AND s.cancelled=0 AND s.due_at <= ?",
            (now,),
        )
        self.deadline_overdue.set(max(0.0, now - oldest) if oldest is not None else 0.0)
        fired = await _rows(
            db,
            "SELECT fired_at, escalation_id, name, due_at FROM routing_steps "
            "WHERE fired_at IS NOT NULL AND (fired_at, escalation_id, name) > (?, ?, ?) "
            "ORDER BY fired_at, escalation_id, name",
            marks.fired,
        )
        for row in fired:
            self.deadline_lag.observe(max(0.0, row["fired_at"] - row["due_at"]))
            marks.fired = (row["fired_at"], row["escalation_id"], row["name"])


async def _rows(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    async with db.execute(sql, params) as cur:
        return [dict(r) async for r in cur]


async def _scalar(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    async with db.execute(sql, params) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def _current_marks(db: aiosqlite.Connection) -> _Marks:
    fired = await _rows(
        db,
        "SELECT fired_at, escalation_id, name FROM routing_steps WHERE fired_at IS NOT NULL "
        "ORDER BY fired_at DESC, escalation_id DESC, name DESC LIMIT 1",
    )
    return _Marks(
        events=int(await _scalar(db, "SELECT COALESCE(MAX(id), 0) FROM call_events")),
        calls=int(await _scalar(db, "SELECT COALESCE(MAX(rowid), 0) FROM calls")),
        feedback=int(await _scalar(db, "SELECT COALESCE(MAX(rowid), 0) FROM feedback_items")),
        fired=(fired[0]["fired_at"], fired[0]["escalation_id"], fired[0]["name"]) if fired else (0.0, "", ""),
    )
