"""Two real `assist serve` processes on one PostgreSQL schema, with real websocket clients on each: what is
done on one instance reaches the clients of the other (docs/operations.md, "Several instances on one
PostgreSQL"). A pack published or rolled back on A reaches B's sidebars; a revoked token is cut on both at
once; a leader on A sees the calls of agents on B, live, and no notice between them carries customer data;
a drain of A moves its calls to B with nothing lost or said twice. The two processes start once for the
module; the drain comes last and starts A again."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
import pytest_asyncio

from assist.server.cluster import channel_of
from tests.cluster.instances import Instances, until
from tests.conftest import Client, Http
from tests.pgcluster import Cluster, query
from tests.serve_process import BOUND, cli, publish_outage_word

pytestmark = pytest.mark.slow

MARS_LINE = "我的手机银行页面全是火星文"
"""Labelled system_outage only once the publish below adds 火星文 to the outage rule."""
OUTAGE_LINE = "我手机银行转账一直提示系统繁忙，转了好几次都失败了"
BLAME_LINE = "不好意思，这是我们系统的问题，我们系统坏了"
"""An agent's line the default pack warns about (system_blame): a push to the sidebar, nothing the list shows."""
CUSTOMER = {"queue": "retail", "customer_name": "王五", "caller_number": "13912345678"}


@pytest_asyncio.fixture(scope="module")
async def two(
    pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory, small_pack: Path
) -> AsyncIterator[Instances]:
    """On the small pack (tests/conftest.py): a publish back-tests every sample, in each instance's process."""
    instances = await Instances.start(pg_cluster, tmp_path_factory.mktemp("two"), small_pack)
    try:
        yield instances
    finally:
        await instances.stop()


