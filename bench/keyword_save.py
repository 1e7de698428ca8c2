"""A trainer's keyword save on the default pack, as the console makes it, while agents keep typing.

Starts `assist serve` as its own process (loopback, a temporary SQLite file, the default pack),
so the server's GIL is not shared with this client. A trainer creates a draft
(`POST /api/pack/drafts`), then saves a keyword edit `--saves` times through the real API, as
the trainer console's rule card does: `PATCH /api/pack/drafts/{id}` with one
`{file: rules.yaml, path: [categories, <cat>, rules, <i>, any], op: set, value: [...]}` edit,
whose answer is the whole draft (files, structured data for the forms, problems) the console
redraws from. Each save adds a different keyword, so no answer is a repeat.

Meanwhile `--agents` agents each send a `call.note` every 100 ms; their note -> result latency
is measured for `--idle` seconds without saves, then during the saves. Prints p50/p95 of the
save (request sent -> whole answer read) and the agents' p50/p99/max with and without saves.
Before that, the first save as the console makes it when there is no draft yet (POST /drafts,
then the PATCH, right after GET /current) is timed on its own.

    python -m bench.keyword_save [--saves 30] [--agents 20] [--idle 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from bench.connections import pct
from bench.training import agent

TARGET_P95_MS = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (the service's edit and training workers)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_cpu_seconds(int(child))
    except OSError:
        pass
    return total


class Server:
    """`assist serve` in its own process, with an agent and a trainer token."""

    def __init__(self, tmp: Path) -> None:
        ws_port, self.http_port = free_port(), free_port()
        db = tmp / "bench.db"
        exe = [sys.executable, "-m", "assist"]

        def token(user: str, role: str) -> str:
            return subprocess.run(
                [*exe, "token", "issue", "--user", user, "--role", role, "--db", str(db)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()

        self.agent_token, self.trainer_token = token("bench-agent", "agent"), token("bench-trainer", "trainer")
        env = {**os.environ, "ASSIST_LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(
            [*exe, "serve", "--ws-port", str(ws_port), "--http-port", str(self.http_port), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            env=env,
        )
        self.ws_url = f"ws://127.0.0.1:{ws_port}/ws"
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/healthz", timeout=1).read()
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("assist serve did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def keyword_rule(rules: dict[str, Any]) -> tuple[str, int, list[Any]]:
    """The first rule with an `any` keyword list: its category, position and keywords."""
    for cat, body in rules["categories"].items():
        for i, rule in enumerate(body.get("rules") or ()):
            if isinstance(rule, dict) and isinstance(rule.get("any"), list):
                return cat, i, list(rule["any"])
    raise RuntimeError("no rule with keywords in rules.yaml")


async def run(saves: int, agents: int, idle: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            await measure(server, saves, agents, idle)
        finally:
            server.stop()


async def measure(server: Server, saves: int, agents: int, idle: float) -> None:
    base = f"http://127.0.0.1:{server.http_port}/api/pack"
    headers = {"Authorization": f"Bearer {server.trainer_token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{base}/current") as r:  # the console opening, as a trainer signs in
            assert r.status == 200, await r.text()
            cat, index, words = keyword_rule((await r.json())["structured"]["rules.yaml"])
        # The first save makes the draft: POST /drafts, then the PATCH, right away (the console's first 保存).
        t0 = time.perf_counter()
        async with http.post(f"{base}/drafts", json={}) as r:
            assert r.status == 201, await r.text()
            draft = await r.json()
        first = {
            "file": "rules.yaml",
            "path": ["categories", cat, "rules", index, "any"],
            "op": "set",
            "value": [*words, "首次"],
        }
        async with http.patch(f"{base}/drafts/{draft['id']}", json={"edits": [first]}) as r:
            assert r.status == 200, await r.text()
            await r.read()
        create_ms = (time.perf_counter() - t0) * 1000
        stop = asyncio.Event()
        lat: list[tuple[float, float]] = []
        tasks = [asyncio.create_task(agent(server.ws_url, server.agent_token, n, stop, lat)) for n in range(agents)]
        await asyncio.sleep(1)
        idle_cpu = tree_cpu_seconds(server.proc.pid)
        await asyncio.sleep(idle)
        idle_cpu = tree_cpu_seconds(server.proc.pid) - idle_cpu  # the agents' own load on the server
        start = time.perf_counter()
        cpu0 = tree_cpu_seconds(server.proc.pid)
        times: list[float] = []
        problems = 0
        for n in range(saves):
            edit = {
                "file": "rules.yaml",
                "path": ["categories", cat, "rules", index, "any"],
                "op": "set",
                "value": [*words, f"测试词{n}"],
            }
            t0 = time.perf_counter()
            async with http.patch(f"{base}/drafts/{draft['id']}", json={"edits": [edit]}) as r:
                body = await r.read()
                assert r.status == 200, body[:500]
            times.append((time.perf_counter() - t0) * 1000)
            problems = len(json.loads(body)["problems"])
            await asyncio.sleep(0.2)  # a trainer between two saves; agents' notes go on meanwhile
        end = time.perf_counter()
        save_cpu = (tree_cpu_seconds(server.proc.pid) - cpu0 - idle_cpu * (end - start) / idle) / saves
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
    quiet = [ms for at, ms in lat if start - idle <= at < start]
    busy = [ms for at, ms in lat if start <= at <= end]
    p95 = pct(times, 0.95)
    print(
        f"default pack, {saves} keyword saves (PATCH -> whole answer read, {len(body) // 1024} KiB), "
        f"{agents} agents (a note each every 100 ms); problems: {problems}"
    )
    print(
        f"first save, the draft made by it (POST /drafts + PATCH, right after the console opened): {create_ms:.0f} ms"
    )
    print(
        f"keyword save: p50 {pct(times, 0.5):.0f} ms, p95 {p95:.0f} ms, max {max(times):.0f} ms "
        f"(target p95 ≤ {TARGET_P95_MS:.0f} ms): {'OK' if p95 <= TARGET_P95_MS else 'OVER'}"
    )
    print(
        f"server CPU per save (all its processes, the agents' share taken out): {save_cpu * 1000:.0f} ms; "
        f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'agent note -> result':24}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'n':>7}")
    for name, values in (("without saves", quiet), ("during saves", busy)):
        print(f"{name:24}{pct(values, 0.5):9.1f}{pct(values, 0.99):9.1f}{max(values, default=0):9.1f}{len(values):7}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--saves", type=int, default=30)
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of agent traffic measured without saves")
    args = ap.parse_args()
    asyncio.run(run(max(1, min(args.saves, 500)), max(1, min(args.agents, 500)), max(1.0, min(args.idle, 60.0))))


if __name__ == "__main__":
    main()
