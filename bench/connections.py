"""Live-loop load: N agent connections at 1 update/s each, next to a bare websockets echo server.

For each server (started as its own process on loopback) the same client opens N
connections and sends one message per connection per second, at random phases:

- assist: `call.note` with a changing note; latency is note sent -> its reply, which
  comes after the call is re-classified and the note is durably committed (group
  commit), and after any `assist.update` push that the note caused. Each call turns
  into an outage and later into a complaint at random moments, so about 2 x N / seconds
  category changes a second (each re-renders talking points and pushes ~3 KB) are
  spread over the run, far more than a real center's calls change category;
- echo: a ~300-byte JSON frame; latency is frame sent -> echo received.

It prints p50/p99 latency, server CPU per message, server memory per idle connection,
and the assist/echo ratios. Loopback only; bounded in connections and time.

    python -m bench.connections [--connections 2000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

NEUTRAL = ["客户问信用卡额度怎么调整", "客户查询网点营业时间", "客户咨询定期存款利率"]
OUTAGE = "客户说手机银行转账提示系统繁忙，多次失败"
COMPLAINT = "客户对年费不满，要求退还，我要投诉"


def raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Result:
    name: str
    p50_ms: float
    p99_ms: float
    messages: int
    cpu_us_per_msg: float
    idle_kib_per_conn: float


class Target:
    name = ""
    proc: subprocess.Popen[bytes]
    url = ""

    async def open(self) -> ClientConnection:
        return await connect(self.url, compression=None, max_size=2**20, open_timeout=30)

    async def prepare(self, ws: ClientConnection, i: int) -> None:
        return None

    async def one(self, ws: ClientConnection, i: int, n: int) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Echo(Target):
    name = "echo"

    def __init__(self) -> None:
        port = free_port()
        self.url = f"ws://127.0.0.1:{port}/ws"
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.echo_server", str(port)],
                                     stdout=subprocess.PIPE, preexec_fn=raise_nofile)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()
        self.payload = json.dumps({"id": 1, "type": "call.note", "call_id": "c-000000",
                                   "text": "客户说手机银行转账提示系统繁忙" * 5}, ensure_ascii=False)

    async def one(self, ws: ClientConnection, i: int, n: int) -> None:
        await ws.send(self.payload)
        await ws.recv()


class Assist(Target):
    name = "assist"

    def __init__(self, tmp: Path) -> None:
        ws_port, http_port = free_port(), free_port()
        db = tmp / "bench.db"
        exe = [sys.executable, "-m", "assist"]
        self.token = subprocess.run([*exe, "token", "issue", "--user", "bench", "--role", "agent", "--db", str(db)],
                                    check=True, capture_output=True, text=True).stdout.strip()
        env = {**os.environ, "ASSIST_LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen([*exe, "serve", "--ws-port", str(ws_port), "--http-port", str(http_port),
                                      "--db", str(db)], stdout=subprocess.DEVNULL, env=env,
                                     preexec_fn=raise_nofile)
        self.url = f"ws://127.0.0.1:{ws_port}/ws"
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.ids: dict[int, int] = {}
        self.notes: dict[int, str] = {}
        self.turns: dict[int, tuple[int, int]] = {}

    def note(self, i: int, n: int) -> str:
        """The call's note after update n: neutral, then an outage, then a complaint too."""
        outage_at, complaint_at = self.turns.setdefault(i, (random.randint(1, 12), random.randint(4, 16)))
        parts = [NEUTRAL[n % len(NEUTRAL)]]
        if n >= outage_at:
            parts.append(OUTAGE)
        if n >= complaint_at:
            parts.append(COMPLAINT)
        return "；".join(parts) + f"（第{n}次更新）"

    async def prepare(self, ws: ClientConnection, i: int) -> None:
        await ws.send(json.dumps({"type": "auth", "token": self.token}))
        await ws.recv()
        await ws.send(json.dumps({"id": 1, "type": "call.start", "call_id": f"c-{i}", "context": {"queue": "retail"}}))
        await self._reply(ws, 1)
        self.ids[i] = 1

    async def _reply(self, ws: ClientConnection, cid: int) -> None:
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("id") == cid:
                return

    async def one(self, ws: ClientConnection, i: int, n: int) -> None:
        cid = self.ids[i] + 1
        self.ids[i] = cid
        await ws.send(json.dumps({"id": cid, "type": "call.note", "call_id": f"c-{i}", "text": self.note(i, n)},
                                 ensure_ascii=False))
        await self._reply(ws, cid)


async def run_target(target: Target, conns: int, seconds: float) -> Result:
    pid = target.proc.pid
    sem = asyncio.Semaphore(50)
    await asyncio.sleep(0.5)
    rss0 = proc_rss_kib(pid)

    async def opened(i: int) -> ClientConnection:
        async with sem:
            ws = await target.open()
            await target.prepare(ws, i)
            return ws

    sockets = await asyncio.gather(*(opened(i) for i in range(conns)))
    await asyncio.sleep(2.0)
    rss1 = proc_rss_kib(pid)
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def agent(i: int, ws: ClientConnection) -> None:
        await asyncio.sleep(random.random())
        n = 0
        next_at = time.perf_counter()
        while next_at < stop_at:
            t0 = time.perf_counter()
            await target.one(ws, i, n)
            latencies.append((time.perf_counter() - t0) * 1000)
            n += 1
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    cpu0 = proc_cpu_seconds(pid)
    await asyncio.gather(*(agent(i, ws) for i, ws in enumerate(sockets)))
    cpu1 = proc_cpu_seconds(pid)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return Result(target.name, pct(latencies, 0.5), pct(latencies, 0.99), len(latencies),
                  (cpu1 - cpu0) * 1e6 / max(1, len(latencies)), (rss1 - rss0) / conns)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    conns = max(1, min(args.connections, 5000))
    seconds = max(1.0, min(args.seconds, 120.0))
    raise_nofile()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for make in (Echo, lambda: Assist(Path(tmp))):
            target = make()
            try:
                results.append(asyncio.run(run_target(target, conns, seconds)))
            finally:
                target.stop()
    print(f"{conns} connections x 1 msg/s for {seconds:.0f} s, loopback, client and server on this machine")
    print(f"{'':8}{'p50 ms':>9}{'p99 ms':>9}{'msgs':>8}{'server CPU µs/msg':>19}{'idle KiB/conn':>15}")
    for r in results:
        print(f"{r.name:8}{r.p50_ms:9.2f}{r.p99_ms:9.2f}{r.messages:8d}{r.cpu_us_per_msg:19.0f}"
              f"{r.idle_kib_per_conn:15.1f}")
    echo, assist = results
    ratio = assist.p99_ms / echo.p99_ms
    print(f"assist/echo p99 ratio: {ratio:.2f} (target ≤ 2.0): {'OK' if ratio <= 2.0 else 'OVER'}")
    print(f"assist idle memory per connection: {assist.idle_kib_per_conn:.1f} KiB (target ≤ 32): "
          f"{'OK' if assist.idle_kib_per_conn <= 32 else 'OVER'}")


if __name__ == "__main__":
    main()
