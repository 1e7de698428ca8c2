"""`assist serve` in its own process, as an operator starts it, for tests that signal or kill it."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from websockets.asyncio.client import connect

from assist.app import pack_in_force
from assist.config import DEFAULT_PACK, Settings
from assist.server.schema import SCHEMA
from assist.server.store import Store
from tests.conftest import TRAINER, Client, Http
from tests.pgcluster import cipher_for

ROOT = Path(__file__).resolve().parents[1]
BOUND = 120.0
"""Seconds to wait for the process to start or stop: a bound on waiting, not a tolerance."""


async def prepare(
    db: Path | str, *users: tuple[str, str], pack: Path = DEFAULT_PACK, now: float | None = None
) -> list[str]:
    """The database as an operator leaves it before the first start: the pack directory imported as `assist
    serve` imports it (`pack_in_force`, stamped `now`), its model trained by the suite's trainer once per run
    instead of in each child process (seconds of CPU per start), and the users' tokens issued. For tests whose
    subject is not the first start's own import (tests/service/test_cli.py serves out of the box)."""
    store = await Store.open(db, SCHEMA, cipher_for(db))
    try:
        await pack_in_force(store, Settings(db=db, pack=pack), TRAINER, time.time() if now is None else now)
        return [await store.issue_token(user, role, time.time()) for user, role in users]
    finally:
        await store.close()


async def tokens(db: Path | str, *users: tuple[str, str]) -> list[str]:
    """Tokens issued on the database at `db`, as `assist token issue` does (tests/service/test_cli.py runs that
    command: a process per token costs a second of CPU)."""
    store = await Store.open(db, SCHEMA, cipher_for(db))
    try:
        return [await store.issue_token(user, role, time.time()) for user, role in users]
    finally:
        await store.close()


class ServeProcess:
    """One `assist serve` process at a time. `start` waits for the addresses it prints (and keeps what it
    printed in `banner`); with `keep_ports`, a restart listens on the ports of the first start."""

    def __init__(self, env: Mapping[str, str], log: Path, *args: str, keep_ports: bool = False) -> None:
        self.env, self.log, self.args, self.keep_ports = dict(env), log, args, keep_ports
        self.proc: asyncio.subprocess.Process | None = None
        self.ws_port = self.http_port = 0
        self.banner = ""

    async def start(self) -> None:
        ws_port, http_port = (self.ws_port, self.http_port) if self.keep_ports else (0, 0)
        with open(self.log, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "assist",
                "serve",
                *self.args,
                "--ws-port",
                str(ws_port),
                "--http-port",
                str(http_port),
                cwd=ROOT,
                env=self.env,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        assert self.proc.stdout is not None
        self.banner, self.ws_port, self.http_port = "", 0, 0
        while not (self.ws_port and self.http_port):  # the database line, then the websocket's, then HTTP's
            line = (await asyncio.wait_for(self.proc.stdout.readline(), BOUND)).decode()
            assert line, f"assist serve did not start; log: {self.log.read_text()[-2000:]}"
            self.banner += line
            if m := re.search(r"ws://127\.0\.0\.1:(\d+)/ws", line):
                self.ws_port = int(m.group(1))
            if m := re.search(r"http://127\.0\.0\.1:(\d+)/", line):
                self.http_port = int(m.group(1))

    async def client(self, token: str) -> Client:
        ws = await connect(f"ws://127.0.0.1:{self.ws_port}/ws", max_size=None)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        client = Client(ws)
        assert (await client.recv(BOUND))["type"] == "auth_ok"
        return client

    async def signal(self, sig: int) -> int:
        """Send `sig` and wait for the process to end; its exit status."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        return await self.exited()

    async def exited(self) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), BOUND)

    async def kill(self) -> None:
        """Cleanup after a failed test: no process left running."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def start_two(env: Mapping[str, str], logs: Path) -> tuple[ServeProcess, ServeProcess]:
    """Instances A and B on the same settings, started together (logs `a.log`, `b.log` in `logs`); neither is
    left running if either fails to start."""
    a, b = ServeProcess(env, logs / "a.log"), ServeProcess(env, logs / "b.log")
    try:
        await asyncio.gather(a.start(), b.start())
    except BaseException:
        await a.kill()
        await b.kill()
        raise
    return a, b


async def cli(env: Mapping[str, str], *args: str) -> str:
    """An `assist` command as an operator runs it, in its own process; what it printed (it must succeed)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "assist",
        *args,
        cwd=ROOT,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), BOUND)
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


OUTAGE = ("categories", "system_outage", "rules", 0, "any")
"""The path of the outage rule's words in rules.yaml."""


async def publish_outage_word(trainer: Http, word: str) -> str:
    """As a trainer: a draft that adds `word` to the outage rule, submitted and published; the new version."""
    current = await trainer.call("GET", "/api/pack/current")
    words = current["structured"]["rules.yaml"]["categories"]["system_outage"]["rules"][0]["any"]
    did = (await trainer.call("POST", "/api/pack/drafts", {}, expect=201))["id"]
    await trainer.call(
        "PATCH",
        f"/api/pack/drafts/{did}",
        {"edits": [{"file": "rules.yaml", "path": list(OUTAGE), "value": [*words, word]}]},
    )
    await trainer.call("POST", f"/api/pack/drafts/{did}/submit")
    published: str = (await trainer.call("POST", f"/api/pack/drafts/{did}/publish"))["pack_version"]
    return published