class Notices:
    """Every notice on the instances' channel, heard by the test itself (what travels between them)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.heard = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, url: str) -> None:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        await conn.execute(f'LISTEN "{await channel_of(conn)}"')

        async def run() -> None:
            async with conn:
                async for notify in conn.notifies():
                    self.texts.append(notify.payload)
                    self.heard.set()

        self._task = asyncio.create_task(run())

    def calls_naming(self, call_id: str, since: int = 0) -> list[dict[str, Any]]:
        found = [json.loads(t) for t in self.texts[since:]]
        return [n for n in found if n["topic"] == "calls" and call_id in n["data"]["ids"]]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def closed_code(client: Client) -> int | None:
    await asyncio.wait_for(client.ws.wait_closed(), BOUND)
    return client.ws.close_code


async def test_a_pack_published_or_rolled_back_on_a_reaches_the_sidebars_on_b(two: Instances) -> None:
    agent_a = await two.a.client(await two.token("pub-a", "agent"))
    agent_b = await two.b.client(await two.token("pub-b", "agent"))
    for agent, call_id in ((agent_a, "pub-1"), (agent_b, "pub-2")):
        await agent.call("call.start", call_id=call_id, context={})
        await agent.call("call.transcript", call_id=call_id, speaker="customer", text=MARS_LINE)
        agent.pushes.clear()
    async with aiohttp.ClientSession() as session:
        trainer = Http(session, f"http://127.0.0.1:{two.a.http_port}", await two.token("pub-t", "trainer"))
        health_b = Http(session, f"http://127.0.0.1:{two.b.http_port}", None)
        before = (await health_b.call("GET", "/healthz"))["pack_version"]
        published = await publish_outage_word(trainer, "火星文")
        assert published != before

        # B's sidebar is told as A's is: the new pack first, then its call re-decided under it
        for agent, call_id in ((agent_a, "pub-1"), (agent_b, "pub-2")):
            await agent.push("assist.update", BOUND, call_id=call_id, pack_version=published)
            update = await agent.push(
                "assist.update", BOUND, call_id=call_id, pack_version=published, category="system_outage"
            )
            assert "火星文" in json.dumps(update, ensure_ascii=False)
        assert (await health_b.call("GET", "/healthz"))["pack_version"] == published
        assert f"{published} was put in force on another instance; following it (told by another instance)" in (
            two.log(two.b)
        ), "B followed on A's notice (the periodic check is only the safety net)"

        # a rollback on A too: B puts the rolled-back version in force and tells its sidebar
        rolled = await trainer.call("POST", f"/api/pack/versions/{before.removeprefix('v')}/rollback")
        await agent_b.push("assist.update", BOUND, call_id="pub-2", pack_version=rolled["pack_version"])
        assert (await health_b.call("GET", "/healthz"))["pack_version"] == rolled["pack_version"]
        stored = query(two.url, "SELECT max(version) AS v FROM pack_versions WHERE status = 'published'")
        assert f"v{stored[0]['v']}" == rolled["pack_version"], "B put in force the store's version"
        assert f"{rolled['pack_version']} was put in force on another instance; following it (told by" in (
            two.log(two.b)
        )
    for agent in (agent_a, agent_b):
        await agent.ws.close()


async def test_a_token_revoked_on_the_command_line_is_cut_on_both_instances_at_once(two: Instances) -> None:
    token = await two.token("gone-1", "agent")
    on_a, on_b = await two.a.client(token), await two.b.client(token)
    kept = await two.b.client(await two.token("kept-1", "agent"))
    said = await cli(two.env, "token", "revoke", "--user", "gone-1")
    assert "closed now on every instance" in said
    assert await closed_code(on_a) == 4003
    assert await closed_code(on_b) == 4003
    # each closed it when the bus told it (the minute's check is only the safety net)
    for instance in (two.a, two.b):
        log = two.log(instance)
        assert "closing 1 connection(s) whose token was revoked (told by the cluster bus)" in log, log[-2000:]
    reply = await kept.call("ping")
    assert reply["success"] is True, "a connection with a live token stays"
    await kept.ws.close()


async def test_a_leader_on_a_sees_the_calls_of_agents_on_b_live_and_no_notice_carries_customer_data(
    two: Instances,
) -> None:
    notices = Notices()
    await notices.start(two.url)
    agent = await two.b.client(await two.token("live-b", "agent"))
    leader_token = await two.token("lead-1", "shift_leader")
    leader = await two.a.client(leader_token)
    try:
        await agent.call("call.start", call_id="lb-1", context=CUSTOMER)
        await agent.call("call.transcript", call_id="lb-1", speaker="customer", text=OUTAGE_LINE)

        # the first page, read on A, has B's call, as the store has it
        first = await leader.call("calls.subscribe", limit=50)
        assert first["success"] is True
        rows = {r["call_id"]: r for r in first["calls"]}
        assert rows["lb-1"]["agent"] == "live-b" and rows["lb-1"]["queue"] == "retail"
        assert rows["lb-1"]["customer"] == "王五", "the leader sees the name, decrypted from the store"
        await until(lambda: notices.calls_naming("lb-1"), "B's notice of lb-1")

        # a call B starts, then its labels changing, then its end: each reaches the leader on A
        await agent.call("call.start", call_id="lb-2", context={"queue": "ebanking", "customer_name": "赵六"})
        delta = await leader.push("calls.delta", BOUND)
        while "lb-2" not in {r["call_id"] for r in delta["calls"]}:
            delta = await leader.push("calls.delta", BOUND)
        row = next(r for r in delta["calls"] if r["call_id"] == "lb-2")
        assert row["agent"] == "live-b" and row["customer"] == "赵六" and row["category"] == "none"
        await agent.call("call.transcript", call_id="lb-2", speaker="customer", text=OUTAGE_LINE)
        while True:
            delta = await leader.push("calls.delta", BOUND)
            changed = {r["call_id"]: r for r in delta["calls"]}
            if changed.get("lb-2", {}).get("category") == "system_outage":
                break
        await until(
            lambda: any(n for n in notices.calls_naming("lb-2")),
            "the notice of lb-2's labels",
        )
        labelled = len(notices.texts)

        # what changes nothing the list shows tells nobody — a warning pushed to the sidebar, notes: each is
        # followed by a call B starts, whose notice (heard in order) comes after any the first caused
        await agent.call("call.transcript", call_id="lb-2", speaker="agent", text=BLAME_LINE)
        await agent.push("assist.warning", BOUND, call_id="lb-2")
        await agent.call("call.start", call_id="lb-probe-0", context={})
        await until(lambda: notices.calls_naming("lb-probe-0", labelled), "the notice of lb-probe-0")
        for i in (1, 2):
            await agent.call("call.note", call_id="lb-2", text=f"客户说第{i}次重试仍然失败")
            await agent.call("call.start", call_id=f"lb-probe-{i}", context={})
            await until(lambda i=i: notices.calls_naming(f"lb-probe-{i}", labelled), f"the notice of lb-probe-{i}")
        assert notices.calls_naming("lb-2", labelled) == [], (
            "a warning or note that changed nothing the list shows was not announced"
        )

        await agent.call("call.end", call_id="lb-2", disposition="resolved")
        while "lb-2" not in (await leader.push("calls.delta", BOUND))["gone"]:
            pass

        async with aiohttp.ClientSession() as session:
            api = Http(session, f"http://127.0.0.1:{two.a.http_port}", leader_token)
            page = await api.call("GET", "/api/leader/calls?limit=200")
            detail = await api.call("GET", "/api/leader/calls/lb-1")
        assert detail["live"] is True and detail["context"]["customer_name"] == "王五"
        assert OUTAGE_LINE in json.dumps(detail["transcript"], ensure_ascii=False), "read from the store on A"
        listed = {r["call_id"]: r for r in page["calls"]}
        assert listed["lb-1"]["category"] == "system_outage" and "lb-2" not in listed
        assert page["total"] >= 4  # lb-1 and the three probes, all held by B

        everything = "\n".join(notices.texts)
        for secret in ("王五", "赵六", "13912345678", "火星文", "系统繁忙", "重试", "系统坏了"):
            assert secret not in everything, f"a notice carried {secret!r}"
        assert all(len(t.encode()) < 8000 for t in notices.texts)
    finally:
        await notices.close()
        await agent.ws.close()
        await leader.ws.close()


async def test_a_drain_of_a_moves_its_live_calls_to_b_with_nothing_lost_or_said_twice(two: Instances) -> None:
    token = await two.token("drain-a", "agent")
    agent = await two.a.client(token)
    await agent.call("call.start", call_id="dr-1", context=CUSTOMER)
    await agent.call("call.transcript", call_id="dr-1", speaker="customer", text=OUTAGE_LINE)
    alert = await agent.push("assist.update", BOUND, call_id="dr-1", category="system_outage")
    assert alert["alert"] is True, "the prompt drew the agent's eye once, on A"
    await agent.call("call.start", call_id="dr-2", context={"queue": "cards"})
    await agent.call("call.note", call_id="dr-2", text="客户要补办卡片")
    prompts_before = query(two.url, "SELECT count(*) AS n FROM classifications WHERE call_id = 'dr-1'")

    # B's leader sees A's calls before the drain
    leader = await two.b.client(await two.token("lead-2", "shift_leader"))
    page = await leader.call("calls.subscribe", limit=200)
    assert {"dr-1", "dr-2"} <= {r["call_id"] for r in page["calls"]}

    stopping = asyncio.create_task(two.a.signal(signal.SIGTERM))
    assert await closed_code(agent) == 1012
    assert await stopping == 0, two.log(two.a)[-2000:]

    moved = await two.b.client(token)  # the plugin reconnects to whatever instance nginx gives it
    resumed = await moved.call("call.start", call_id="dr-1", context=CUSTOMER)
    assert resumed["resumed"] is True
    assert resumed["update"]["category"] == "system_outage" and resumed["update"]["alert"] is False
    resumed2 = await moved.call("call.start", call_id="dr-2", context={"queue": "cards"})
    assert resumed2["resumed"] is True
    call = await moved.call("call.get", call_id="dr-2")
    assert call["success"] is True
    note = query(two.url, "SELECT count(*) AS n FROM call_events WHERE call_id = 'dr-2' AND kind = 'note'")
    assert note == [{"n": 1}], "the note acknowledged on A is in the store once"
    assert query(two.url, "SELECT count(*) AS n FROM classifications WHERE call_id = 'dr-1'") == prompts_before, (
        "the resume decided nothing again"
    )
    assert query(two.url, "SELECT count(*) AS n FROM calls WHERE call_id IN ('dr-1', 'dr-2') AND ended_at IS NULL") == [
        {"n": 2}
    ]

    # the calls go on on B: a new line is answered, and B's leader still lists them
    await moved.call("call.note", call_id="dr-2", text="客户说卡片丢失")
    listed = await leader.call("calls.list", limit=200)
    assert {"dr-1", "dr-2"} <= {r["call_id"] for r in listed["calls"]}
    await moved.call("call.end", call_id="dr-1", disposition="resolved")
    await moved.call("call.end", call_id="dr-2", disposition="resolved")
    await moved.ws.close()
    await leader.ws.close()
    await two.a.start()  # back, for any test after this one (a restart joins the cluster as any start does)
