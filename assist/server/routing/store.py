"""Routing's tables in the service's store: schema, row writers, reads and claims.

Writes go through the store's writer, so an escalation's state change, its outbox rows and its
audit lines land in one transaction. Two guards make firing exactly-once even if a step were
computed twice: a fired step is never overwritten with another fire time, and an outbox row with
the same key (escalation, step, recipient, channel) is ignored. The audit table refuses UPDATE and
DELETE.

Several instances on one PostgreSQL database (docs/operations.md, "Escalations and deliveries across
instances") decide who does what with claims made inside a unit of work: an escalation's row is locked
(`lock_escalations`: `FOR UPDATE`, `SKIP LOCKED` for the scheduler) while it is read, fired or changed
and written; a call's row is locked (`lock_call`) while its fault links are read and changed; a report or
patrol is sent by whoever moves its `routing_schedule` time on (`claim_schedule`); a delivery is leased
(`claim_delivery`: `claimed_by`, `claimed_until`) while it is sent, and its record is kept only from the
lease's holder. On SQLite the unit's `BEGIN IMMEDIATE` locks
the file, which is all one instance needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

import aiosqlite

from assist.routing.escalation import Escalation
from assist.routing.faults import Fault
from assist.routing.report import DayFacts, day_bounds
from assist.server.ops.crypto import Sealed
from assist.server.store import Component, Statement, ToSql

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE routing_escalations (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, opened_at REAL NOT NULL,
        opened_by TEXT NOT NULL, status TEXT NOT NULL, acks TEXT NOT NULL, notes TEXT NOT NULL,
        resolved_at REAL, resolved_by TEXT NOT NULL, resolution TEXT NOT NULL, forwarded_to TEXT NOT NULL,
        fault_id TEXT NOT NULL);
    CREATE INDEX routing_escalations_status ON routing_escalations(status, opened_at);
    CREATE TABLE routing_steps (
        escalation_id TEXT NOT NULL, name TEXT NOT NULL, roles TEXT NOT NULL, text TEXT NOT NULL,
        step_offset REAL NOT NULL, anchor TEXT NOT NULL, due_at REAL NOT NULL, fired_at REAL,
        late INTEGER NOT NULL, cancelled INTEGER NOT NULL, recipients TEXT NOT NULL, reminder_of TEXT NOT NULL,
        reminder_n INTEGER NOT NULL, PRIMARY KEY (escalation_id, name));
    CREATE INDEX routing_steps_due ON routing_steps(due_at) WHERE fired_at IS NULL AND cancelled = 0;
    CREATE TABLE routing_outbox (
        key TEXT PRIMARY KEY, source TEXT NOT NULL, step TEXT NOT NULL, recipient TEXT NOT NULL,
        channel TEXT NOT NULL, address TEXT NOT NULL, text TEXT NOT NULL, created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, delivered_at REAL, failed_at REAL,
        last_error TEXT NOT NULL DEFAULT '');
    CREATE INDEX routing_outbox_due ON routing_outbox(next_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
    CREATE TABLE routing_audit (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE TRIGGER routing_audit_no_update BEFORE UPDATE ON routing_audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER routing_audit_no_delete BEFORE DELETE ON routing_audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TABLE routing_faults (
        id TEXT PRIMARY KEY, occurred_at REAL NOT NULL, symptoms TEXT NOT NULL, level INTEGER NOT NULL,
        system TEXT NOT NULL, reported_by TEXT NOT NULL, opened_by TEXT NOT NULL, opened_at REAL NOT NULL,
        escalation_id TEXT NOT NULL, status TEXT NOT NULL, recovered_at REAL, cause TEXT NOT NULL,
        responsible TEXT NOT NULL);
    CREATE TABLE routing_fault_calls (
        fault_id TEXT NOT NULL, call_id TEXT NOT NULL, how TEXT NOT NULL, at REAL NOT NULL,
        PRIMARY KEY (fault_id, call_id));
    CREATE TABLE routing_records (
        id TEXT PRIMARY KEY, call_id TEXT NOT NULL, form TEXT NOT NULL, kind TEXT NOT NULL, fields TEXT NOT NULL,
        escalation_id TEXT NOT NULL, fault_id TEXT NOT NULL, submitted_by TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX routing_records_at ON routing_records(at);
    CREATE TABLE routing_directory (
        version INTEGER PRIMARY KEY, data TEXT NOT NULL, updated_by TEXT NOT NULL, updated_at REAL NOT NULL);
    CREATE TABLE routing_schedule (name TEXT PRIMARY KEY, next_at REAL NOT NULL);
    """,
    # A leader unlinks a call from a fault (remembered, so that it is not linked again automatically);
    # who linked it; a console notification's fallback to other channels; pending rows by target (rowid order
    # is queue order: outbox rows are never deleted).
    """
    ALTER TABLE routing_fault_calls ADD COLUMN by TEXT NOT NULL DEFAULT '';
    ALTER TABLE routing_fault_calls ADD COLUMN removed_at REAL;
    ALTER TABLE routing_fault_calls ADD COLUMN removed_by TEXT NOT NULL DEFAULT '';
    CREATE INDEX routing_fault_calls_call ON routing_fault_calls(call_id);
    ALTER TABLE routing_outbox ADD COLUMN fallback_at REAL;
    CREATE INDEX routing_outbox_pending ON routing_outbox(channel, address)
        WHERE delivered_at IS NULL AND failed_at IS NULL;
    """,
    # A delivery's lease: the instance sending it, and until when (another may take it after that).
    """
    ALTER TABLE routing_outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE routing_outbox ADD COLUMN claimed_until REAL;
    """,
)


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _escalation(r: Mapping[str, Any]) -> list[Statement]:
    cols = (
        "id",
        "kind",
        "subject",
        "opened_at",
        "opened_by",
        "status",
        "acks",
        "notes",
        "resolved_at",
        "resolved_by",
        "resolution",
        "forwarded_to",
        "fault_id",
    )
    values = tuple(
        Sealed(_j(r[c]))
        if c in ("subject", "notes")
        else _j(r[c])
        if c == "acks"
        else Sealed(r[c])
        if c == "resolution"
        else r[c]
        for c in cols
    )
    updates = ", ".join(f"{c}=excluded.{c}" for c in cols[1:])
    return [
        (
            f"INSERT INTO routing_escalations({', '.join(cols)}) VALUES ({','.join('?' * len(cols))}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            values,
        )
    ]


