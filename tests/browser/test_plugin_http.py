"""The plugin's HTTP side: static modules with CORS, the iframe page, /demo and its loopback-only token.

No browser needed: these run everywhere.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from unittest import mock

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict
from websockets.asyncio.client import connect

from assist.app import Running
from assist.config import Settings
from assist.server.web.plugin_routes import DEMO_TOKEN_TTL, loopback_refusal
from tests.conftest import start_shared

SOFTPHONE = "https://softphone.example"


@pytest.fixture
async def cors_service(settings: Settings) -> AsyncIterator[Running]:
    running = await start_shared(replace(settings, allowed_origins=(SOFTPHONE, "https://other.example")))
    try:
        yield running
    finally:
        await running.close()


async def get(running: Running, path: str, **kw: Any) -> tuple[int, CIMultiDict[str], bytes]:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{running.http_port}{path}", **kw) as r:
        return r.status, CIMultiDict(r.headers), await r.read()


async def test_plugin_modules_are_javascript_with_cors_only_for_allowed_origins(cors_service: Running) -> None:
    status, headers, body = await get(cors_service, "/plugin/assist-sidebar.js", headers={"Origin": SOFTPHONE})
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Access-Control-Allow-Origin"] == SOFTPHONE
    assert headers["Vary"] == "Origin"
    assert b"customElements.define" in body
    # the module it imports gets the same treatment
    status, headers, _ = await get(cors_service, "/plugin/assist-client.js", headers={"Origin": SOFTPHONE})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == SOFTPHONE

    status, headers, _ = await get(
        cors_service, "/plugin/assist-sidebar.js", headers={"Origin": "https://evil.example"}
    )
    assert status == 200 and "Access-Control-Allow-Origin" not in headers and headers["Vary"] == "Origin"
    status, headers, _ = await get(cors_service, "/plugin/adapters/amazon-connect.js")
    assert status == 200 and "Access-Control-Allow-Origin" not in headers

    etag = headers["ETag"]
    status, _, body = await get(cors_service, "/plugin/adapters/amazon-connect.js", headers={"If-None-Match": etag})
    assert status == 304 and body == b""


@pytest.mark.parametrize(
    "path",
    [
        "/plugin/../assist/config.py",
        "/plugin/%2e%2e/pyproject.toml",
        "/plugin/nope.js",
        "/plugin/adapters",
        "/plugin/demo.py",
    ],
)
async def test_only_plugin_files_are_served(plugin_service: Running, path: str) -> None:
    status, _, body = await get(plugin_service, path)
    assert status == 404, body


async def test_frame_page_carries_the_allowed_origins(cors_service: Running) -> None:
    status, headers, body = await get(cors_service, "/plugin/frame.html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert f'<meta name="assist-allowed-origins" content="https://other.example {SOFTPHONE}">' in page
    assert headers["Content-Security-Policy"] == f"frame-ancestors 'self' https://other.example {SOFTPHONE}"
    assert headers["Referrer-Policy"] == "no-referrer"


async def test_demo_page_is_served(plugin_service: Running) -> None:
    status, headers, body = await get(plugin_service, "/demo")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<assist-sidebar" in body and b"/plugin/demo.js" in body


async def post_token(running: Running, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"http://127.0.0.1:{running.http_port}/demo/token", headers=headers or {}) as r,
    ):
        return r.status, await r.json()


async def test_demo_token_works_for_a_loopback_browser(plugin_service: Running) -> None:
    origin = f"http://127.0.0.1:{plugin_service.http_port}"
    status, body = await post_token(plugin_service, {"Origin": origin, "Sec-Fetch-Site": "same-origin"})
    assert status == 200, body
    assert body["user"] == "demo" and body["role"] == "agent"
    assert body["ws_port"] is None, "the service runs on an ephemeral port here: the page must be told (server=)"
    assert body["expires_in"] == DEMO_TOKEN_TTL
    async with connect(f"ws://127.0.0.1:{plugin_service.ws_port}/ws") as ws:
        await ws.send(json.dumps({"type": "auth", "token": body["token"]}))
        assert json.loads(await ws.recv())["user"] == "demo"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.9"},
        {"Forwarded": "for=203.0.113.9"},
        {"X-Real-IP": "203.0.113.9"},
        {"Host": "rebind.example.com"},
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
async def test_demo_token_is_refused_otherwise(plugin_service: Running, headers: dict[str, str]) -> None:
    status, body = await post_token(plugin_service, headers)
    assert status == 403, body
    assert body["error"]["code"] == "forbidden"


def test_a_remote_peer_gets_no_demo_token() -> None:
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("192.0.2.7", 50000)
    request = make_mocked_request("POST", "/demo/token", headers={"Host": "127.0.0.1:8080"}, transport=transport)
    assert loopback_refusal(request) == "the peer is not a loopback address"
    transport.get_extra_info.return_value = ("::ffff:127.0.0.1", 50000)
    request = make_mocked_request("POST", "/demo/token", headers={"Host": "localhost:8080"}, transport=transport)
    assert loopback_refusal(request) is None


async def test_demo_tokens_expire(plugin_service: Running) -> None:
    _, first = await post_token(plugin_service)
    assert await plugin_service.store.lookup_token(first["token"]) == ("demo", "agent")
    with sqlite3.connect(plugin_service.store.path) as db:
        db.execute("UPDATE tokens SET created_at = created_at - ? WHERE user='demo'", (DEMO_TOKEN_TTL + 1,))
    _, second = await post_token(plugin_service)  # every issue sweeps the expired ones (and so does a timer)
    assert await plugin_service.store.lookup_token(first["token"]) is None
    assert await plugin_service.store.lookup_token(second["token"]) == ("demo", "agent")
