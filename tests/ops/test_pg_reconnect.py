"""The service on PostgreSQL keeps working after the server drops its connections (a restart, a failover,
`pg_terminate_backend`): what was under way when they dropped fails and says so, nothing is acknowledged that
was not stored, and the next commands run on new connections instead of failing for ever."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import psycopg

from assist.config import Settings
from assist.server.store_pg import PgConnection
from tests.conftest import open_client, start_shared
from tests.pgcluster import DATA_KEY, Cluster


async def test_lost_database_connections_are_made_again(settings: Settings, pg_cluster: Cluster) -> None:
    url = pg_cluster.fresh_url()
    running = await start_shared(dataclasses.replace(settings, db=url, data_key=DATA_KEY))
    try:
        agent = await open_client(running, user="a7001")
        assert (await agent.call("call.start", call_id="re-1", context={}))["success"]
        assert (await agent.call("call.note", call_id="re-1", text="客户说网银登录不了"))["success"]

        read, write = (cast(PgConnection, c) for c in (running.store.db, running.store._wdb))
        pids = [read.raw.info.backend_pid, write.raw.info.backend_pid]
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
            cur = await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
            assert [r[0] for r in await cur.fetchall()] == [True, True]

        answers: list[dict[str, Any]] = []
        for n in range(3):  # the first write may be lost with its connection: it is then answered as failed
            answers.append(await agent.call("call.note", call_id="re-1", text=f"客户说网银登录不了，第{n}次"))
            if answers[-1]["success"]:
                break
        assert answers[-1]["success"], answers
        assert all(a["success"] or a["error"]["code"] == "internal_error" for a in answers), answers
        assert (await agent.call("call.start", call_id="re-2", context={}))["success"]
        assert write.reconnects == 1

        assert (await running.store.live_call("re-2")) is not None  # a read, on a new read connection
        assert read.reconnects == 1
        stored = await running.store.live_call("re-1")
        assert stored is not None
        texts = {e["payload"].get("text") for e in stored[1] if e["kind"] == "note"}
        acknowledged = {f"客户说网银登录不了，第{n}次" for n, a in enumerate(answers) if a["success"]}
        assert acknowledged and acknowledged <= texts, (acknowledged, texts)
    finally:
        await running.close()
