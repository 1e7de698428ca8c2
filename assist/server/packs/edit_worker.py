"""A trainer's save, applied and checked in a worker process that remembers the files it parsed.

A save re-parses the file it changed (the default `rules.yaml`: ~150 ms of pure-Python CPU) and
compiles the pack to list its problems. In a thread of the service that work holds the GIL against
the live loop and every agent's websocket waits; in a process it does not. The process keeps its
own `FileCache` (in its serving loop, not in a module global): it has the previous text's nodes at
hand for splicing the next edit, so a save parses one file once. What it sends back is small: the
changed files' text, their plain data (the service learns it, so its forms and diffs parse
nothing) and the problems.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from assist.problems import Problem
from assist.scripts.file_cache import FileCache
from assist.scripts.pack import check_pack
from assist.scripts.pack_edit import YAML_FILES, Edit, apply_edits

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Edited:
    changed: dict[str, str]
    """The text of each file the edits changed (the others are as they were: not sent back)."""
    data: dict[str, Any]
    """Plain data of each changed YAML file."""
    problems: list[Problem]
    """The edited pack's problems, each with file and line (empty: it compiles)."""


def edit_and_check(cache: FileCache, files: Mapping[str, str], edits: Sequence[Edit]) -> Edited:
    """Apply the edits and compile the result (raises EditError for an edit that cannot be written)."""
    new = apply_edits(files, edits, cache)
    changed = [n for n, t in new.items() if files.get(n) != t]
    data: dict[str, Any] = {}
    for name in changed:
        if name in YAML_FILES:
            parsed = cache.yaml(new[name])
            if parsed.error is None:
                data[name] = parsed.data
    return Edited({n: new[n] for n in changed}, data, check_pack(new, cache=cache))


def serve(conn: Connection) -> None:
    """The worker's loop: one request at a time until the service closes its end of the pipe."""
    cache = FileCache()
    while True:
        try:
            files, edits = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", edit_and_check(cache, files, edits))
        except Exception as exc:  # sent back and raised in the service (EditError above all)
            reply = ("error", exc)
        conn.send(reply)


class EditWorker:
    """The service's end: starts the process on first use, replaces it when it died."""

    def __init__(self) -> None:
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()
        self._io = threading.Lock()
        self._warming: asyncio.Task[None] | None = None
        self.ready = False
        """The process has answered since it started (until then a save is quicker done in the service)."""

    def start(self) -> None:
        """Start the process now (it takes a second or two to import the pack compiler)."""
        if self._proc is None or not self._proc.is_alive():
            # spawn: a fork of a process with live threads (the store's, the loop's pool) is not safe
            ctx = multiprocessing.get_context("spawn")
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=serve, args=(theirs,), name="assist-pack-edits", daemon=True)
            proc.start()
            theirs.close()
            self._proc, self._conn, self.ready = proc, ours, False

    def warm(self, files: Mapping[str, str]) -> None:
        """Start the process and have it read these files (a draft about to be edited) in the background,
        so the first save finds them parsed: reading a whole pack takes the worker about a second."""
        if self._warming is not None and not self._warming.done():
            return

        async def read() -> None:
            try:
                await self.edit(files, ())
            except Exception as exc:  # the save that follows says what is wrong
                log.info("packs: the edit worker could not read the draft ahead: %s", exc)

        self._warming = asyncio.get_running_loop().create_task(read(), name="pack-edit-worker-warm")

    async def edit(self, files: Mapping[str, str], edits: Sequence[Edit]) -> Edited:
        async with self._lock:  # one save at a time (the service's lock already orders them)
            self.start()
            status, value = await asyncio.to_thread(self._call, (dict(files), list(edits)))
            self.ready = True
        if status == "error":
            raise value
        assert isinstance(value, Edited)
        return value

    def _call(self, request: Any) -> tuple[str, Any]:
        """Send and wait (in a thread: waiting on the pipe does not hold the GIL)."""
        with self._io:
            conn = self._conn
            if conn is None:
                raise RuntimeError("the pack edit worker was closed")
            try:
                conn.send(request)
                reply: tuple[str, Any] = conn.recv()
                return reply
            except (EOFError, OSError, BrokenPipeError):
                self.close()
                raise RuntimeError("the pack edit worker stopped unexpectedly") from None

    def close(self) -> None:
        """Stop the process (it holds nothing but what it parsed); a save waiting on it gets RuntimeError."""
        conn, proc = self._conn, self._proc
        self._conn = self._proc = None
        self.ready = False
        if proc is not None:
            proc.kill()  # first: a thread waiting on the pipe then reads its end, not a closed descriptor
            proc.join(5)
        if conn is not None:
            conn.close()
