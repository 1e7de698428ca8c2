"""What one HTTP connection may hold: a deadline for its request's headers, a cap on open connections,
and an accept path that a flood of connections cannot stall.

Without them 20,000 requests that never finish their headers held 20,000 file descriptors for ever (issue
14): every new connection to either port then failed, `/healthz` included. aiohttp closes a connection
idle between requests after its keep-alive timeout (`http_header_timeout` as well); what it does not do in
every version is close a new connection whose first request never completes. So the site accepts its
connections itself (`Gates`): a new connection is a socket and a buffer, read when an epoll set of the
gate's own says so until its first request's headers are complete, and only then made an asyncio
transport with aiohttp's protocol (a connection that never gets that far costs no transport, task,
protocol, timer or loop registration); it is
closed when the headers do not come within `http_header_timeout`, and with `http_max_connections` open, a
new connection closes the oldest one still waiting for its headers (a slow or hostile client; never one
being answered). Once handed over, a request whose body does not arrive in full within
`http_body_timeout` is answered 408 and closed (`body_deadline`): a body trickled in would otherwise hold
its handler, and its place under the cap, for ever.

Why not asyncio's own accept path: under a flood of connects the listen queue must be long (the kernel
drops a SYN that finds it full, and the client resends it only after 1 s, then 3 s), and asyncio accepts
up to `backlog` connections per readiness event, each through a task of its own that makes a transport and
a protocol: thousands at once, the loop stalled and the cap overrun before the first protocol counted
itself. Here a long queue (`BACKLOG`) is drained `ACCEPT_BATCH` connections per loop turn, each costing an
`accept`, a `recv` and, while its headers are unfinished, one entry in the gate's epoll set (the loop
watches the set as one descriptor; its own `add_reader` per connection cost a third more). Measured with
`bench.abuse --only 7` in docs/hardening.md, item 7. Linux only (epoll), as the service is.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import select
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

MAX_HEAD = 65536
"""Bytes held before the headers end; past them aiohttp gets the connection (and refuses the request)."""
BACKLOG = 4096
"""The listen queue: longer than the connects a flood keeps in flight, so that no SYN is dropped (the
kernel caps it at `net.core.somaxconn`)."""
ACCEPT_BATCH = 64
"""Connections accepted per loop turn: the queue drains over a few turns, with the loop's other work
(requests being answered, websockets) between them."""
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class Waiting:
    """A connection whose first request's headers are not complete: its socket and what it sent so far."""

    __slots__ = ("deadline", "head", "sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.head = b""


class Handed(asyncio.Protocol):
    """A connection handed to aiohttp: its protocol gets the transport and the head read so far, then every
    call passed on; the gate only counts the connection until it is lost."""

    __slots__ = ("_gates", "_head", "_inner", "made")

    def __init__(self, gates: Gates, inner: asyncio.Protocol, head: bytes) -> None:
        self._gates = gates
        self._inner = inner
        self._head = head
        self.made = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made = True
        self._inner.connection_made(transport)
        head, self._head = self._head, b""
        self._inner.data_received(head)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._gates.open -= 1
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class Gates:
    """Accepts the listening sockets' connections: each waits here for its first request's headers, at most
    `limit` are open (waiting or handed to `inner`'s protocols)."""

    def __init__(self, inner: Callable[[], asyncio.Protocol], header_timeout: float, limit: int) -> None:
        self.inner = inner
        self.header_timeout = header_timeout
        self.limit = limit
        self.open = 0
        self.waiting: dict[int, Waiting] = {}
        """Connections whose first request's headers are not complete yet, by descriptor, oldest first."""
        self._timer: asyncio.TimerHandle | None = None
        self._poll: select.epoll | None = None
        """The waiting connections' own readiness set: one C call adds one (closing it drops it), where the
        loop's `add_reader` costs a handle, a selector key and a dict entry each; the loop watches the set."""
        self._handing: set[asyncio.Task[Any]] = set()
        self._refused_at = -60.0

    def listen(self, sock: socket.socket) -> None:
        if sock.fileno() < 0:  # closed meanwhile (the site stopped while accepting was paused)
            return
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        if self._poll is None:
            self._poll = select.epoll()
            loop.add_reader(self._poll.fileno(), self._ready)
        loop.add_reader(sock.fileno(), self._accept, sock)

    def unlisten(self, sock: socket.socket) -> None:
        asyncio.get_running_loop().remove_reader(sock.fileno())

    def _accept(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.header_timeout
        poll = self._poll
        assert poll is not None
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _peer = sock.accept()
            except (BlockingIOError, InterruptedError):
                break  # the queue is empty
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in OUT_OF_DESCRIPTORS:
                    log.warning("http: accept: %s", exc)
                    break
                if self.waiting:  # a descriptor of the oldest waiting connection for this one
                    self.shut(next(iter(self.waiting.values())))
                    continue
                log.warning("http: accept: %s; not accepting for 0.1 s", exc)
                self.unlisten(sock)
                loop.call_later(0.1, self.listen, sock)
                break
            if self.open >= self.limit:
                self.make_room()
                if self.open >= self.limit:  # every open connection is being answered or kept alive: refused
                    conn.close()
                    self.refused()
                    continue
            conn.setblocking(False)
            self.open += 1
            waiting = Waiting(conn, deadline)
            self.waiting[conn.fileno()] = waiting
            if self._readable(waiting):  # usually what a client sends with its connect is there already
                poll.register(conn.fileno(), select.EPOLLIN)
        if self._timer is None and self.waiting:
            self._expire()

    def _ready(self) -> None:
        assert self._poll is not None
        for fd, _events in self._poll.poll(0):
            waiting = self.waiting.get(fd)
            if waiting is not None:
                self._readable(waiting)

    def _readable(self, waiting: Waiting) -> bool:
        """Read what arrived; True while the headers are still unfinished."""
        try:
            data = waiting.sock.recv(MAX_HEAD)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:  # closed (or reset) before its headers were complete
            self.shut(waiting)
            return False
        head = waiting.head = waiting.head + data
        tail = head[-len(data) - 3 :]
        if b"\r\n\r\n" in tail or b"\n\n" in tail or len(head) > MAX_HEAD:
            self._hand_over(waiting)
            return False
        return True

    def _hand_over(self, waiting: Waiting) -> None:
        sock = waiting.sock
        del self.waiting[sock.fileno()]
        assert self._poll is not None
        with contextlib.suppress(OSError):  # not registered: its whole head came with the accept
            self._poll.unregister(sock)
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._serve(sock, waiting.head))
        self._handing.add(task)
        task.add_done_callback(self._handing.discard)

    async def _serve(self, sock: socket.socket, head: bytes) -> None:
        handed = Handed(self, self.inner(), head)
        try:
            await asyncio.get_running_loop().connect_accepted_socket(lambda: handed, sock)
        except (OSError, asyncio.CancelledError):  # reset before it was served, or the site is stopping
            if not handed.made:  # else its transport is closing, and connection_lost counts it out
                self.open -= 1
                sock.close()

    def shut(self, waiting: Waiting) -> None:
        """Close it now: it never sent a whole request, nothing is owed to it."""
        fd = waiting.sock.fileno()
        if self.waiting.pop(fd, None) is None:
            return
        waiting.sock.close()  # which also takes it out of the readiness set
        self.open -= 1

    def _expire(self) -> None:
        """Close the connections whose header deadline has passed (the oldest first: one timer for all)."""
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self.waiting:
            oldest = next(iter(self.waiting.values()))
            if oldest.deadline > now:
                self._timer = loop.call_at(oldest.deadline, self._expire)
                return
            self.shut(oldest)

    def close(self) -> None:
        """Close every connection still waiting for its headers (aiohttp's shutdown sees only those handed
        to it)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for waiting in list(self.waiting.values()):
            self.shut(waiting)
        if self._poll is not None:
            asyncio.get_running_loop().remove_reader(self._poll.fileno())
            self._poll.close()
            self._poll = None

    def make_room(self) -> None:
        """Close the oldest connections still waiting for their headers until one more fits."""
        while self.waiting and self.open >= self.limit:
            self.shut(next(iter(self.waiting.values())))

    def refused(self) -> None:
        now = time.monotonic()
        if now - self._refused_at > 10:
            self._refused_at = now
            log.warning(
                "http: %d connections open, each being answered or kept alive (http_max_connections): "
                "new connections are refused",
                self.open,
            )


class Listening(asyncio.AbstractServer):
    """The listening sockets of a `GatedSite`, as aiohttp's runner expects a site's server to be (its
    `addresses` read `sockets`; `close` stops listening)."""

    def __init__(self, gates: Gates, sockets: list[socket.socket]) -> None:
        self._gates = gates
        self.sockets = tuple(sockets)
        self._closed = asyncio.Event()

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            for sock in self.sockets:
                self._gates.unlisten(sock)
                sock.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def is_serving(self) -> bool:
        return not self._closed.is_set()

    async def start_serving(self) -> None:
        """Already serving: the gates listen from `GatedSite.start` on."""

    async def serve_forever(self) -> None:
        """Serve until `close` (the gates do the work; this only waits, as asyncio's servers do)."""
        await self._closed.wait()

    async def wait_closed(self) -> None:
        await self._closed.wait()


async def bind(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets for every address `host` names (as asyncio's `create_server` makes them)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class GatedSite(web.BaseSite):
    """A TCP site whose connections are accepted by `Gates` (aiohttp's TCPSite with another accept path)."""

    __slots__ = ("_gates", "_host", "_port")

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, *, header_timeout: float, max_connections: int
    ) -> None:
        super().__init__(runner, backlog=BACKLOG)
        self._host, self._port = host, port
        server = runner.server
        assert server is not None, "set the runner up first"
        self._gates = Gates(server, header_timeout, max_connections)

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def stop(self) -> None:
        """Stop listening and close the connections still waiting for their headers."""
        await super().stop()
        self._gates.close()

    async def start(self) -> None:
        await super().start()
        sockets = await bind(self._host, self._port, self._backlog)
        self._server = Listening(self._gates, sockets)
        for sock in sockets:
            self._gates.listen(sock)


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
