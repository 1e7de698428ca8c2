"""One store suite, two backends: every component's migrations, row writers and reads give the same answers
on SQLite and on PostgreSQL (`db_target` runs each test on both)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assist.effects import Write
from assist.scripts import lifecycle as lc
from assist.server.feedback import store as fs
from assist.server.leader import data as leader_data
from assist.server.ops.metrics import _current_marks
from assist.server.ops.retention import purge
from assist.server.packs import store as ps
from assist.server.routing import store as rs
from assist.server.schema import SCHEMA
from assist.server.store import Store
from tests.pgcluster import cipher_for


@pytest.fixture
async def store(db_target: Path | str) -> AsyncIterator[Store]:
    opened = await Store.open(db_target, SCHEMA, cipher_for(db_target))
    opened.start_writer()
    try:
        yield opened
    finally:
        await opened.close()


async def rows(store: Store, sql: str, *params: Any) -> list[dict[str, Any]]:
    async with store.db.execute(sql, params) as cur:
        return [dict(r) async for r in cur]


async def test_migrations_are_versioned_and_a_second_start_applies_none(db_target: Path | str) -> None:
    first = await Store.open(db_target, SCHEMA, cipher_for(db_target))
    await first.close()
    again = await Store.open(db_target, SCHEMA, cipher_for(db_target))
    try:
        versions = {r["component"]: r["version"] for r in await rows(again, "SELECT * FROM schema_versions")}
        assert versions == {c.name: len(c.migrations) for c in SCHEMA.components}
        assert all(len(c.pg_migrations) == len(c.migrations) for c in SCHEMA.components), (
            "each migration has its PostgreSQL twin"
        )
    finally:
        await again.close()


async def test_tokens_and_a_call_round_trip(store: Store) -> None:
    token = await store.issue_token("a1", "agent", 1.0)
    await store.issue_token("a2", "agent", 2.0)
    assert await store.lookup_token(token) == ("a1", "agent")
    listed = await store.list_tokens()
    assert [(t["user"], t["role"], t["revoked_at"]) for t in listed] == [("a1", "agent", None), ("a2", "agent", None)]
    assert set(listed[0]) == {"id", "user", "role", "created_at", "revoked_at"}
    assert await store.revoke_tokens(3.0, token_id=listed[1]["id"]) == 1
    assert await store.revoke_tokens(3.0, token_id="%") == 0, "never a pattern"
    assert await store.lookup_token(token) == ("a1", "agent")

    context = {"customer": "张三", "phone": "13800001234"}
    await store.write(
        [
            Write("call_start", {"call_id": "c1", "user": "a1", "context": context, "started_at": 10.0}),
            Write("call_event", {"call_id": "c1", "kind": "note", "payload": {"text": "客户问利率 100%"}, "at": 11.0}),
            Write(
                "classification",
                {
                    "call_id": "c1",
                    "category": "fees",
                    "labels": ["fees"],
                    "evidence": [],
                    "pack_version": "v1",
                    "at": 11.0,
                },
            ),
            Write(
                "warning",
                {
                    "call_id": "c1",
                    "index": 0,
                    "rule": "r",
                    "phrase": "保证",
                    "span": [0, 2],
                    "alternative": "一般",
                    "at": 11.5,
                },
            ),
        ]
    )
    live = await store.live_call("c1")
    assert live == ({"user": "a1", "context": context}, [{"kind": "note", "payload": {"text": "客户问利率 100%"}}])
    assert await store.live_call_ids() == [("c1", 11.0)]
    await store.write(
        [
            Write(
                "call_end",
                {"call_id": "c1", "ended_at": 20.0, "disposition": "resolved", "category": "fees", "labels": ["fees"]},
            )
        ]
    )
    assert await store.call_ended("c1")
    history = await store.call_history("c1")
    assert history is not None
    assert set(history) == {
        "call_id",
        "user",
        "context",
        "started_at",
        "ended_at",
        "disposition",
        "category",
        "labels",
        "warnings",
    }, "no column SQLite would not show (PostgreSQL's rowid)"
    assert history["warnings"] == [{"line": 0, "rule": "r", "phrase": "保证", "span": [0, 2], "alternative": "一般"}]
    assert (history["started_at"], history["ended_at"], history["labels"]) == (10.0, 20.0, ["fees"])


async def test_pack_versions_drafts_and_audit(store: Store) -> None:
    model = bytes(range(256)) * 4
    async with store.unit() as db:
        v1 = await ps.save_version(db, "default", "v1", "d1", {"a.yaml": "x: 1"}, "published", "disk:/p", 1.0)
        v2 = await ps.save_version(db, "default", "v2", "d2", {"a.yaml": "x: 2"}, "published", "t1", 2.0, model=model)
    assert (v1, v2) == (1, 2)
    current = await ps.current(store.db)
    assert current == (2, {"a.yaml": "x: 2"}, model)
    assert await ps.disk_digest(store.db) == "d1"
    draft = lc.Draft(
        id=await ps.next_draft_id(store.db),
        base_version=2,
        files={"a.yaml": "x: 3"},
        author="t1",
        created_at=3.0,
        updated_at=3.0,
    )
    async with store.unit() as db:
        first = await ps.save_draft(
            db, draft, lc.Audit(3.0, "t1", "create", draft.id, None, {"note": "新"}), insert=True
        )
        await ps.save_draft(
            db, replace(draft, status="submitted", approvals=("t2",)), lc.Audit(4.0, "t2", "approve", draft.id)
        )
        # a save of one changed file merges it into the stored files (json_patch; jsonb || on PostgreSQL)
        await ps.save_draft(
            db,
            replace(draft, status="submitted", approvals=("t2",), files={"a.yaml": "x: 3", "b.yaml": "y: 1"}),
            lc.Audit(5.0, "t1", "edit", draft.id),
            held=(first + 1, {"a.yaml": "x: 3"}),
        )
    found = await ps.draft(store.db, draft.id)
    assert found is not None
    got, revision = found
    assert got.status == "submitted" and got.approvals == ("t2",) and revision == first + 2
    assert got.files == {"a.yaml": "x: 3", "b.yaml": "y: 1"}
    assert [d.id for d, _ in await ps.drafts(store.db)] == [1]
    assert await ps.next_draft_id(store.db) == 2
    trail = await ps.audit(store.db, draft_id=1)
    assert [(a["user"], a["action"], a["detail"]) for a in trail] == [
        ("t1", "edit", {}),
        ("t2", "approve", {}),
        ("t1", "create", {"note": "新"}),
    ]


def step(esc: str, name: str, due: float, fired: float | None = None) -> Write:
    return Write(
        "routing_step",
        {
            "escalation_id": esc,
            "name": name,
            "roles": ["leader"],
            "text": "t",
            "offset": 0.0,
            "anchor": "opened",
            "due_at": due,
            "fired_at": fired,
            "late": False,
            "cancelled": False,
            "recipients": [],
            "reminder_of": "",
            "reminder_n": 0,
        },
    )


def escalation(esc: str, call_id: str, opened_at: float, status: str = "open") -> Write:
    return Write(
        "routing_escalation",
        {
            "id": esc,
            "kind": "complaint",
            "subject": {"call_id": call_id},
            "opened_at": opened_at,
            "opened_by": "a1",
            "status": status,
            "acks": [],
            "notes": [],
            "resolved_at": None,
            "resolved_by": "",
            "resolution": "",
            "forwarded_to": "",
            "fault_id": "",
        },
    )


def outbox(key: str, channel: str, address: str, at: float) -> Write:
    return Write(
        "routing_outbox",
        {
            "key": key,
            "source": "e",
            "step": "s",
            "recipient": "r",
            "channel": channel,
            "address": address,
            "text": "通知",
            "created_at": at,
        },
    )


async def test_a_delivery_lease_whose_holder_died_runs_out_and_another_instance_takes_it(store: Store) -> None:
    """Two instances sending one notification: the lease keeps the second off while the first sends, lets it
    take over once the lease runs out (the first died mid-send), and only the holder's outcome is kept."""
    await store.write([outbox("k1", "sms", "138", 1.0)])

    async def claim(by: str, now: float, until: float) -> bool:
        async with store.unit() as db:
            return await rs.claim_delivery(db, "k1", 0, by, now, until)

    assert await claim("a", 10.0, 31.0), "nobody holds it"
    assert not await claim("b", 20.0, 41.0), "a holds it until 31"
    assert not await claim("b", 31.0, 52.0), "still a's at the instant it runs out"
    assert await claim("b", 31.5, 52.5), "a's lease ran out: a died mid-send"
    late = {"key": "k1", "attempts": 1, "next_at": 40.0, "delivered_at": 40.0}
    await store.write([Write("routing_delivery", {**late, "claimed_by": "a"})])  # a's outcome, too late
    assert (await rows(store, "SELECT claimed_by, delivered_at FROM routing_outbox WHERE key='k1'")) == [
        {"claimed_by": "b", "delivered_at": None}
    ], "only the lease holder's outcome counts"
    await store.write([Write("routing_delivery", {**late, "claimed_by": "b"})])
    assert (await rows(store, "SELECT claimed_by, delivered_at FROM routing_outbox WHERE key='k1'")) == [
        {"claimed_by": "", "delivered_at": 40.0}
    ]
    assert not await claim("a", 60.0, 81.0), "a delivered notification is nobody's to send again"


