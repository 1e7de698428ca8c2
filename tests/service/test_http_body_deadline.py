"""A request whose headers are in but whose body trickles in is answered 408 and closed after
`http_body_timeout`; a request that sent its body whole is answered as usual (issue 14: a trickled body held
its handler, and its place under the connection cap, for ever)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

from assist.config import Settings
from tests.conftest import start_shared


async def test_a_trickled_body_is_answered_408_and_closed_a_whole_one_is_answered(settings: Settings) -> None:
    running = await start_shared(dataclasses.replace(settings, http_body_timeout=0.3))
    try:
        token = await running.store.issue_token("T1", "trainer", time.time())
        body = json.dumps({"call": {"transcript": [{"speaker": "customer", "text": "我要投诉"}]}}).encode()
        head = (
            f"POST /api/pack/try HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        ).encode()

        reader, writer = await asyncio.open_connection("127.0.0.1", running.http_port)
        writer.write(head + b"\r\n" + body[:5])  # and the rest never comes
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 60)  # until the server closes it
        status, _, rest = answer.partition(b"\r\n")
        assert status == b"HTTP/1.1 408 Request Timeout", answer[:200]
        assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "request_timeout"
        assert reader.at_eof()
        writer.close()

        reader, writer = await asyncio.open_connection("127.0.0.1", running.http_port)
        writer.write(head + b"Connection: close\r\n\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 60)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert "complaint.general" in answer.decode()
        writer.close()
    finally:
        await running.close()
