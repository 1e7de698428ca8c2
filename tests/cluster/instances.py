"""Two `assist serve` processes on one PostgreSQL schema, as an operator runs them behind nginx, for the tests
of what is cluster-wide (docs/operations.md, "Several instances on one PostgreSQL")."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assist.config import DEFAULT_PACK
from tests.pgcluster import DATA_KEY, Cluster
from tests.serve_process import BOUND, ServeProcess, prepare, start_two, tokens


@dataclass
class Instances:
    """Instances `a` and `b` on the database at `url` (one schema of the suite's cluster), with their env."""

    url: str
    env: dict[str, str]
    a: ServeProcess
    b: ServeProcess
    logs: Path

    @classmethod
    async def start(cls, cluster: Cluster, where: Path, pack: Path = DEFAULT_PACK) -> Instances:
        url = cluster.fresh_url("two")
        env = {
            **os.environ,
            "ASSIST_DB": url,
            "ASSIST_DATA_KEY": DATA_KEY,
            "ASSIST_PACK": str(pack),
            "ASSIST_PACK_APPROVALS": "0",
            "ASSIST_HOST": "127.0.0.1",
            "XDG_DATA_HOME": str(where / "xdg"),
        }
        await prepare(url, pack=pack)  # the pack imported once, here: neither child trains its model
        a, b = await start_two(env, where)
        return cls(url, env, a, b, where)

    async def token(self, user: str, role: str) -> str:
        [token] = await tokens(self.url, (user, role))
        return token

    async def stop(self) -> None:
        for proc in (self.a, self.b):
            if proc.proc is not None and proc.proc.returncode is None:
                await proc.signal(signal.SIGTERM)
            await proc.kill()

    def log(self, which: ServeProcess) -> str:
        return which.log.read_text(errors="replace")


async def until(predicate: Any, what: str, bound: float = BOUND) -> None:
    """Wait for `predicate()` (sync or async) to hold, polling; fail after `bound` seconds (a bound, not a
    tolerance: the condition is expected long before)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while True:
        got = predicate()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return
        if loop.time() > deadline:
            raise AssertionError(f"still waiting for {what}")
        await asyncio.sleep(0.05)