async def test_routing_guards_queue_order_and_append_only_audit(store: Store) -> None:
    await store.write(
        [
            escalation("e1", "c1", 1.0),
            escalation("e2", "c2", 2.0),
            step("e1", "first", 50.0),
            step("e1", "second", 80.0),
            step("e2", "first", 40.0),
        ]
    )
    assert await rs.due_escalations(store.db, 60.0) == ["e2", "e1"], "earliest due step first"
    assert await rs.next_wake(store.db) == 40.0
    await store.write([step("e2", "first", 40.0, fired=41.0)])
    await store.write([step("e2", "first", 40.0, fired=99.0)])  # computed twice: the first fire time stays
    fired = await rows(store, "SELECT fired_at FROM routing_steps WHERE escalation_id='e2'")
    assert fired == [{"fired_at": 41.0}]
    assert [
        s["name"] for s in (await rows(store, "SELECT name FROM routing_steps WHERE escalation_id='e1' ORDER BY rowid"))
    ] == ["first", "second"]

    await store.write(
        [outbox("k2", "sms", "138", 5.0), outbox("k1", "sms", "138", 6.0), outbox("k3", "email", "x@b", 7.0)]
    )
    await store.write([outbox("k2", "sms", "138", 9.0)])  # the same key again: ignored
    assert [r["key"] for r in await rows(store, "SELECT key FROM routing_outbox ORDER BY key")] == ["k1", "k2", "k3"]
    heads = sorted((h["channel"], h["key"], h["created_at"]) for h in await rs.pending_heads(store.db))
    assert heads == [("email", "k3", 7.0), ("sms", "k2", 5.0)], "each target's oldest, in queue order"
    await store.write([Write("routing_delivery", {"key": "k2", "attempts": 1, "next_at": 6.0, "delivered_at": 6.0})])
    head = await rs.target_head(store.db, "sms", "138")
    assert head is not None and head["key"] == "k1" and "rowid" not in head

    await store.write(
        [Write("routing_fault_call", {"fault_id": "f1", "call_id": "c1", "how": "auto", "at": 1.0, "by": "system"})]
    )
    assert await rs.linked_fault(store.db, "c1") == "f1"
    await store.write([Write("routing_fault_unlink", {"fault_id": "f1", "call_id": "c1", "by": "s1", "at": 2.0})])
    assert await rs.linked_fault(store.db, "c1") is None
    links = await rows(store, "SELECT by, removed_by FROM routing_fault_calls")
    assert links == [{"by": "system", "removed_by": "s1"}]

    await store.write(
        [
            Write(
                "routing_audit", {"at": 1.0, "who": "s1", "action": "ack", "subject": "e1", "detail": {"step": "first"}}
            )
        ]
    )
    assert [a["detail"] for a in await rs.audit_trail(store.db, "e1")] == [{"step": "first"}]
    with pytest.raises(Exception, match="append-only"):
        async with store.unit() as db:
            await db.execute("UPDATE routing_audit SET who='x'")
    with pytest.raises(Exception, match="append-only"):
        async with store.unit() as db:
            await db.execute("DELETE FROM routing_audit")
    assert len(await rs.audit_trail(store.db)) == 1

    await store.write([Write("routing_schedule", {"name": "patrol", "next_at": 5.0})])
    await store.write([Write("routing_schedule", {"name": "patrol", "next_at": 7.0})])
    assert await rs.schedule(store.db) == {"patrol": 7.0}
    await store.write(
        [
            Write("routing_directory", {"data": {"v": 1}, "updated_by": "s", "updated_at": 1.0}),
            Write("routing_directory", {"data": {"v": 2}, "updated_by": "s", "updated_at": 2.0}),
        ]
    )
    assert await rs.load_directory(store.db) == {"v": 2}
    assert await leader_data.open_escalations_by_call(store.db) == {
        "c1": [{"escalation_id": "e1", "kind": "complaint"}],
        "c2": [{"escalation_id": "e2", "kind": "complaint"}],
    }


