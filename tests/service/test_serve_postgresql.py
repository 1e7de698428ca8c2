"""The whole service on PostgreSQL: a real `assist serve --db postgresql://...` process serves a live call,
a publish and an escalation with its deadlines, and a restart keeps all three (state taken back from the
store). Tokens are issued by the command line on the same database. (The deadline firing once after a
kill -9 on PostgreSQL: tests/routing/test_restart.py, which runs on both backends.)"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import Http
from tests.pgcluster import DATA_KEY, Cluster, query
from tests.serve_process import ROOT, ServeProcess, cli, prepare, publish_outage_word

BOUND = 60.0
"""Seconds a start or a stop may take before the test fails instead of hanging."""
CALL_LINE = "我的手机银行页面全是火星文"

pytestmark = pytest.mark.slow


async def test_serve_on_postgresql_keeps_a_live_call_a_publish_and_an_escalation_across_a_restart(
    pg_cluster: Cluster, tmp_path: Path, small_pack: Path
) -> None:
    url = pg_cluster.fresh_url()
    env = {
        **os.environ,
        "ASSIST_DB": url,
        "ASSIST_PACK": str(small_pack),  # a publish trains and runs every sample: the small pack (tests/conftest.py)
        "ASSIST_PACK_APPROVALS": "0",
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "ASSIST_HOST": "127.0.0.1",
        "ASSIST_DATA_KEY": DATA_KEY,
    }
    await prepare(url, pack=small_pack)  # the pack imported (its model trained) here, once per run
    agent_t = await cli(env, "token", "issue", "--user", "a1001", "--role", "agent")
    trainer_t = await cli(env, "token", "issue", "--user", "t1", "--role", "trainer")
    service = ServeProcess(env, tmp_path / "serve.log")
    await service.start()
    try:
        assert "database postgresql://assist@/postgres" in service.banner
        assert not (tmp_path / "xdg").exists(), "no SQLite file anywhere"
        agent = await service.client(agent_t)
        await agent.call("call.start", call_id="c1", context={})
        await agent.push("assist.update", call_id="c1")
        await agent.call("call.transcript", call_id="c1", speaker="customer", text=CALL_LINE)

        async with aiohttp.ClientSession() as session:
            trainer = Http(session, f"http://127.0.0.1:{service.http_port}", trainer_t)
            published = await publish_outage_word(trainer, "火星文")
        # The sidebar hears of the new pack first (labels as they stand), then of the call re-decided under it.
        update = await agent.push("assist.update", call_id="c1", pack_version=published, category="system_outage")
        assert "火星文" in json.dumps(update, ensure_ascii=False), "the live call is re-decided by the published pack"

        escalated = await agent.call(
            "call.escalate", call_id="c1", kind="complaint.about_agent", reason="客户投诉座席员"
        )
        eid = escalated["escalation_id"]
        waiting = query(
            url,
            "SELECT name, due_at FROM routing_steps WHERE escalation_id=%s AND fired_at IS NULL "
            "AND cancelled=0 ORDER BY due_at",
            eid,
        )
        assert waiting, "the escalation has deadlines still to come"
        await agent.ws.close()
        assert await service.signal(signal.SIGTERM) == 0, (tmp_path / "serve.log").read_text()[-2000:]

        await service.start()
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{service.http_port}/healthz") as resp,
        ):
            assert (await resp.json())["pack_version"] == published, "the published version is in force"
        agent = await service.client(agent_t)
        resumed = await agent.call("call.start", call_id="c1", context={})
        assert resumed["resumed"] is True and resumed["update"]["category"] == "system_outage"
        assert query(url, "SELECT status FROM routing_escalations WHERE id=%s", eid) == [{"status": "open"}]
        assert (
            query(
                url,
                "SELECT name, due_at FROM routing_steps WHERE escalation_id=%s AND fired_at IS NULL "
                "AND cancelled=0 ORDER BY due_at",
                eid,
            )
            == waiting
        ), "its deadlines still wait"
        await agent.ws.close()
        assert await service.signal(signal.SIGTERM) == 0, (tmp_path / "serve.log").read_text()[-2000:]
    finally:
        await service.kill()


async def serve_until_it_stops(env: dict[str, str]) -> tuple[int, str]:
    """`assist serve` that is expected to refuse to start: its exit status and what it said on stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "assist",
        "serve",
        "--ws-port",
        "0",
        "--http-port",
        "0",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), BOUND)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_serve_on_postgresql_without_a_data_key_stops_at_start_with_one_line(
    pg_cluster: Cluster, tmp_path: Path
) -> None:
    url = pg_cluster.fresh_url()
    env = {k: v for k, v in os.environ.items() if k not in ("ASSIST_DATA_KEY", "ASSIST_DATA_KEY_FILE")}
    env.update({"ASSIST_DB": url, "XDG_DATA_HOME": str(tmp_path / "xdg"), "ASSIST_HOST": "127.0.0.1"})
    code, err = await serve_until_it_stops(env)
    assert code == 1, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("assist: cannot open the database: no data key for "), lines
    assert "ASSIST_DATA_KEY" in lines[0] and "data_key_file" in lines[0] and "docs/operations.md" in lines[0]
    assert query(url, "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()") == [
        {"n": 0}
    ], "nothing was created: the service stopped before touching the database"

    missing = tmp_path / "absent.key"
    env["ASSIST_DATA_KEY_FILE"] = str(missing)
    code, err = await serve_until_it_stops(env)
    assert code == 1 and len(err.splitlines()) == 1, err
    assert f"the data key file {missing} (data_key_file) does not exist" in err
    assert not missing.exists(), "on PostgreSQL a key file is never made up by one instance"
