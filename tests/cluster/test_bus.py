"""The cluster bus on a real PostgreSQL cluster: a notice reaches the other instances on the same schema, not
the sender and not instances on another schema; a dropped listening connection comes back and says so."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import psycopg
import pytest

from assist.server.cluster import MAX_PAYLOAD, RESYNC, Bus, PgBus, open_bus
from tests.pgcluster import Cluster


class Heard:
    """What one bus's handlers were given, with an event per arrival."""

    def __init__(self, bus: Bus, *topics: str) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self.changed = asyncio.Event()
        for topic in topics:
            bus.on(topic, self._handler(topic))

    def _handler(self, topic: str) -> Any:
        async def handle(data: Mapping[str, Any]) -> None:
            self.items.append((topic, dict(data)))
            self.changed.set()

        return handle

    async def until(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        while len(self.items) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 30)
        return self.items


async def test_a_notice_reaches_the_other_instances_on_its_schema_only(pg_cluster: Cluster) -> None:
    url = pg_cluster.fresh_url()
    a, b, c = [await open_bus(url) for _ in range(3)]
    elsewhere = await open_bus(pg_cluster.fresh_url())
    try:
        assert a.shared and isinstance(a, PgBus)
        heard_a, heard_b, heard_c, heard_else = (Heard(x, "pack") for x in (a, b, c, elsewhere))
        await a.publish("pack", {"version": 7})
        await a.publish("pack", {"version": 8})
        assert await heard_b.until(2) == [("pack", {"version": 7}), ("pack", {"version": 8})]
        assert await heard_c.until(2) == heard_b.items
        # a notice the sender's own listener receives after those two tells whether it heard itself
        await b.publish("pack", {"version": 9})
        assert await heard_a.until(1) == [("pack", {"version": 9})]
        assert heard_else.items == []
        assert a.received == 1 and b.received == 2
    finally:
        for x in (a, b, c, elsewhere):
            await x.close()


async def test_a_notice_too_big_for_postgresql_is_refused_before_sending(pg_cluster: Cluster) -> None:
    bus = await open_bus(pg_cluster.fresh_url())
    try:
        with pytest.raises(ValueError, match="bytes"):
            await bus.publish("pack", {"text": "x" * MAX_PAYLOAD})
    finally:
        await bus.close()


async def test_malformed_notices_and_failing_handlers_do_not_stop_the_listener(pg_cluster: Cluster) -> None:
    url = pg_cluster.fresh_url()
    a, b = await open_bus(url), await open_bus(url)
    assert isinstance(b, PgBus)
    try:

        async def broken(data: Mapping[str, Any]) -> None:
            raise RuntimeError("boom")

        b.on("pack", broken)
        heard = Heard(b, "pack")
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as raw:
            await raw.execute("SELECT pg_notify(%s, %s)", (b.channel, "{not json"))
            await raw.execute("SELECT pg_notify(%s, %s)", (b.channel, '{"from": "x"}'))
        await a.publish("pack", {"version": 1})
        assert await heard.until(1) == [("pack", {"version": 1})]
    finally:
        await a.close()
        await b.close()


async def test_a_lost_listening_connection_comes_back_and_asks_for_a_resync(pg_cluster: Cluster) -> None:
    url = pg_cluster.fresh_url()
    a, b = await open_bus(url), PgBus(url, retry=0.05)
    await b.start()
    try:
        heard = Heard(b, RESYNC, "pack")
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as raw:
            await raw.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND query LIKE %s",
                (f'LISTEN "{b.channel}"%',),
            )
        assert await heard.until(1) == [(RESYNC, {})]
        await b.listening.wait()
        await a.publish("pack", {"version": 2})
        assert (await heard.until(2))[1] == ("pack", {"version": 2})
    finally:
        await a.close()
        await b.close()


async def test_a_single_instance_bus_tells_nobody(tmp_path: Any) -> None:
    bus = await open_bus(tmp_path / "assist.db")
    heard = Heard(bus, "pack")
    await bus.publish("pack", {"version": 1})
    await bus.close()
    assert not bus.shared and heard.items == [] and type(bus) is Bus
