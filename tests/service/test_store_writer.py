"""Every write goes through the store's one writer: acknowledged writes group-committed, a console's unit of
work as one transaction between two batches, all or nothing — on SQLite and on PostgreSQL (`db_target`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assist.effects import Write
from assist.server.schema import SCHEMA
from assist.server.store import Store, StoreClosing
from tests.pgcluster import cipher_for

TOKEN = "INSERT INTO tokens(hash, user, role, created_at) VALUES (?,?,?,0)"


def start_row(call_id: str) -> Write:
    return Write("call_start", {"call_id": call_id, "user": "a1", "context": {}, "started_at": 1.0})


@pytest.mark.parametrize("writer", [False, True], ids=["before-the-writer-runs", "through-the-writer"])
async def test_a_unit_that_fails_leaves_nothing_and_units_do_not_interleave(
    db_target: Path | str, writer: bool
) -> None:
    store = await Store.open(db_target, SCHEMA, cipher_for(db_target))
    if writer:
        store.start_writer()
    try:
        with pytest.raises(RuntimeError):
            async with store.unit() as db:
                await db.execute(TOKEN, ("h1", "u", "agent"))
                raise RuntimeError("half-way")
        assert await store.list_tokens() == []

        inside = asyncio.Event()
        release = asyncio.Event()

        async def slow_unit() -> None:
            async with store.unit() as db:
                await db.execute(TOKEN, ("h2", "u", "agent"))
                inside.set()
                await release.wait()
                await db.execute(TOKEN, ("h3", "u", "agent"))

        unit = asyncio.create_task(slow_unit())
        await inside.wait()
        issuing = asyncio.create_task(store.issue_token("a1", "agent", 1.0))
        noting = asyncio.create_task(store.write([start_row("c1")]))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not issuing.done() and not noting.done(), "other writes wait: none can cut the unit in two"
        assert await store.list_tokens() == [], "a unit's rows are invisible until it commits"
        release.set()
        await asyncio.gather(unit, issuing, noting)
        assert [t["user"] for t in await store.list_tokens()] == ["u", "u", "a1"]
        assert await store.live_call("c1") is not None
    finally:
        await store.close()


async def test_a_failed_batch_acknowledges_nobody_and_the_next_unit_still_commits(db_target: Path | str) -> None:
    store = await Store.open(db_target, SCHEMA, cipher_for(db_target))
    store.start_writer()
    try:
        with pytest.raises(ValueError, match="unknown table"):
            await store.write([start_row("c1"), Write("no_such_table", {})])
        assert await store.live_call("c1") is None
        await store.issue_token("a1", "agent", 1.0)
        assert [t["user"] for t in await store.list_tokens()] == ["a1"]
    finally:
        await store.close()


async def test_a_unit_whose_caller_gives_up_waiting_never_blocks_the_writer(db_target: Path | str) -> None:
    store = await Store.open(db_target, SCHEMA, cipher_for(db_target))
    store.start_writer()
    try:
        inside = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with store.unit() as db:
                await db.execute(TOKEN, ("h1", "u", "agent"))
                inside.set()
                await release.wait()

        first = asyncio.create_task(holder())
        await inside.wait()

        async def waiter() -> None:
            async with store.unit() as db:
                await db.execute(TOKEN, ("h2", "never", "agent"))

        gave_up = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        gave_up.cancel()
        release.set()
        await first
        with pytest.raises(asyncio.CancelledError):
            await gave_up
        await store.write([start_row("c1")])  # the writer goes on
        assert [t["user"] for t in await store.list_tokens()] == ["u"]
    finally:
        await store.close()


async def test_a_unit_under_way_when_the_writer_is_stopped_ends_with_a_clear_error_and_commits_nothing(
    tmp_path: Path,
) -> None:
    """The process ending (asyncio cancels every task, the writer's among them) while a unit of work runs: the
    unit is told the store closed under it, rather than failing on the writer's cancelled future or waiting
    for ever for a commit nobody will make."""
    db_file = tmp_path / "t.db"
    store = await Store.open(db_file, SCHEMA, cipher_for(db_file))
    store.start_writer()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def unit() -> None:
        async with store.unit() as db:
            await db.execute(TOKEN, ("h1", "u", "agent"))
            inside.set()
            await release.wait()

    running = asyncio.create_task(unit())
    await inside.wait()
    writer = store._writer
    assert writer is not None
    writer.cancel()  # as asyncio.run does to every task left when the main coroutine ends
    with pytest.raises(asyncio.CancelledError):
        await writer
    store._writer = None
    release.set()
    with pytest.raises(StoreClosing):
        await running
    await store.close()
    again = await Store.open(db_file, SCHEMA, cipher_for(db_file))
    try:
        assert await again.list_tokens() == [], "nothing of the unit was committed"
    finally:
        await again.close()
