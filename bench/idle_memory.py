"""Memory per idle connection, and where it goes.

The service is started in this process exactly as `assist serve` starts it (`app.start`, then the
same gc tuning), then traced with tracemalloc; a client process opens N authenticated websocket
connections (no call) and holds them. Prints the Python heap growth per connection (by the file
that allocated it: websockets' buffers and state, asyncio's transport, our `Connection`/`Session`)
and the RSS growth per connection. RSS misleads both ways: a process that has freed its start-up
garbage reuses that memory first (bench.connections' figure is low for that reason), and tracing
doubles what each allocation costs (this one is high); the traced heap is the figure to hold
against the 32 KiB target. Loopback only; N ≤ 5,000.

    python -m bench.idle_memory [--connections 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import tempfile
import tracemalloc
from collections import Counter
from pathlib import Path

from assist.app import start
from assist.config import Settings
from bench.connections import proc_rss_kib, raise_nofile

CLIENT = """
import asyncio, json, sys
from websockets.asyncio.client import connect
async def main(url, token, n):
    sem = asyncio.Semaphore(50)
    async def one():
        async with sem:
            ws = await connect(url, compression=None, ping_interval=None, open_timeout=60)
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await ws.recv()
            return ws
    conns = await asyncio.gather(*(one() for _ in range(n)))
    print("open", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def measure(n: int, tmp: Path) -> None:
    settings = Settings(db=tmp / "m.db", ws_port=0, http_port=0)
    running = await start(settings)
    gc.collect()
    gc.freeze()
    token = await running.store.issue_token("idle", "agent", 0.0)
    await asyncio.sleep(0.5)
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    rss0 = _rss()
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT,
        f"ws://127.0.0.1:{running.ws_port}/ws",
        token,
        str(n),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert client.stdout is not None and client.stdin is not None
    await client.stdout.readline()
    await asyncio.sleep(1.0)
    assert len(running.hub.connections) == n, len(running.hub.connections)
    gc.collect()
    after = tracemalloc.take_snapshot()
    rss1 = _rss()
    diff = after.compare_to(before, "filename")
    by_file: Counter[str] = Counter()
    for stat in diff:
        name = stat.traceback[0].filename
        short = "/".join(name.split("/")[-2:])
        by_file[short] += stat.size_diff
    total = sum(by_file.values())
    print(f"{n} idle authenticated connections (no call), the service in this process")
    print(
        f"Python heap: {total / n / 1024:.1f} KiB per connection (RSS grew {(rss1 - rss0) / n:.1f} KiB per "
        f"connection, tracemalloc's own bookkeeping included)"
    )
    for name, size in by_file.most_common(8):
        print(f"  {size / n / 1024:6.2f} KiB  {name}")
    client.stdin.write(b"\n")
    await client.stdin.drain()
    await client.wait()
    tracemalloc.stop()
    await running.close()


def _rss() -> int:
    return proc_rss_kib(os.getpid())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=2000)
    args = ap.parse_args()
    raise_nofile()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(max(1, min(args.connections, 5000)), Path(tmp)))


if __name__ == "__main__":
    main()
