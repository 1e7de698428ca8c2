"""The HTTP gate's accept path (issue 14 item 7): a burst of connections is queued, not refused, and
stopping the service closes what still waits for its headers.

The figures under a flood of 20,000 unfinished requests are `bench.abuse --only 7`'s (docs/hardening.md);
here only what holds whatever the machine's speed."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from pathlib import Path

import pytest

from assist.config import Settings
from assist.server.web.gate import BACKLOG, Gates, Listening, bind
from tests.conftest import start_shared

BURST = 300
"""More than aiohttp's default listen queue (128), whose 129th connect waited for a SYN resent after 1 s,
3 s, …; fewer than the file descriptors a test process may open."""
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def somaxconn() -> int:
    return int(Path("/proc/sys/net/core/somaxconn").read_text())


async def answer(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    got = b""
    while chunk := await loop.sock_recv(sock, 65536):
        got += chunk
    sock.close()
    return got


@pytest.mark.skipif(somaxconn() < BURST, reason="the kernel caps the listen queue below the burst")
async def test_a_burst_of_connections_while_the_service_is_busy_is_queued_and_answered(settings: Settings) -> None:
    running = await start_shared(settings)
    try:
        assert BACKLOG > BURST
        socks = []
        # The event loop is held for the whole burst: the service accepts none of them meanwhile, so each
        # connect completes only if the kernel's listen queue has room for it (else its SYN is dropped and
        # resent after 1 s, then 3 s, … until this guard against a hang gives up).
        for _ in range(BURST):
            sock = socket.create_connection(("127.0.0.1", running.http_port), timeout=30)
            sock.sendall(REQUEST)
            sock.setblocking(False)
            socks.append(sock)
        answers = await asyncio.wait_for(asyncio.gather(*(answer(sock) for sock in socks)), 120)
        assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * BURST
    finally:
        await running.close()


async def test_stopping_the_service_closes_the_requests_still_waiting_for_their_headers(settings: Settings) -> None:
    running = await start_shared(dataclasses.replace(settings, http_header_timeout=600.0))
    closed = False
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.http_port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        await writer.drain()
        # answered while the unfinished one waits: the gate has accepted it (connections are taken in order)
        healthz = await asyncio.open_connection("127.0.0.1", running.http_port)
        healthz[1].write(REQUEST)
        assert (await asyncio.wait_for(healthz[0].read(), 30)).startswith(b"HTTP/1.1 200")
        healthz[1].close()
        await running.close()
        closed = True
        assert await asyncio.wait_for(reader.read(), 30) == b"", "the unfinished request was closed"
        writer.close()
    finally:
        if not closed:
            await running.close()


async def test_the_gated_listener_serves_until_it_is_closed() -> None:
    """As asyncio's servers do: `serve_forever` and `wait_closed` return once `close` stopped the listening
    socket, and a connect is then refused."""
    gates = Gates(asyncio.Protocol, header_timeout=5.0, limit=10)
    [sock] = await bind("127.0.0.1", 0, BACKLOG)
    port = sock.getsockname()[1]
    listening = Listening(gates, [sock])
    gates.listen(sock)
    serving = asyncio.create_task(listening.serve_forever())
    await asyncio.sleep(0)
    assert listening.is_serving() and not serving.done()
    listening.close()
    await serving
    await listening.wait_closed()
    assert not listening.is_serving()
    gates.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
