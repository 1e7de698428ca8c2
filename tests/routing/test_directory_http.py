"""The directory over HTTP (admin only) and its internal numbers in the forbidden-phrase check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from assist.app import Running
from assist.server.routing.http import add_routing_routes
from assist.server.routing.service import RoutingService
from tests.conftest import issue, open_client

Center = tuple[Running, RoutingService]


@pytest.fixture
async def api(center: Center) -> AsyncIterator[str]:
    app = web.Application()
    add_routing_routes(app, center[1])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert runner.addresses
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/directory"
    finally:
        await runner.cleanup()


async def test_admin_reads_and_replaces_the_directory(center: Center, api: str) -> None:
    running, routing = center
    token = await issue(running, "root", "admin")
    auth = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(api, headers=auth) as resp:
            assert resp.status == 200
            directory = await resp.json()
        assert {c["id"] for c in directory["contacts"]} >= {"sl", "sa", "bo", "cm", "dl"}
        directory["internal_numbers"].append({"name": "新机房", "number": "0571-8888 1234"})
        async with http.put(api, headers=auth, json=directory) as resp:
            assert resp.status == 200
        assert "0571-8888 1234" in routing.directory.secret_numbers()

        directory["contacts"][0]["roles"] = ["boss"]
        async with http.put(api, headers=auth, json=directory) as resp:
            assert resp.status == 400
            body = await resp.json()
        assert body["error"]["code"] == "validation_failed"
        assert "contacts[0].roles" in body["error"]["details"]["fields"]

        async with http.get(api) as resp:
            assert resp.status == 401 and (await resp.json())["error"]["code"] == "auth_required"
        agent_token = await issue(running, "a1001", "agent")
        async with http.put(api, headers={"Authorization": f"Bearer {agent_token}"}, json=directory) as resp:
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "unauthorized"
        async with http.put(api, headers=auth, data=b"[1,") as resp:
            assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_json"

    agent = await open_client(running, user="a1001", role="agent")
    await agent.call("call.start", call_id="d1", context={})
    reply = await agent.call("call.transcript", call_id="d1", speaker="agent", text="您直接打0571-8888-1234问机房吧")
    assert [w["rule"] for w in reply["warnings"]] == ["internal_phone"]


async def test_routing_file_internal_numbers_are_forbidden_from_the_start(center: Center) -> None:
    running, _ = center
    agent = await open_client(running, user="a1001", role="agent")
    await agent.call("call.start", call_id="d2", context={})
    for number in ("021-68887777", "0571 8709 9999"):
        reply = await agent.call("call.transcript", call_id="d2", speaker="agent", text=f"内部电话是{number}")
        assert "internal_phone" in [w["rule"] for w in reply["warnings"]], number


async def test_a_newly_published_pack_gets_the_directory_numbers_again(center: Center) -> None:
    running, routing = center
    from assist.scripts.pack import load_pack_dir

    running.hub.desk.pack = load_pack_dir(running.hub.settings.pack)
    assert "02168887777" not in running.hub.desk.pack.forbidden.internal_numbers
    routing.refresh_pack()
    assert "02168887777" in running.hub.desk.pack.forbidden.internal_numbers
