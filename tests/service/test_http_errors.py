"""The HTTP side answers every error, an unexpected one included, with the JSON error body."""

from __future__ import annotations

import aiohttp

from assist.app import Running
from tests.conftest import issue


async def test_http_errors_are_json_even_for_unexpected_failures(service: Running) -> None:
    token = await issue(service, "L1", "shift_leader")
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{service.http_port}/api/leader/report/send",
            json={"day": 5},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        assert resp.status >= 400
        body = await resp.json()
    assert set(body["error"]) >= {"code", "message"}


async def test_a_nul_in_a_plugin_path_is_a_404_not_a_500(service: Running) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{service.http_port}/plugin/%00.js") as resp:
        assert resp.status == 404
