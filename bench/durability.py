"""What an fsync per group commit costs the note path: `synchronous=FULL` vs the relaxed policy.

The store alone (no sockets): N writers each write one note event a second (a `call_event` and,
for one note in five, a `classification`, as a note that changes labels does) through
`Store.write`, group-committed, for `--seconds`. Run once with every commit fsynced
(`Store.sync_every = None`: FULL throughout) and once with the service's policy (relaxed kinds
committed with NORMAL, the log fsynced at least every `sync_every` s and before any other kind
is acknowledged). Prints the latency of `Store.write` (note -> committed) and commits made.

`--busy 0.8` keeps the event loop that busy with Python work meanwhile, as classifying and sending
keep the service's loop at 2,000 calls: the writer's thread then competes with it for the GIL.

    python -m bench.durability [--writers 2000] [--seconds 10] [--busy 0.8]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from assist.effects import Write
from assist.server.schema import SCHEMA
from assist.server.store import Store
from bench.connections import pct


async def spin(share: float, stop_at: float) -> None:
    """Keep the event loop `share` busy with Python work (a millisecond at a time) until `stop_at`."""
    while share > 0 and time.perf_counter() < stop_at:
        until = time.perf_counter() + share / 1000
        while time.perf_counter() < until:
            pass
        await asyncio.sleep((1 - share) / 1000)


async def run(
    path: Path, sync_every: float | None, writers: int, seconds: float, busy: float = 0.0
) -> tuple[list[float], int]:
    store = await Store.open(path, SCHEMA)
    store.sync_every = sync_every
    store.start_writer()
    commits = 0
    real_commit = store._commit_batch

    async def counted(runs: list[tuple[str, list[tuple[Any, ...]]]], full: bool) -> None:
        nonlocal commits
        commits += 1
        await real_commit(runs, full)

    store._commit_batch = counted  # type: ignore[method-assign]
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def writer(i: int) -> None:
        await asyncio.sleep(random.random())
        n = 0
        next_at = time.perf_counter()
        while next_at < stop_at:
            writes = [
                Write(
                    "call_event",
                    {
                        "call_id": f"c-{i}",
                        "kind": "note",
                        "at": time.time(),
                        "payload": {"text": "客户说手机银行转账提示系统繁忙，多次失败" * 3},
                    },
                )
            ]
            if n % 5 == 0:
                writes.append(
                    Write(
                        "classification",
                        {
                            "call_id": f"c-{i}",
                            "category": "system_outage",
                            "labels": ["system_outage"],
                            "evidence": [],
                            "pack_version": "v1",
                            "at": time.time(),
                        },
                    )
                )
            t0 = time.perf_counter()
            await store.write(writes)
            latencies.append((time.perf_counter() - t0) * 1000)
            n += 1
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    await asyncio.gather(spin(busy, stop_at), *(writer(i) for i in range(writers)))
    await store.close()
    return latencies, commits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writers", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--busy", type=float, default=0.0, help="share of the loop kept busy meanwhile (0-0.95)")
    args = ap.parse_args()
    writers = max(1, min(args.writers, 5000))
    seconds = max(1.0, min(args.seconds, 60.0))
    busy = max(0.0, min(args.busy, 0.95))
    print(
        f"{writers} writers x 1 note/s for {seconds:.0f} s through Store.write (group commit), WAL mode, "
        f"the loop {busy:.0%} busy"
    )
    print(f"{'':34}{'p50 ms':>8}{'p99 ms':>8}{'p99.9 ms':>9}{'commits':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, sync_every in (("FULL (fsync every commit)", None), ("relaxed (NORMAL, fsync ≤ 1 s)", 1.0)):
            lat, commits = asyncio.run(run(Path(tmp) / f"{sync_every}.db", sync_every, writers, seconds, busy))
            print(f"{name:34}{pct(lat, 0.5):8.2f}{pct(lat, 0.99):8.2f}{pct(lat, 0.999):9.2f}{commits:9d}")


if __name__ == "__main__":
    main()