def item(status: str, comment: str) -> Write:
    return Write(
        "feedback_item",
        {
            "id": "fb1",
            "key": "c1|category",
            "kind": "category",
            "source": "agent",
            "call_id": "c1",
            "user": "a1",
            "role": "agent",
            "created_at": 1.0,
            "updated_at": 2.0,
            "pack_version": "v1",
            "call": {"notes": []},
            "predicted": ["fees"],
            "corrected": "card",
            "rule": "",
            "line_index": None,
            "line_text": "",
            "phrase": "",
            "comment": comment,
            "escalation_id": "",
            "status": status,
            "decided_by": "",
            "decided_at": None,
            "reason": "",
            "labels": ["card"],
            "draft_id": None,
            "sample_id": "",
        },
    )


async def test_a_decided_feedback_item_never_changes_again(store: Store) -> None:
    await store.write([item("open", "first")])
    await store.write([item("accepted", "decided")])
    await store.write([item("open", "late edit")])
    found = await fs.load_item(store.db, "fb1")
    assert found is not None and (found.status, found.comment) == ("accepted", "decided")
    assert [i.id for i in await fs.list_items(store.db, "all", "category", 10)] == ["fb1"]


async def test_metrics_marks_and_retention_purge(store: Store) -> None:
    await store.write(
        [
            Write(
                "call_start",
                {"call_id": f"c{n}", "user": "a1", "context": {"phone": "13800001234"}, "started_at": float(n)},
            )
            for n in range(3)
        ]
    )
    await store.write(
        [
            Write("call_event", {"call_id": "c0", "kind": "note", "payload": {"text": "旧"}, "at": 1.0}),
            Write("call_event", {"call_id": "c0", "kind": "note", "payload": {"text": "新"}, "at": 10 * 86400.0}),
        ]
    )
    marks = await _current_marks(store.db)
    assert (marks.events, marks.calls, marks.feedback) == (2, 3, 0)
    done = await purge(store, 10 * 86400.0, 5, batch=1)
    assert done.events == 1
    left = await rows(store, "SELECT payload FROM call_events ORDER BY id")
    assert [json.loads(r["payload"])["text"] for r in left] == ["新"]


