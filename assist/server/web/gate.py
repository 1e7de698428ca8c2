"""What one HTTP connection may hold: a deadline for its request's headers and a cap on open connections.

Without them 20,000 requests that never finish their headers held 20,000 file descriptors for ever (issue
14): every new connection to either port then failed, `/healthz` included. aiohttp closes a connection
idle between requests after its keep-alive timeout (`http_header_timeout` as well); what it does not do in
every version is close a new connection whose first request never completes. So each connection starts in
a `Gate`: it holds what arrives until the first request's headers are complete and only then hands the
connection to aiohttp (a connection that never gets that far costs a buffer and a timer, not a request
handler and its task); it is closed when the headers do not come within `http_header_timeout`, and with
`http_max_connections` open, a new connection closes the oldest one still waiting for its headers (a slow
or hostile client; never one being answered). Once handed over, a request whose body does not arrive in
full within `http_body_timeout` is answered 408 and closed (`body_deadline`): a body trickled in would
otherwise hold its handler, and its place under the cap, for ever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

HEADERS_END = (b"\r\n\r\n", b"\n\n")
MAX_HEAD = 65536
"""Bytes held before the headers end; past them aiohttp gets the connection (and refuses the request)."""


class Gate(asyncio.Protocol):
    """One connection: held here until its first request's headers are complete, then aiohttp's own protocol
    (made only then) gets the transport and every byte, and the gate just passes the calls on."""

    __slots__ = ("_gates", "_head", "_inner", "_timer", "counted", "transport")

    def __init__(self, gates: Gates) -> None:
        self._gates = gates
        self._head = b""
        self._inner: asyncio.Protocol | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.counted = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        gates = self._gates
        if gates.open >= gates.limit:
            gates.make_room()
        if gates.open >= gates.limit:  # every open connection is being answered or kept alive: refused
            gates.refused()
            transport.close()
            return
        gates.open += 1
        self.counted = True
        gates.waiting[self] = None
        self._timer = asyncio.get_running_loop().call_later(gates.header_timeout, self.shut)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)
            return
        if self.transport is None or not self.counted:
            return
        self._head += data
        if len(self._head) > MAX_HEAD or any(end in self._head[-len(data) - 3 :] for end in HEADERS_END):
            self._hand_over()

    def _hand_over(self) -> None:
        self._waited()
        inner = self._inner = self._gates.inner()
        assert self.transport is not None
        inner.connection_made(self.transport)
        head, self._head = self._head, b""
        inner.data_received(head)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone()
        self.transport = None
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def shut(self) -> None:
        """Close it now: it never sent a whole request, nothing is owed to it (nothing is waiting to be
        written either, so its descriptor is freed at once)."""
        self._gone()
        if self.transport is not None:
            self.transport.close()

    def _waited(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._gates.waiting.pop(self, None)

    def _gone(self) -> None:
        """No longer counted as open (its transport is closing; aiohttp hears of it in connection_lost)."""
        self._waited()
        if self.counted:
            self.counted = False
            self._gates.open -= 1


class Gates:
    """The protocol factory in front of aiohttp's: every connection through a `Gate`, at most `limit` open."""

    def __init__(self, inner: Callable[[], asyncio.Protocol], header_timeout: float, limit: int) -> None:
        self.inner = inner
        self.header_timeout = header_timeout
        self.limit = limit
        self.open = 0
        self.waiting: OrderedDict[Gate, None] = OrderedDict()
        """Connections whose first request's headers are not complete yet, oldest first."""
        self._refused_at = -60.0

    def __call__(self) -> Gate:
        return Gate(self)

    def make_room(self) -> None:
        """Close the oldest connections still waiting for their headers until one more fits."""
        while self.waiting and self.open >= self.limit:
            next(iter(self.waiting)).shut()

    def refused(self) -> None:
        now = time.monotonic()
        if now - self._refused_at > 10:
            self._refused_at = now
            log.warning(
                "http: %d connections open, each being answered or kept alive (http_max_connections): "
                "new connections are refused",
                self.open,
            )


class GatedSite(web.BaseSite):
    """A TCP site whose connections pass through `Gates` (aiohttp's TCPSite with another protocol factory)."""

    __slots__ = ("_gates", "_host", "_port")

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, *, header_timeout: float, max_connections: int
    ) -> None:
        super().__init__(runner, backlog=128)  # aiohttp's: a longer queue stalled longer under a flood
        self._host, self._port = host, port
        server = runner.server
        assert server is not None, "set the runner up first"
        self._gates = Gates(server, header_timeout, max_connections)

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def stop(self) -> None:
        """Stop listening and close the connections still waiting for their headers (aiohttp's shutdown
        sees only those handed to it)."""
        await super().stop()
        for gate in list(self._gates.waiting):
            gate.shut()

    async def start(self) -> None:
        await super().start()
        self._server = await asyncio.get_running_loop().create_server(
            self._gates, self._host, self._port, backlog=self._backlog, reuse_address=True
        )


def body_deadline(seconds: float) -> Any:
    """A middleware: the request's handler is stopped, and 408 answered, if the body has not arrived in full
    `seconds` after the headers. Only the arrival is timed (the parser's end of the body), not the handler:
    a long back-test whose body came at once runs to its end."""

    @web.middleware
    async def deadline(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.body_exists or request.content.is_eof():
            return await handler(request)
        task = asyncio.ensure_future(handler(request))
        late = False

        def check() -> None:
            nonlocal late
            if not request.content.is_eof():
                late = True
                task.cancel()

        timer = asyncio.get_running_loop().call_later(seconds, check)
        try:
            return await task
        except asyncio.CancelledError:
            if not late:
                raise
            log.warning(
                "http: %s %s: the body did not arrive within %g s; closed", request.method, request.path, seconds
            )
            response = web.json_response(
                {
                    "error": {
                        "code": "request_timeout",
                        "message": f"the request's body did not arrive within {seconds:g} s",
                    }
                },
                status=408,
            )
            response.force_close()
            return response
        finally:
            timer.cancel()

    return deadline
