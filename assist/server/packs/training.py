"""Training a pack's models away from the live loop, and remembering the last few.

Training is CPU-bound Python (seconds for thousands of samples). Run on the event loop's
thread pool it would hold the GIL against every live call, so a live service trains in one
worker process. Models are deterministic functions of the pack's training files, so the
artifacts are kept by training digest: trying a draft twice, then publishing it, trains once.
Cross-validation depends on the same files, so it is kept the same way: a back-test after an edit
of rules or scripts alone does not train the k fold models again.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from typing import TypeVar

from assist.scripts.pack import cross_validate_pack, train_pack_models
from assist.scripts.pack_model import training_digest

KEEP = 8
T = TypeVar("T")


class ModelTrainer:
    """Trains pack models in a worker process (or in a thread before the service is live)."""

    def __init__(self) -> None:
        self._done: OrderedDict[str, bytes] = OrderedDict()
        self._validated: OrderedDict[str, dict[str, dict[str, float]]] = OrderedDict()
        self._pool: ProcessPoolExecutor | None = None
        self._lock = asyncio.Lock()

    async def train(self, files: Mapping[str, str], *, in_process: bool = False) -> bytes:
        """The artifact for these pack files; raises PackError when they are invalid.

        `in_process` trains in a thread of this process: for startup, before any call is live.
        """
        digest = training_digest(files)
        found = self._done.get(digest)
        if found is not None:
            self._done.move_to_end(digest)
            return found
        async with self._lock:  # one training at a time: a second request for the same files waits for it
            found = self._done.get(digest)
            if found is None:
                if in_process:
                    found = await asyncio.to_thread(train_pack_models, dict(files))
                else:
                    found = await self._in_worker(train_pack_models, dict(files))
                self._done[digest] = found
                while len(self._done) > KEEP:
                    self._done.popitem(last=False)
            return found

    async def cross_validate(self, files: Mapping[str, str]) -> dict[str, dict[str, float]]:
        """Held-out model scores per sample id (k-fold), computed in the worker process."""
        digest = training_digest(files)
        found = self._validated.get(digest)
        if found is None:
            found = await self._in_worker(cross_validate_pack, dict(files))
            self._validated[digest] = found
            while len(self._validated) > KEEP:
                self._validated.popitem(last=False)
        else:
            self._validated.move_to_end(digest)
        return found

    def train_here(self, files: Mapping[str, str]) -> bytes:
        """Train in this thread, blocking (tools and tests; never on a live service's loop)."""
        digest = training_digest(files)
        found = self._done.get(digest)
        if found is None:
            found = train_pack_models(dict(files))
            self._done[digest] = found
            while len(self._done) > KEEP:
                self._done.popitem(last=False)
        return found

    async def _in_worker(self, fn: Callable[[dict[str, str]], T], files: dict[str, str]) -> T:
        """Run `fn(files)` in the worker process; a worker that died is replaced for the next call."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker(), fn, files)
        except BrokenExecutor:
            self.close()
            raise RuntimeError("the training worker stopped unexpectedly; try again") from None

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a fork of a process with live threads (the store's, the loop's pool) is not safe
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
