"""Feedback's table in the service's SQLite store: schema, row writer and reads.

Items are written through the store's group-committing writer (so an item is durable before the
command that made it is acknowledged, and a leader's correction lands in the same transaction as
the escalation it resolves). A decided item never changes again: the upsert only touches open rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import aiosqlite

from assist.feedback.items import FeedbackItem
from assist.server.ops.crypto import Sealed
from assist.server.store import Component, Statement

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feedback_items (
        id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, source TEXT NOT NULL,
        call_id TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL, created_at REAL NOT NULL,
        updated_at REAL NOT NULL, pack_version TEXT NOT NULL, call TEXT NOT NULL, predicted TEXT NOT NULL,
        corrected TEXT NOT NULL, rule TEXT NOT NULL, line_index INTEGER, line_text TEXT NOT NULL,
        phrase TEXT NOT NULL, comment TEXT NOT NULL, escalation_id TEXT NOT NULL, status TEXT NOT NULL,
        decided_by TEXT NOT NULL, decided_at REAL, reason TEXT NOT NULL, labels TEXT NOT NULL,
        draft_id INTEGER, sample_id TEXT NOT NULL);
    CREATE INDEX feedback_items_status ON feedback_items(status, created_at);
    CREATE INDEX feedback_items_call ON feedback_items(call_id);
    """,
)

COLUMNS = (
    "id",
    "key",
    "kind",
    "source",
    "call_id",
    "user",
    "role",
    "created_at",
    "updated_at",
    "pack_version",
    "call",
    "predicted",
    "corrected",
    "rule",
    "line_index",
    "line_text",
    "phrase",
    "comment",
    "escalation_id",
    "status",
    "decided_by",
    "decided_at",
    "reason",
    "labels",
    "draft_id",
    "sample_id",
)
_JSON = frozenset({"call", "predicted", "labels"})
_SEALED = ("call", "line_text", "phrase", "comment", "reason")
"""What the caller and agent said and what people wrote about it; categories, rules and states stay in clear."""


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _item(r: Mapping[str, Any]) -> list[Statement]:
    values = tuple(_sealed(c, _j(r[c]) if c in _JSON else r[c]) for c in COLUMNS)
    updates = ", ".join(f"{c}=excluded.{c}" for c in COLUMNS[1:] if c != "created_at")
    return [
        (
            f"INSERT INTO feedback_items({', '.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates} WHERE feedback_items.status = 'open'",
            values,
        )
    ]


