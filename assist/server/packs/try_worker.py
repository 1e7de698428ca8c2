"""A trainer's try, classified in a worker process under a time limit.

A try classifies one whole call: pure-Python matching whose cost grows with the text (a 240 KB line held
the live loop 30 s before tries had limits). The websocket's size limits bound it (`check_call` in the
service), and it runs here, in a process of its own, so that even a try at the limits neither runs on the
live loop nor holds its GIL; a try that overruns `try_timeout` is stopped by killing the process (the
next try starts another). The process keeps the last few packs it built, by key, so a trainer trying
line after line sends and compiles the pack once; a pack is sent only when the process says it lacks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from assist.live.whole_call import classify_call
from assist.scripts.pack import Pack, load_pack

KEEP = 3
"""Packs the process keeps (the published one and a draft or two being tried)."""
LOAD_TIMEOUT = 120.0
"""Seconds the process may take to start and build a pack (about 2 s; a busy machine may take many more)."""

PackSource = tuple[Mapping[str, str], bytes | None, Sequence[str]]
"""What the process builds a pack from: its files, its model artifact, the internal numbers its forbidden
lines check besides the pack's own."""


class TryTimedOut(Exception):
    """The try ran past its time limit and its process was stopped."""


def serve(conn: Connection) -> None:
    """The worker's loop: ("load", key, source) builds and keeps a pack, ("classify", key, call) classifies
    with it (("missing", None) when it has no pack under that key), until the service closes the pipe."""
    with contextlib.suppress(OSError):
        os.nice(10)  # a try is a trainer waiting, a live call is a customer: the service comes first for the CPU
    packs: OrderedDict[str, Pack] = OrderedDict()
    while True:
        try:
            kind, key, payload = conn.recv()
        except (EOFError, OSError):
            return
        reply: tuple[str, Any]
        try:
            if kind == "load":
                files, model, numbers = payload
                pack = load_pack(files, models=model)
                packs[key] = dataclasses.replace(pack, forbidden=pack.forbidden.with_internal_numbers(numbers))
                while len(packs) > KEEP:
                    packs.popitem(last=False)
                reply = ("ok", None)
            elif key not in packs:
                reply = ("missing", None)
            else:
                packs.move_to_end(key)
                reply = ("ok", classify_call(packs[key], payload))
        except Exception as exc:  # raised again in the service (ValueError: the call is malformed)
            reply = ("error", exc)
        conn.send(reply)


def _exchange(conn: Connection, request: Any) -> tuple[str, Any]:
    """Send and wait, in a thread (waiting on the pipe does not hold the GIL). The thread owns the pipe
    while it waits: when the process is killed under it, it reads EOF and closes its end itself."""
    try:
        conn.send(request)
        reply: tuple[str, Any] = conn.recv()
        return reply
    except (EOFError, OSError):
        conn.close()
        raise


class TryWorker:
    """The service's end: starts the process on first use, one try at a time, kills it on overrun."""

    def __init__(self) -> None:
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._busy = False
        self._lock = asyncio.Lock()

    async def classify(self, key: str, source: Callable[[], PackSource], call: Any, timeout: float) -> Any:
        """`classify_call` of the pack under `key` (built from `source()` when the process lacks it).

        Raises TryTimedOut past `timeout` seconds, RuntimeError when the process died, and what
        `classify_call` raised (ValueError for a malformed call)."""
        async with self._lock:
            status, value = await self._request(("classify", key, call), timeout)
            if status == "missing":
                status, value = await self._request(("load", key, source()), LOAD_TIMEOUT)
                if status == "ok":
                    status, value = await self._request(("classify", key, call), timeout)
        if status == "error":
            raise value
        return value

    async def _request(self, request: tuple[str, str, Any], timeout: float) -> tuple[str, Any]:
        conn = self._start()
        self._busy = True
        try:
            return await asyncio.wait_for(asyncio.to_thread(_exchange, conn, request), timeout)
        except TimeoutError:
            self._kill()
            raise TryTimedOut(f"stopped after {timeout:g} s") from None
        except (EOFError, OSError):
            self._kill()
            raise RuntimeError("the try worker stopped unexpectedly; try again") from None
        except asyncio.CancelledError:  # the trainer went away: its try must not answer the next one
            self._kill()
            raise
        finally:
            self._busy = False

    def _start(self) -> Connection:
        if self._proc is None or self._conn is None or not self._proc.is_alive():
            self._kill()
            # spawn: a fork of a process with live threads (the store's, the loop's pool) is not safe
            ctx = multiprocessing.get_context("spawn")
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=serve, args=(theirs,), name="assist-pack-tries", daemon=True)
            proc.start()
            theirs.close()
            self._proc, self._conn = proc, ours
        return self._conn

    def _kill(self) -> None:
        """Stop the process; a thread waiting on the pipe reads EOF and closes it, else it is closed here."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is not None:
            proc.kill()
            proc.join(5)
        if conn is not None and not self._busy:
            conn.close()

    def close(self) -> None:
        self._kill()
