"""Escalation deadlines at scale: N pending deadlines, how late each step fires.

The service runs as `assist serve` does (a subprocess, loopback) with a routing file whose
"complaint about the agent" plan has its back-office step `--after` seconds after the escalation
opens (its center-manager step an hour later, so it stays pending). Agents open N such
escalations through `call.escalate` as fast as the service takes them; each back-office step then
comes due `--after` seconds after its escalation opened, so N deadlines are pending at once and
fall due at the rate they were opened. A shift leader subscribed to escalations hears each step
fire; lateness is the moment the leader hears it minus the step's `due_at` (both on this
machine's clock), and the service's own `fired_at` minus `due_at`.

    python -m bench.deadlines [--deadlines 10000] [--after 60] [--postgresql [--instances 2]]

`--postgresql` serves on a throwaway PostgreSQL cluster (started as the suite does); `--instances 2` runs two
processes on it, agents spread over both, the leader on the first: each step fires on whichever instance
claims it, and the leader hears the other's through the cluster bus. The audit count says whether every step
fired exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.connections import free_port, pct, raise_nofile

TARGET_S = 1.0


ONE_USER_LOAD = {"ASSIST_MAX_CALLS_PER_AGENT": "100000"}
"""The benchmark's calls all belong to one agent token: lift the per-agent live-call cap (20) for it."""


class Service:
    """`instances` processes of `assist serve` on one database: a SQLite file in `tmp`, or the PostgreSQL
    database `postgresql` (with `data_key`)."""

    def __init__(
        self, tmp: Path, after: float, postgresql: str | None = None, data_key: str = "", instances: int = 1
    ) -> None:
        routing = tmp / "routing.toml"
        routing.write_text(
            f'[deadlines]\nabout_agent_back_office = {after}\nabout_agent_center_manager = "1h"\nrenotify = 0\n',
            encoding="utf-8",
        )
        self.db = postgresql or str(tmp / "bench.db")
        exe = [sys.executable, "-m", "assist"]
        self.env = {**os.environ, "ASSIST_LOG_LEVEL": "WARNING", **ONE_USER_LOAD, "ASSIST_ROUTING": str(routing)}
        if postgresql:
            self.env["ASSIST_DATA_KEY"] = data_key
        self.agent = self.issue("agent1", "agent")
        self.leader = self.issue("lead", "shift_leader")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []
        for _ in range(instances):
            ws_port, http_port = free_port(), free_port()
            self.procs.append(
                subprocess.Popen(
                    [*exe, "serve", "--ws-port", str(ws_port), "--http-port", str(http_port), "--db", self.db],
                    stdout=subprocess.DEVNULL,
                    env=self.env,
                    preexec_fn=raise_nofile,
                )
            )
            self.urls.append(f"ws://127.0.0.1:{ws_port}/ws")
            deadline = time.time() + 120
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1).read()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)

    def issue(self, user: str, role: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "assist", "token", "issue", "--user", user, "--role", role, "--db", self.db],
            check=True,
            capture_output=True,
            text=True,
            env=self.env,
        ).stdout.strip()

    async def client(self, token: str, instance: int = 0) -> ClientConnection:
        url = self.urls[instance % len(self.urls)]
        ws = await connect(url, compression=None, max_size=2**24, open_timeout=60, ping_interval=None)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.recv()
        return ws

    def fire_lines(self) -> int:
        """Audit lines of fired steps: one per step that fired, a repeat would add one."""
        sql = "SELECT count(*) FROM routing_audit WHERE action IN ('fire', 'late')"
        if self.db.startswith("postgresql"):
            import psycopg

            with psycopg.connect(self.db) as conn:
                row = conn.execute(sql).fetchone()
        else:
            import sqlite3

            with contextlib.closing(sqlite3.connect(self.db)) as conn:
                row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def call(ws: ClientConnection, cid: int, **fields: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"id": cid, **fields}, ensure_ascii=False))
    while True:
        msg: dict[str, Any] = json.loads(await ws.recv())
        if msg.get("type") == "result" and msg.get("id") == cid:
            if not msg.get("success"):
                raise RuntimeError(msg)
            return msg