PG_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feedback_items (
        id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, source TEXT NOT NULL,
        call_id TEXT NOT NULL, "user" TEXT NOT NULL, role TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL, pack_version TEXT NOT NULL, call TEXT NOT NULL,
        predicted TEXT NOT NULL, corrected TEXT NOT NULL, rule TEXT NOT NULL, line_index BIGINT,
        line_text TEXT NOT NULL, phrase TEXT NOT NULL, comment TEXT NOT NULL, escalation_id TEXT NOT NULL,
        status TEXT NOT NULL, decided_by TEXT NOT NULL, decided_at DOUBLE PRECISION, reason TEXT NOT NULL,
        labels TEXT NOT NULL, draft_id BIGINT, sample_id TEXT NOT NULL,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY);
    CREATE INDEX feedback_items_status ON feedback_items(status, created_at);
    CREATE INDEX feedback_items_call ON feedback_items(call_id);
    """,
)
"""`MIGRATIONS` for PostgreSQL."""


def _sealed(column: str, value: Any) -> Any:
    return Sealed(value) if column in _SEALED else value


COMPONENT = Component(
    "feedback",
    MIGRATIONS,
    MappingProxyType({"feedback_item": _item}),
    pg_migrations=PG_MIGRATIONS,
    sealed=tuple(("feedback_items", c) for c in _SEALED),
)


async def load_item(db: aiosqlite.Connection, item_id: str) -> FeedbackItem | None:
    async with db.execute("SELECT * FROM feedback_items WHERE id=?", (item_id,)) as cur:
        row = await cur.fetchone()
    return FeedbackItem.from_row(dict(row)) if row else None


async def item_by_key(db: aiosqlite.Connection, key: str) -> FeedbackItem | None:
    async with db.execute("SELECT * FROM feedback_items WHERE key=?", (key,)) as cur:
        row = await cur.fetchone()
    return FeedbackItem.from_row(dict(row)) if row else None


async def list_items(db: aiosqlite.Connection, status: str, kind: str, limit: int) -> list[FeedbackItem]:
    """Newest first; open items oldest first (a queue)."""
    where, args = [], []
    if status != "all":
        where.append("status=?")
        args.append(status)
    if kind != "all":
        where.append("kind=?")
        args.append(kind)
    order = "created_at ASC" if status == "open" else "updated_at DESC"
    sql = f"SELECT * FROM feedback_items {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {order} LIMIT ?"
    async with db.execute(sql, (*args, limit)) as cur:
        return [FeedbackItem.from_row(dict(r)) async for r in cur]


async def count_open(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT count(*) FROM feedback_items WHERE status='open'") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def call_items(db: aiosqlite.Connection, call_id: str) -> list[FeedbackItem]:
    async with db.execute("SELECT * FROM feedback_items WHERE call_id=? ORDER BY created_at", (call_id,)) as cur:
        return [FeedbackItem.from_row(dict(r)) async for r in cur]


async def stored_call(db: aiosqlite.Connection, call_id: str) -> dict[str, Any] | None:
    """A stored call (live or ended): owner, context, end, final labels and its events in order."""
    async with db.execute("SELECT user, context, ended_at, labels FROM calls WHERE call_id=?", (call_id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    async with db.execute("SELECT kind, payload FROM call_events WHERE call_id=? ORDER BY id", (call_id,)) as cur:
        events = [{"kind": k, "payload": json.loads(p)} async for k, p in cur]
    labels: list[str] = json.loads(row["labels"]) if row["labels"] else []
    if not labels:
        labels = next((list(e["payload"]["labels"]) for e in reversed(events) if e["kind"] == "labels"), [])
    return {
        "user": row["user"],
        "context": json.loads(row["context"]),
        "ended_at": row["ended_at"],
        "labels": labels or ["none"],
        "events": events,
    }


async def pushed_warning(db: aiosqlite.Connection, call_id: str, index: int, rule: str) -> dict[str, Any] | None:
    """The warning the call was given for that line and rule, if it was given."""
    async with db.execute(
        "SELECT line, rule, phrase FROM warnings WHERE call_id=? AND line=? AND rule=? ORDER BY id LIMIT 1",
        (call_id, index, rule),
    ) as cur:
        row = await cur.fetchone()
    return dict(row) if row else None


async def classified_calls(db: aiosqlite.Connection, since: float) -> list[tuple[str, float, str]]:
    """(call_id, started_at, primary category) of calls started since then: the final category of an ended
    call, the latest decision of a live one."""
    async with db.execute(
        "SELECT c.call_id, c.started_at, COALESCE(c.category, (SELECT k.category FROM classifications k "
        "WHERE k.call_id = c.call_id ORDER BY k.id DESC LIMIT 1), 'none') FROM calls c WHERE c.started_at >= ?",
        (since,),
    ) as cur:
        return [(str(r[0]), float(r[1]), str(r[2])) async for r in cur]


async def corrected_calls(db: aiosqlite.Connection, since: float) -> list[str]:
    """Calls started since then with a category correction nobody rejected."""
    async with db.execute(
        "SELECT DISTINCT f.call_id FROM feedback_items f JOIN calls c ON c.call_id = f.call_id "
        "WHERE f.kind = 'category' AND f.status != 'rejected' AND c.started_at >= ?",
        (since,),
    ) as cur:
        return [str(r[0]) async for r in cur]