async def test_a_nul_in_a_value_never_fails_a_group_commit(store: Store) -> None:
    """PostgreSQL's text cannot hold NUL (SQLite's can): the value is stored with U+FFFD instead, and the
    other writes of the same batch commit with it."""
    await store.write(
        [
            Write("call_start", {"call_id": "c\x00", "user": "a1", "context": {}, "started_at": 1.0}),
            Write(
                "warning",
                {
                    "call_id": "c\x00",
                    "index": 0,
                    "rule": "r",
                    "phrase": "保\x00证",
                    "span": [0, 2],
                    "alternative": "",
                    "at": 1.0,
                },
            ),
            Write("call_start", {"call_id": "c2", "user": "a1", "context": {}, "started_at": 1.0}),
        ]
    )
    assert await store.live_call("c\x00") is not None and await store.live_call("c2") is not None
    history = await store.call_history("c\x00")
    assert history is not None and history["warnings"][0]["phrase"] in ("保\x00证", "保\ufffd证")


def test_sqlite_loads_nothing_of_postgresql(tmp_path: Path) -> None:
    """SQLite stays the zero-configuration default: serving from a file never imports psycopg."""
    import subprocess
    import sys

    db = str(tmp_path / "a.db")
    code = (
        "import sys; from assist.cli import main; import assist.app; "
        f"assert main(['token', 'issue', '--user', 'a1', '--role', 'agent', '--db', {db!r}]) == 0; "
        "loaded = sorted(m for m in sys.modules if m.startswith(('psycopg', 'assist.server.store_pg'))); "
        "print(loaded); assert not loaded"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