async def run(svc: Service, n: int, after: float, agents: int) -> list[str]:
    leader = await svc.client(svc.leader)
    heard: dict[str, tuple[float, float, float]] = {}  # escalation -> (heard at, due_at, fired_at)

    async def listen() -> None:
        await leader.send(json.dumps({"id": 1, "type": "escalation.subscribe"}))
        async for frame in leader:
            msg = json.loads(frame)
            if msg.get("type") == "escalation.event" and msg.get("event") in ("step", "late"):
                step = msg.get("step") or {}
                if step.get("name") == "back_office":
                    esc = msg.get("escalation") or {}
                    key = str(esc.get("escalation_id"))
                    heard.setdefault(key, (time.time(), float(step["due_at"]), float(step.get("fired_at") or 0)))

    listener = asyncio.create_task(listen())
    conns = [await svc.client(svc.agent, k) for k in range(agents)]  # spread over the instances
    t_open = time.time()

    async def agent(k: int, ws: ClientConnection) -> None:
        cid = 10
        for j in range(k, n, agents):
            cid += 2
            await call(ws, cid, type="call.start", call_id=f"d-{j}", context={})
            await call(ws, cid + 1, type="call.escalate", call_id=f"d-{j}", kind="complaint.about_agent")

    await asyncio.gather(*(agent(k, ws) for k, ws in enumerate(conns)))
    opened_in = time.time() - t_open
    print(f"opened {n} in {opened_in:.1f} s; waiting for their steps", file=sys.stderr, flush=True)
    lines = [
        f"{n} escalations opened in {opened_in:.1f} s ({n / opened_in:.0f}/s); their back-office steps come "
        f"due {after:.0f} s after each opened, so all {n} are pending at once "
        f"(and {n} more an hour later)"
        if opened_in < after
        else f"{n} escalations opened in {opened_in:.1f} s: longer than --after, not all pending at once"
    ]
    deadline = time.time() + after + opened_in + 60
    shown = time.time()
    while len(heard) < n and time.time() < deadline:
        await asyncio.sleep(0.2)
        if time.time() - shown >= 10:
            shown = time.time()
            print(f"heard {len(heard)}/{n}", file=sys.stderr, flush=True)
    listener.cancel()
    heard_late = [h - due for h, due, _ in heard.values()]
    fired_late = [f - due for _, due, f in heard.values() if f]
    lines.append(f"steps heard by the leader: {len(heard)}/{n}")
    fired = svc.fire_lines()
    lines.append(
        f"audit lines of fired steps: {fired} (2 per escalation: {2 * n}; "
        f"{'each fired once' if fired == 2 * n else 'NOT each once'})"
    )
    for name, values in (("heard - due_at", heard_late), ("fired_at - due_at", fired_late)):
        if values:
            lines.append(
                f"{name:18} p50 {pct(values, 0.5):7.3f} s  p99 {pct(values, 0.99):7.3f} s  "
                f"max {max(values):7.3f} s   {'OK' if max(values) <= TARGET_S else 'OVER'} "
                f"(target: every step ≤ {TARGET_S:.0f} s late)"
            )
    closes = await asyncio.gather(
        *(asyncio.wait_for(ws.close(), 5) for ws in [leader, *conns]), return_exceptions=True
    )  # all at once, each bounded: the figures are in, a close handshake must not hold them up
    stuck = sum(isinstance(c, TimeoutError) for c in closes)
    if stuck:
        print(f"{stuck} connection(s) did not close within 5 s", file=sys.stderr, flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deadlines", type=int, default=10000)
    ap.add_argument("--after", type=float, default=60.0, help="seconds from opening to the step's deadline")
    ap.add_argument("--agents", type=int, default=50, help="connections opening escalations in parallel")
    ap.add_argument(
        "--postgresql", action="store_true", help="serve on a throwaway PostgreSQL cluster, as the suite starts one"
    )
    ap.add_argument(
        "--instances",
        type=int,
        default=1,
        help="with --postgresql: this many `assist serve` processes on the one database; agents are spread over "
        "them, the leader listens on the first (it hears the others' steps through the cluster bus)",
    )
    args = ap.parse_args()
    n = max(1, min(args.deadlines, 10000))
    if args.instances != 1 and not args.postgresql:
        ap.error("--instances needs --postgresql: instances share a PostgreSQL database, never a SQLite file")
    raise_nofile()
    cluster = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if args.postgresql:
                from tests.pgcluster import DATA_KEY, start_cluster

                cluster = start_cluster()
                svc = Service(
                    Path(tmp), args.after, cluster.fresh_url("bench"), DATA_KEY, max(1, min(args.instances, 8))
                )
            else:
                svc = Service(Path(tmp), args.after)
            try:
                lines = asyncio.run(run(svc, n, args.after, max(1, min(args.agents, 200))))
            finally:
                svc.stop()
        finally:
            if cluster is not None:
                cluster.stop()
    for text in lines:
        print(text)


if __name__ == "__main__":
    main()