def _step(r: Mapping[str, Any]) -> list[Statement]:
    cols = (
        "escalation_id",
        "name",
        "roles",
        "text",
        "step_offset",
        "anchor",
        "due_at",
        "fired_at",
        "late",
        "cancelled",
        "recipients",
        "reminder_of",
        "reminder_n",
    )
    row = {
        **r,
        "step_offset": r["offset"],
        "roles": _j(r["roles"]),
        "recipients": _j(r["recipients"]),
        "late": int(r["late"]),
        "cancelled": int(r["cancelled"]),
    }
    updates = ", ".join(f"{c}=excluded.{c}" for c in cols[2:])
    # A fired step keeps its first fire time: firing is exactly once even if computed twice.
    return [
        (
            f"INSERT INTO routing_steps({', '.join(cols)}) VALUES ({','.join('?' * len(cols))}) "
            f"ON CONFLICT(escalation_id, name) DO UPDATE SET {updates} "
            "WHERE routing_steps.fired_at IS NULL OR routing_steps.fired_at = excluded.fired_at",
            tuple(row[c] for c in cols),
        )
    ]


WRITERS: Mapping[str, ToSql] = MappingProxyType(
    {
        "routing_escalation": _escalation,
        "routing_step": _step,
        "routing_outbox": lambda r: [
            (
                "INSERT OR IGNORE INTO routing_outbox(key, source, step, recipient, "
                "channel, address, text, created_at, "
                "next_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    r["key"],
                    r["source"],
                    r["step"],
                    r["recipient"],
                    r["channel"],
                    r["address"],
                    Sealed(r["text"]),
                    r["created_at"],
                    r["created_at"],
                ),
            )
        ],
        # A delivery's outcome, kept only from the holder of its lease (which it releases).
        "routing_delivery": lambda r: [
            (
                "UPDATE routing_outbox SET attempts=?, next_at=?, delivered_at=?, "
                "failed_at=?, last_error=?, claimed_by='', claimed_until=NULL WHERE key=? AND claimed_by=?",
                (
                    r["attempts"],
                    r["next_at"],
                    r.get("delivered_at"),
                    r.get("failed_at"),
                    r.get("error", ""),
                    r["key"],
                    r.get("claimed_by", ""),
                ),
            )
        ],
        "routing_audit": lambda r: [
            (
                "INSERT INTO routing_audit(at, who, action, subject, detail) VALUES (?,?,?,?,?)",
                (r["at"], r["who"], r["action"], r["subject"], Sealed(_j(r["detail"]))),
            )
        ],
        "routing_fault": lambda r: [
            (
                "INSERT INTO routing_faults(id, occurred_at, symptoms, level, system, "
                "reported_by, opened_by, opened_at, "
                "escalation_id, status, recovered_at, cause, responsible) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET status=excluded.status, recovered_at=excluded.recovered_at, "
                "cause=excluded.cause, responsible=excluded.responsible",
                (
                    r["id"],
                    r["occurred_at"],
                    Sealed(r["symptoms"]),
                    r["level"],
                    r["system"],
                    r["reported_by"],
                    r["opened_by"],
                    r["opened_at"],
                    r["escalation_id"],
                    r["status"],
                    r["recovered_at"],
                    Sealed(r["cause"]),
                    r["responsible"],
                ),
            )
        ],
        "routing_fault_call": lambda r: [
            (
                "INSERT INTO routing_fault_calls(fault_id, call_id, how, at, by) VALUES (?,?,?,?,?) "
                "ON CONFLICT(fault_id, call_id) DO UPDATE SET how=excluded.how, at=excluded.at, by=excluded.by, "
                "removed_at=NULL, removed_by='' WHERE routing_fault_calls.removed_at IS NOT NULL",
                (r["fault_id"], r["call_id"], r["how"], r["at"], r.get("by", "")),
            )
        ],
        "routing_fault_unlink": lambda r: [
            (
                "UPDATE routing_fault_calls SET removed_at=?, removed_by=? WHERE fault_id=? AND call_id=? "
                "AND removed_at IS NULL",
                (r["at"], r["by"], r["fault_id"], r["call_id"]),
            )
        ],
        "routing_record": lambda r: [
            (
                "INSERT INTO routing_records(id, call_id, form, kind, fields, "
                "escalation_id, fault_id, submitted_by, at) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    r["id"],
                    r["call_id"],
                    r["form"],
                    r["kind"],
                    Sealed(_j(r["fields"])),
                    r["escalation_id"],
                    r["fault_id"],
                    r["submitted_by"],
                    r["at"],
                ),
            )
        ],
        "routing_directory": lambda r: [
            (
                "INSERT INTO routing_directory(data, updated_by, updated_at) VALUES (?,?,?)",
                (_j(r["data"]), r["updated_by"], r["updated_at"]),
            )
        ],
        "routing_schedule": lambda r: [
            (
                "INSERT INTO routing_schedule(name, next_at) VALUES (?,?) ON CONFLICT(name) DO UPDATE SET "
                "next_at=excluded.next_at",
                (r["name"], r["next_at"]),
            )
        ],
    }
)
"""How each of routing's `Write` kinds becomes SQL."""

