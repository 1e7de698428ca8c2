"""What the shift-leader console reads from the store: calls, their records and transcript tail, a day's calls.

Read-only SQL on the service's one aiosqlite connection (writes stay with the store's writer),
so the console never needs a new method on the routing service. Customer fields arrive decrypted (the
connection's row factory opens sealed values); SQL never looks inside them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import aiosqlite

from assist.live.calls import CallState
from assist.routing.report import DayFacts, day_bounds
from assist.server.routing import store as rs


async def _all(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    async with db.execute(sql, params) as cur:
        return [dict(r) async for r in cur]


def _load(text: Any, default: Any) -> Any:
    if not isinstance(text, str) or not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


async def calls_by_id(db: aiosqlite.Connection, call_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Stored call rows (agent, context, started/ended, final category and labels) by call id."""
    ids = list(dict.fromkeys(call_ids))
    if not ids:
        return {}
    rows = await _all(db, f"SELECT * FROM calls WHERE call_id IN ({','.join('?' * len(ids))})", tuple(ids))
    return {
        r["call_id"]: {
            "call_id": r["call_id"],
            "agent": r["user"],
            "context": _load(r["context"], {}),
            "started_at": r["started_at"],
            "ended_at": r["ended_at"],
            "disposition": r["disposition"],
            "category": r["category"],
            "labels": _load(r["labels"], []),
        }
        for r in rows
    }


async def records_of_call(db: aiosqlite.Connection, call_id: str) -> list[dict[str, Any]]:
    """Agents' records (checklist forms) submitted for a call, oldest first."""
    rows = await _all(
        db,
        "SELECT id, form, kind, fields, escalation_id, fault_id, submitted_by, at "
        "FROM routing_records WHERE call_id=? ORDER BY at",
        (call_id,),
    )
    return [{**r, "fields": _load(r["fields"], {})} for r in rows]


async def transcript_tail(db: aiosqlite.Connection, call_id: str, n: int) -> list[dict[str, Any]]:
    """The last `n` final transcript lines of a call, oldest first: what the leader reads before calling back."""
    rows = await _all(
        db,
        "SELECT payload FROM call_events WHERE call_id=? AND kind='transcript' ORDER BY id DESC LIMIT ?",
        (call_id, n * 2),
    )
    lines = [p for p in (_load(r["payload"], {}) for r in rows) if p.get("final", True)]
    return [{"speaker": p.get("speaker"), "text": p.get("text", "")} for p in reversed(lines[:n])]


async def last_category(db: aiosqlite.Connection, call_id: str) -> tuple[str, list[str]] | None:
    """The latest classification pushed for a call (its category while it was live)."""
    rows = await _all(
        db, "SELECT category, labels FROM classifications WHERE call_id=? ORDER BY id DESC LIMIT 1", (call_id,)
    )
    return (rows[0]["category"], _load(rows[0]["labels"], [])) if rows else None


async def open_escalations_by_call(db: aiosqlite.Connection) -> dict[str, list[dict[str, str]]]:
    """Open escalations keyed by the call they came from (the live-calls view flags those calls)."""
    rows = await _all(
        db,
        "SELECT id, kind, subject FROM routing_escalations WHERE status IN ('open', 'unresolvable') ORDER BY opened_at",
    )
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows:  # the subject is sealed: its call id is read here, not by SQL
        call_id = _load(r["subject"], {}).get("call_id")
        if isinstance(call_id, str):
            out.setdefault(call_id, []).append({"escalation_id": r["id"], "kind": r["kind"]})
    return out


async def calls_started(db: aiosqlite.Connection, since: float, until: float) -> list[tuple[str, float, str]]:
    """(call_id, started_at, category) of calls started in [since, until): the final category, else the
    latest one pushed, else `none`."""
    rows = await _all(
        db,
        """
        SELECT c.call_id, c.started_at, COALESCE(c.category,
          (SELECT k.category FROM classifications k WHERE k.call_id = c.call_id ORDER BY k.id DESC LIMIT 1),
          'none') AS category
        FROM calls c WHERE c.started_at >= ? AND c.started_at < ? ORDER BY c.started_at""",
        (since, until),
    )
    return [(r["call_id"], float(r["started_at"]), str(r["category"])) for r in rows]


async def report_facts(db: aiosqlite.Connection, day: date, tz: str, live: Mapping[str, CallState]) -> DayFacts:
    """The day's facts for its report, with every call's start and category (a live call's current one): the
    one source of the preview, the report sent by hand and the scheduled one, so all three say the same."""
    facts = await rs.day_facts(db, day, tz)
    since, until = day_bounds(day, tz)
    facts.calls = [
        (at, live[cid].result.category if cid in live else cat)
        for cid, at, cat in await calls_started(db, since, until)
    ]
    return facts


async def live_elsewhere(db: aiosqlite.Connection, call_ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Live calls as the store has them (all of them, or those of `call_ids` still live), each with its latest
    labels: what the leader list shows of calls another instance holds. The context arrives decrypted (the
    row factory); SQL filters on clear columns only."""
    head = "SELECT call_id, user, context, started_at FROM calls WHERE ended_at IS NULL"
    if call_ids is None:
        rows = await _all(db, head)
    else:
        ids, rows = list(dict.fromkeys(call_ids)), []
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            rows += await _all(db, f"{head} AND call_id IN ({','.join('?' * len(part))})", tuple(part))
    found = {r["call_id"]: r for r in rows}
    live, labels = list(found), {}
    for i in range(0, len(live), 500):
        part = live[i : i + 500]
        latest = await _all(
            db,
            "SELECT call_id, category, labels FROM classifications WHERE id IN "
            f"(SELECT MAX(id) FROM classifications WHERE call_id IN ({','.join('?' * len(part))}) GROUP BY call_id)",
            tuple(part),
        )
        labels.update({r["call_id"]: (str(r["category"]), _load(r["labels"], [])) for r in latest})
    out: dict[str, dict[str, Any]] = {}
    for cid, r in found.items():
        category, shown = labels.get(cid, ("none", ["none"]))
        out[cid] = {
            "agent": r["user"],
            "context": _load(r["context"], {}),
            "started_at": float(r["started_at"]),
            "category": category,
            "labels": shown,
        }
    return out
