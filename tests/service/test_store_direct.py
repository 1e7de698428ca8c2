"""Direct writes on the store's shared connection: one unit at a time, all or nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assist.server.store import Store


async def test_a_unit_that_fails_leaves_nothing_and_units_do_not_interleave(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.db")
    try:
        with pytest.raises(RuntimeError):
            async with store.direct() as db:
                await db.execute("INSERT INTO tokens(hash, user, role, created_at) VALUES ('h1','u','agent',0)")
                raise RuntimeError("half-way")
        assert await store.list_tokens() == []

        inside = asyncio.Event()
        release = asyncio.Event()

        async def slow_unit() -> None:
            async with store.direct() as db:
                await db.execute("INSERT INTO tokens(hash, user, role, created_at) VALUES ('h2','u','agent',0)")
                inside.set()
                await release.wait()
                await db.execute("INSERT INTO tokens(hash, user, role, created_at) VALUES ('h3','u','agent',0)")

        unit = asyncio.create_task(slow_unit())
        await inside.wait()
        issuing = asyncio.create_task(store.issue_token("a1", "agent", 1.0))
        await asyncio.sleep(0)
        assert not issuing.done(), "another unit waits: its commit cannot cut the first one in two"
        release.set()
        await asyncio.gather(unit, issuing)
        assert [t["user"] for t in await store.list_tokens()] == ["u", "u", "a1"]
    finally:
        await store.close()