PG_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE routing_escalations (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, opened_at DOUBLE PRECISION NOT NULL,
        opened_by TEXT NOT NULL, status TEXT NOT NULL, acks TEXT NOT NULL, notes TEXT NOT NULL,
        resolved_at DOUBLE PRECISION, resolved_by TEXT NOT NULL, resolution TEXT NOT NULL,
        forwarded_to TEXT NOT NULL, fault_id TEXT NOT NULL, rowid BIGINT GENERATED ALWAYS AS IDENTITY);
    CREATE INDEX routing_escalations_status ON routing_escalations(status, opened_at);
    CREATE TABLE routing_steps (
        escalation_id TEXT NOT NULL, name TEXT NOT NULL, roles TEXT NOT NULL, text TEXT NOT NULL,
        step_offset DOUBLE PRECISION NOT NULL, anchor TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL,
        fired_at DOUBLE PRECISION, late BIGINT NOT NULL, cancelled BIGINT NOT NULL, recipients TEXT NOT NULL,
        reminder_of TEXT NOT NULL, reminder_n BIGINT NOT NULL, rowid BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (escalation_id, name));
    CREATE INDEX routing_steps_due ON routing_steps(due_at) WHERE fired_at IS NULL AND cancelled = 0;
    CREATE TABLE routing_outbox (
        key TEXT PRIMARY KEY, source TEXT NOT NULL, step TEXT NOT NULL, recipient TEXT NOT NULL,
        channel TEXT NOT NULL, address TEXT NOT NULL, text TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0, next_at DOUBLE PRECISION NOT NULL, delivered_at DOUBLE PRECISION,
        failed_at DOUBLE PRECISION, last_error TEXT NOT NULL DEFAULT '',
        rowid BIGINT GENERATED ALWAYS AS IDENTITY);
    CREATE INDEX routing_outbox_due ON routing_outbox(next_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
    CREATE TABLE routing_audit (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at DOUBLE PRECISION NOT NULL, who TEXT NOT NULL,
        action TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE FUNCTION routing_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
    CREATE TRIGGER routing_audit_no_update BEFORE UPDATE OR DELETE ON routing_audit
        FOR EACH ROW EXECUTE FUNCTION routing_audit_append_only();
    CREATE TABLE routing_faults (
        id TEXT PRIMARY KEY, occurred_at DOUBLE PRECISION NOT NULL, symptoms TEXT NOT NULL, level BIGINT NOT NULL,
        system TEXT NOT NULL, reported_by TEXT NOT NULL, opened_by TEXT NOT NULL,
        opened_at DOUBLE PRECISION NOT NULL, escalation_id TEXT NOT NULL, status TEXT NOT NULL,
        recovered_at DOUBLE PRECISION, cause TEXT NOT NULL, responsible TEXT NOT NULL,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY);
    CREATE TABLE routing_fault_calls (
        fault_id TEXT NOT NULL, call_id TEXT NOT NULL, how TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (fault_id, call_id));
    CREATE TABLE routing_records (
        id TEXT PRIMARY KEY, call_id TEXT NOT NULL, form TEXT NOT NULL, kind TEXT NOT NULL, fields TEXT NOT NULL,
        escalation_id TEXT NOT NULL, fault_id TEXT NOT NULL, submitted_by TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL, rowid BIGINT GENERATED ALWAYS AS IDENTITY);
    CREATE INDEX routing_records_at ON routing_records(at);
    CREATE TABLE routing_directory (
        version BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, data TEXT NOT NULL, updated_by TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL);
    CREATE TABLE routing_schedule (
        name TEXT PRIMARY KEY, next_at DOUBLE PRECISION NOT NULL, rowid BIGINT GENERATED ALWAYS AS IDENTITY);
    """,
    """
    ALTER TABLE routing_fault_calls ADD COLUMN "by" TEXT NOT NULL DEFAULT '';
    ALTER TABLE routing_fault_calls ADD COLUMN removed_at DOUBLE PRECISION;
    ALTER TABLE routing_fault_calls ADD COLUMN removed_by TEXT NOT NULL DEFAULT '';
    CREATE INDEX routing_fault_calls_call ON routing_fault_calls(call_id);
    ALTER TABLE routing_outbox ADD COLUMN fallback_at DOUBLE PRECISION;
    CREATE INDEX routing_outbox_pending ON routing_outbox(channel, address)
        WHERE delivered_at IS NULL AND failed_at IS NULL;
    """,
    """
    ALTER TABLE routing_outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE routing_outbox ADD COLUMN claimed_until DOUBLE PRECISION;
    """,
)
"""`MIGRATIONS` for PostgreSQL: `rowid` is SQLite's insertion order (read by the outbox queue and step order)."""

COMPONENT = Component(
    "routing",
    MIGRATIONS,
    WRITERS,
    pg_migrations=PG_MIGRATIONS,
    sealed=(
        ("routing_escalations", "subject"),
        ("routing_escalations", "notes"),
        ("routing_escalations", "resolution"),
        ("routing_outbox", "text"),
        ("routing_audit", "detail"),
        ("routing_faults", "symptoms"),
        ("routing_faults", "cause"),
        ("routing_records", "fields"),
    ),
)
"""Sealed: what callers said or typed (an escalation's subject, notes and resolution, a notification's text,
audit details, a fault's symptoms and cause, a record's fields). In clear: ids, times, kinds, states, staff ids
and addresses, step plans and the directory (staff, not customers)."""


# -- reads ----------------------------------------------------------------------------------------


async def _all(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """All rows in one call on the connection's thread: no read statement stays open between awaits, where
    it could make another coroutine's `BEGIN IMMEDIATE` on the same connection fail ("database is locked")."""
    return [dict(r) for r in await db.execute_fetchall(sql, params)]


async def load_escalation(db: aiosqlite.Connection, esc_id: str) -> Escalation | None:
    rows = await _all(db, "SELECT * FROM routing_escalations WHERE id=?", (esc_id,))
    if not rows:
        return None
    steps = await _all(
        db, 'SELECT *, step_offset AS "offset" FROM routing_steps WHERE escalation_id=? ORDER BY rowid', (esc_id,)
    )
    return Escalation.from_rows(rows[0], steps)


async def escalations_of_call(db: aiosqlite.Connection, call_id: str, since: float) -> list[Escalation]:
    """The escalations filed about a call, opened since it started, oldest first. The subject is matched
    here, not in SQL: it is customer data, which the store may keep encrypted."""
    rows = await _all(
        db, "SELECT id, subject FROM routing_escalations WHERE opened_at >= ? ORDER BY opened_at", (since,)
    )
    ids = [str(r["id"]) for r in rows if _subject_call(r["subject"]) == call_id]
    return await load_escalations(db, ids)


def _subject_call(subject: Any) -> str | None:
    try:
        found = json.loads(subject) if isinstance(subject, str) else subject
    except ValueError:
        return None
    call_id = found.get("call_id") if isinstance(found, dict) else None
    return call_id if isinstance(call_id, str) else None


async def load_escalations(db: aiosqlite.Connection, ids: list[str]) -> list[Escalation]:
    """Several escalations with their steps in two queries (the scheduler fires a pass's due ones together),
    in the order of `ids`; ids not found are left out."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {r["id"]: r for r in await _all(db, f"SELECT * FROM routing_escalations WHERE id IN ({marks})", tuple(ids))}
    steps: dict[str, list[dict[str, Any]]] = {}
    for s in await _all(
        db,
        f'SELECT *, step_offset AS "offset" FROM routing_steps WHERE escalation_id IN ({marks}) ORDER BY rowid',
        tuple(ids),
    ):
        steps.setdefault(s["escalation_id"], []).append(s)
    return [Escalation.from_rows(rows[i], steps.get(i, ())) for i in ids if i in rows]


async def list_escalations(
    db: aiosqlite.Connection,
    status: str,
    limit: int,
    since: float | None = None,
    until: float | None = None,
    after: str | None = None,
) -> list[Escalation]:
    where: list[str] = []
    params: list[Any] = []
    if status == "open":
        where.append("status IN ('open', 'unresolvable')")
    if after is not None:  # newest first, ties in time broken by id: the page after `after`
        where.append(
            "(opened_at < (SELECT opened_at FROM routing_escalations WHERE id = ?) OR (opened_at = "
            "(SELECT opened_at FROM routing_escalations WHERE id = ?) AND id < ?))"
        )
        params += [after, after, after]
    if since is not None and until is not None:
        where.append("opened_at >= ? AND opened_at < ?")
        params += [since, until]
    sql = "SELECT id FROM routing_escalations" + (" WHERE " + " AND ".join(where) if where else "")
    ids = [r["id"] for r in await _all(db, sql + " ORDER BY opened_at DESC, id DESC LIMIT ?", (*params, limit))]
    return [e for e in [await load_escalation(db, i) for i in ids] if e is not None]


async def due_escalations(db: aiosqlite.Connection, now: float) -> list[str]:
    rows = await _all(
        db,
        "SELECT s.escalation_id FROM routing_steps s JOIN routing_escalations e "
        "ON e.id = s.escalation_id WHERE e.status='open' AND s.fired_at IS NULL "
        "AND s.cancelled=0 AND s.due_at <= ? GROUP BY s.escalation_id ORDER BY MIN(s.due_at)",
        (now,),
    )
    return [r["escalation_id"] for r in rows]


async def next_wake(db: aiosqlite.Connection) -> float | None:
    """The earliest moment something is due: a step, a delivery, a scheduled report or patrol."""
    rows = await _all(
        db,
        """
        SELECT MIN(t) AS t FROM (
          SELECT MIN(s.due_at) AS t FROM routing_steps s JOIN routing_escalations e ON e.id = s.escalation_id
            WHERE e.status='open' AND s.fired_at IS NULL AND s.cancelled=0
          UNION ALL SELECT MIN(next_at) FROM routing_outbox WHERE delivered_at IS NULL AND failed_at IS NULL
          UNION ALL SELECT MIN(next_at) FROM routing_schedule) AS due""",
    )
    t = rows[0]["t"] if rows else None
    return float(t) if t is not None else None


async def due_outbox(db: aiosqlite.Connection, now: float, limit: int = 100) -> list[dict[str, Any]]:
    return await _all(
        db,
        "SELECT * FROM routing_outbox WHERE delivered_at IS NULL AND failed_at IS NULL "
        "AND next_at <= ? ORDER BY next_at LIMIT ?",
        (now, limit),
    )


async def pending_heads(db: aiosqlite.Connection) -> list[dict[str, Any]]:
    """For each target (channel, address) with something to deliver, its oldest undelivered notification:
    a target's notifications go out in the order they were queued, one at a time."""
    return await _all(
        db,
        "SELECT * FROM routing_outbox WHERE rowid IN (SELECT MIN(rowid) FROM routing_outbox "
        "WHERE delivered_at IS NULL AND failed_at IS NULL GROUP BY channel, address)",
    )


async def target_head(db: aiosqlite.Connection, channel: str, address: str) -> dict[str, Any] | None:
    rows = await _all(
        db,
        "SELECT * FROM routing_outbox WHERE channel=? AND address=? AND delivered_at IS NULL "
        "AND failed_at IS NULL ORDER BY created_at, rowid LIMIT 1",
        (channel, address),
    )
    return rows[0] if rows else None


async def waiting_consoles(db: aiosqlite.Connection, before: float) -> list[dict[str, Any]]:
    """Console notifications queued before `before` that are still waiting and have not fallen back yet."""
    return await _all(
        db,
        "SELECT * FROM routing_outbox WHERE channel='console' AND delivered_at IS NULL "
        "AND failed_at IS NULL AND fallback_at IS NULL AND created_at <= ? ORDER BY created_at",
        (before,),
    )


async def linked_fault(db: aiosqlite.Connection, call_id: str) -> str | None:
    """The fault a call is counted against, if any."""
    rows = await _all(
        db,
        "SELECT fault_id FROM routing_fault_calls WHERE call_id=? AND removed_at IS NULL ORDER BY at DESC LIMIT 1",
        (call_id,),
    )
    return str(rows[0]["fault_id"]) if rows else None


async def call_started(db: aiosqlite.Connection, call_ids: list[str]) -> dict[str, float]:
    if not call_ids:
        return {}
    rows = await _all(
        db, f"SELECT call_id, started_at FROM calls WHERE call_id IN ({','.join('?' * len(call_ids))})", tuple(call_ids)
    )
    return {r["call_id"]: float(r["started_at"]) for r in rows}


async def load_fault(db: aiosqlite.Connection, fault_id: str) -> Fault | None:
    rows = await _all(db, "SELECT * FROM routing_faults WHERE id=?", (fault_id,))
    if not rows:
        return None
    calls = await _all(
        db, "SELECT call_id, removed_at FROM routing_fault_calls WHERE fault_id=? ORDER BY at, rowid", (fault_id,)
    )
    return Fault.from_row(
        rows[0],
        [c["call_id"] for c in calls if c["removed_at"] is None],
        [c["call_id"] for c in calls if c["removed_at"] is not None],
    )


async def list_faults(
    db: aiosqlite.Connection, status: str, since: float | None = None, until: float | None = None
) -> list[Fault]:
    where, params = [], []
    if status == "open":
        where.append("status != 'recovered'")
    if since is not None and until is not None:
        where.append("occurred_at < ? AND (recovered_at IS NULL OR recovered_at >= ?)")
        params += [until, since]
    sql = "SELECT id FROM routing_faults" + (" WHERE " + " AND ".join(where) if where else "")
    ids = [r["id"] for r in await _all(db, sql + " ORDER BY occurred_at DESC", tuple(params))]
    return [f for f in [await load_fault(db, i) for i in ids] if f is not None]


async def load_directory(db: aiosqlite.Connection) -> dict[str, Any] | None:
    rows = await _all(db, "SELECT data FROM routing_directory ORDER BY version DESC LIMIT 1")
    return dict(json.loads(rows[0]["data"])) if rows else None


async def schedule(db: aiosqlite.Connection) -> dict[str, float]:
    return {r["name"]: float(r["next_at"]) for r in await _all(db, "SELECT * FROM routing_schedule")}


async def call_owner(db: aiosqlite.Connection, call_id: str) -> str | None:
    rows = await _all(db, "SELECT user FROM calls WHERE call_id=?", (call_id,))
    return str(rows[0]["user"]) if rows else None


async def day_facts(db: aiosqlite.Connection, day: date, tz: str) -> DayFacts:
    since, until = day_bounds(day, tz)
    cats = await _all(
        db,
        "SELECT COALESCE(category, 'live') AS c, COUNT(*) AS n FROM calls "
        "WHERE started_at >= ? AND started_at < ? GROUP BY 1",
        (since, until),
    )
    records = await _all(
        db, "SELECT form, kind, fields FROM routing_records WHERE at >= ? AND at < ? ORDER BY at", (since, until)
    )
    faults = await list_faults(db, "all", since, until)
    escalations = await list_escalations(db, "all", 10_000, since, until)
    return DayFacts(
        day,
        {r["c"]: int(r["n"]) for r in cats},
        [f.to_json() for f in faults],
        [{**r, "fields": json.loads(r["fields"])} for r in records],
        [e.to_json() for e in escalations],
    )


async def audit_trail(db: aiosqlite.Connection, subject: str | None = None) -> list[dict[str, Any]]:
    if subject is None:
        rows = await _all(db, "SELECT * FROM routing_audit ORDER BY id")
    else:
        rows = await _all(db, "SELECT * FROM routing_audit WHERE subject=? ORDER BY id", (subject,))
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


# -- claims (inside a unit of work: `Store.unit()`) -----------------------------------------------


def _row_lock(db: Any, wait: bool) -> str:
    """PostgreSQL's row lock for a unit's SELECT; nothing on SQLite, whose unit already holds the file's."""
    if isinstance(db, aiosqlite.Connection):
        return ""
    return " FOR UPDATE" if wait else " FOR UPDATE SKIP LOCKED"


async def lock_escalations(db: Any, ids: list[str], *, wait: bool) -> list[str]:
    """Lock the rows of the escalations `ids` until the unit ends, in the order of `ids`; ids not found are left
    out, and with `wait=False` so are those another instance holds (its scheduler is firing them, or a leader
    is changing them): the caller reads them afresh after this, so what it decides on is what it locked."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await _all(
        db, f"SELECT id FROM routing_escalations WHERE id IN ({marks}) ORDER BY id{_row_lock(db, wait)}", tuple(ids)
    )
    found = {str(r["id"]) for r in rows}
    return [i for i in ids if i in found]


async def lock_call(db: Any, call_id: str) -> bool:
    """Lock the call's row until the unit ends, so that its fault links change one at a time cluster-wide (each
    change reads the links again after this); False when there is no such call."""
    rows = await _all(db, f"SELECT call_id FROM calls WHERE call_id=?{_row_lock(db, True)}", (call_id,))
    return bool(rows)


async def claim_schedule(db: Any, name: str, was: float, next_at: float) -> bool:
    """Move a report's or patrol's time from `was` (the one that fell due) to `next_at`; False when another
    instance moved it first (and sent it)."""
    cur = await db.execute("UPDATE routing_schedule SET next_at=? WHERE name=? AND next_at=?", (next_at, name, was))
    return bool(cur.rowcount == 1)


async def claim_delivery(db: Any, key: str, attempts: int, by: str, now: float, until: float) -> bool:
    """Lease an undelivered notification to `by` until `until`, if it is still as read (`attempts`) and nobody
    holds it (no lease, or one that ran out: its holder died mid-send)."""
    cur = await db.execute(
        "UPDATE routing_outbox SET claimed_by=?, claimed_until=? WHERE key=? AND attempts=? "
        "AND delivered_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)",
        (by, until, key, attempts, now),
    )
    return bool(cur.rowcount == 1)


async def claim_fallback(db: Any, key: str, at: float) -> bool:
    """Mark a waiting console notification as fallen back, once; False when it was, or has been delivered."""
    cur = await db.execute(
        "UPDATE routing_outbox SET fallback_at=? WHERE key=? AND fallback_at IS NULL "
        "AND delivered_at IS NULL AND failed_at IS NULL",
        (at, key),
    )
    return bool(cur.rowcount == 1)


async def outbox_row(db: aiosqlite.Connection, key: str) -> dict[str, Any] | None:
    rows = await _all(db, "SELECT * FROM routing_outbox WHERE key=?", (key,))
    return rows[0] if rows else None


async def last_report_text(db: aiosqlite.Connection) -> str:
    """The text of the newest daily report sent (another instance pushes it to its leaders)."""
    rows = await _all(db, "SELECT detail FROM routing_audit WHERE action='daily_report' ORDER BY id DESC LIMIT 1")
    return str(json.loads(rows[0]["detail"]).get("text", "")) if rows else ""


async def release_leases(db: aiosqlite.Connection) -> int:
    """Drop every delivery lease (a unit's connection): on SQLite, where the only instance is the one starting,
    a lease left by a crash must not hold its notification back until it runs out."""
    cur = await db.execute("UPDATE routing_outbox SET claimed_by='', claimed_until=NULL WHERE claimed_by <> ''")
    return int(cur.rowcount)
