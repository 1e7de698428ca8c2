"""`assist serve` on a port another process holds: it says so and exits 1, rather than printing the error and
then hanging with its database thread and timers still running (a restart script or systemd waited on it)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.serve_process import BOUND, ROOT, prepare


@pytest.mark.parametrize("taken", ["--ws-port", "--http-port"])
async def test_serve_on_a_port_in_use_exits_with_the_reason(taken: str, small_pack: Path, tmp_path: Path) -> None:
    # the pack imported (its model trained) by the suite's trainer beforehand: the start gets to the ports at once
    await prepare(tmp_path / "assist.db", pack=small_pack)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        ports = {"--ws-port": "0", "--http-port": "0", taken: str(port)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "assist",
            "serve",
            "--pack",
            str(small_pack),
            "--db",
            str(tmp_path / "assist.db"),
            *(arg for pair in ports.items() for arg in pair),
            cwd=ROOT,
            env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), BOUND)  # a bound on waiting, not a tolerance
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 1
    assert "cannot start" in err.decode() and "in use" in err.decode()
