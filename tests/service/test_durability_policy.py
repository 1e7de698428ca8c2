"""What an acknowledgement promises, per kind of write (docs/operations.md, "Durability").

A live call's edits are group-committed without an fsync and put on the disk within `sync_every`;
any other kind is fsynced before it is acknowledged, and so is every relaxed commit before it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from assist.effects import Write
from assist.server import store as store_module
from assist.server.schema import SCHEMA
from assist.server.store import Store


def note(call_id: str, text: str) -> Write:
    return Write("call_event", {"call_id": call_id, "kind": "note", "payload": {"text": text}, "at": 1.0})


async def synchronous(store: Store) -> int:
    async with store._wdb.execute("PRAGMA synchronous") as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_a_quiet_writer_syncs_relaxed_edits_by_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = threading.Event()  # the sync runs on the writer's thread

    def sync_log(conn: sqlite3.Connection) -> None:
        real_sync_log(conn)
        synced.set()

    real_sync_log = store_module._sync_log
    monkeypatch.setattr(store_module, "_sync_log", sync_log)
    store = await Store.open(tmp_path / "d.db", SCHEMA)
    store.sync_every = 0.05
    store.start_writer()
    try:
        await store.write([note("c1", "客户问利率")])
        while not synced.is_set():  # nothing else to write: the writer syncs the log itself
            await asyncio.sleep(0.01)
        assert store._unsynced_since is None
        await store.write([note("c1", "客户问利率；要求退还年费")])  # and the next write still commits
        assert await synchronous(store) == 1
    finally:
        await store.close()


async def test_edits_are_relaxed_other_kinds_are_fsynced(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "d.db", SCHEMA)
    store.sync_every = 3600.0  # the writer would sync the edits by itself only after an hour
    store.start_writer()
    try:
        await store.write([note("c1", "客户问利率")])
        assert await synchronous(store) == 1  # NORMAL: in the WAL, safe from a crash of the service
        assert store._unsynced_since is not None
        await store.write([note("c1", "客户问利率；要求退还年费")])
        await store.write([Write("call_start", {"call_id": "c2", "user": "a1", "context": {}, "started_at": 1.0})])
        assert await synchronous(store) == 2  # FULL for a kind that is not a call's edit
        assert store._unsynced_since is None  # ... which also put the edits before it on the disk

        async with store.unit() as db:  # a console's unit of work is fsynced too
            await db.execute("INSERT INTO tokens(hash, user, role, created_at) VALUES ('h', 'u', 'agent', 0)")
        assert await synchronous(store) == 2
    finally:
        await store.close()
    reopened = await Store.open(tmp_path / "d.db", SCHEMA)
    try:
        live = await reopened.live_call("c2")
        assert live is not None
        async with reopened.db.execute("SELECT COUNT(*) FROM call_events WHERE call_id='c1'") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 2
    finally:
        await reopened.close()
