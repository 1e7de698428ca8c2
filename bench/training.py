"""Training a pack's models for publish, at 5,000 samples, while live agents keep typing.

Starts the service as `assist serve` does (in this process, loopback, a temporary SQLite file),
connects agents that each edit a note every 100 ms, and measures note -> result latency idle,
then while the service trains a 5,000-sample pack in its worker process (what publish does),
in the same run. Prints the training time against the 10 s target and both latency figures.

    python -m bench.training [--samples 5000] [--agents 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from assist.app import start
from assist.config import DEFAULT_PACK, Settings
from assist.scripts.pack import read_pack_dir
from bench.connections import pct

TARGET_S = 10.0


def pack_with(samples: int) -> dict[str, str]:
    """The default pack's files with its sample calls repeated (ids and one note varied) up to `samples`."""
    files = read_pack_dir(DEFAULT_PACK)
    base = [json.loads(x) for x in files["samples.jsonl"].splitlines() if x.strip()]
    out: list[str] = []
    for i in range(samples):
        s = dict(base[i % len(base)])
        s["id"] = f"bench-{i}"
        s["notes"] = [*s.get("notes", []), f"第{i // len(base) + 1}轮"]
        out.append(json.dumps(s, ensure_ascii=False))
    return {**files, "samples.jsonl": "\n".join(out) + "\n"}


async def agent(url: str, token: str, n: int, stop: asyncio.Event, out: list[tuple[float, float]]) -> None:
    """An agent typing a note every 100 ms on its own call; (when, note -> result ms) of each into `out`."""
    async with connect(url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.recv()
        await ws.send(json.dumps({"id": 1, "type": "call.start", "call_id": f"b{n}", "context": {}}))
        while json.loads(await ws.recv()).get("id") != 1:
            pass
        i = 2
        while not stop.is_set():
            t0 = time.perf_counter()
            await ws.send(
                json.dumps(
                    {"id": i, "type": "call.note", "call_id": f"b{n}", "text": f"客户咨询账户余额 第{i}次"},
                    ensure_ascii=False,
                )
            )
            while json.loads(await ws.recv()).get("id") != i:
                pass
            t1 = time.perf_counter()
            out.append((t1, (t1 - t0) * 1000))
            i += 1
            await asyncio.sleep(0.1)


async def main(samples: int, agents: int) -> None:
    files = pack_with(samples)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(host="127.0.0.1", ws_port=0, http_port=0, db=Path(tmp) / "bench.db", pack=DEFAULT_PACK)
        running = await start(settings)
        try:
            url = f"ws://127.0.0.1:{running.ws_port}/ws"
            tokens = [await running.store.issue_token(f"b{n}", "agent", time.time()) for n in range(agents)]
            stop = asyncio.Event()
            lat: list[tuple[float, float]] = []
            tasks = [asyncio.create_task(agent(url, tokens[n], n, stop, lat)) for n in range(agents)]
            await asyncio.sleep(4)
            t0 = time.perf_counter()
            await running.trainer.train(files)  # the worker process, as publish does
            t1 = time.perf_counter()
            await asyncio.sleep(1)
            stop.set()
            await asyncio.gather(*tasks)
        finally:
            await running.close()
    idle = [ms for at, ms in lat if at < t0 - 1]
    during = [ms for at, ms in lat if t0 <= at <= t1]
    print(f"samples: {samples}, agents: {agents} (a note each every 100 ms)")
    print(
        f"train for publish (worker process, start included): {t1 - t0:.1f} s "
        f"(target ≤ {TARGET_S:.0f} s): {'OK' if t1 - t0 <= TARGET_S else 'OVER'}"
    )
    print(f"{'note -> result':28}{'median ms':>10}{'p99 ms':>10}{'n':>8}")
    print(f"{'idle':28}{statistics.median(idle):10.2f}{pct(idle, 0.99):10.2f}{len(idle):8}")
    print(f"{'while training':28}{statistics.median(during):10.2f}{pct(during, 0.99):10.2f}{len(during):8}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--agents", type=int, default=50)
    args = ap.parse_args()
    asyncio.run(main(args.samples, args.agents))
