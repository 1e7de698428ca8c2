"""Fan-out: one publish (a pack rollback) and one incident notice reaching N live sidebars.

The service runs as `assist serve` does (a subprocess, loopback). N agent connections each start a
call (so each is a sidebar showing it) with their own context and note (one of `NOTES` in turn: half the
calls show a category); then, while they sit idle:

- incident notice: a shift leader opens a fault (`fault.open`); every agent connection gets an
  `assist.notice`. Timed from sending the command to each sidebar's notice;
- publish: a trainer rolls the pack back (`POST /api/pack/versions/N/rollback`, the same path a
  publish takes into force: compile, store the version, re-decide every live call, push); every
  sidebar gets an `assist.update` carrying the new pack version. Timed from the request to each
  sidebar's update, and from the first sidebar's update to the last (the fan-out itself).
  Two kinds each round. The service holds two versions whose rules differ by one `exclude` word
  (v1: the default pack; v2: the same with that word, imported by a second start with `--pack`):
  "publish, rules changed" puts the other rules in force, so every live call is rescanned and
  re-decided; "publish, same rules" rolls back to the version in force (a publish that changes
  scripts, wording or firing only), so every call keeps its scans and decision and only its
  sidebar is updated.

Bounded: at most 5,000 sidebars, a few rounds, loopback only.

    python -m bench.fanout [--sidebars 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.connections import Assist, pct, raise_nofile

TARGET_S = 1.0


NOTES = (
    "客户问信用卡额度怎么调整",
    "客户说手机银行转账一直提示系统繁忙，转不出去",
    "客户投诉上次来电客服态度很差，要求给个说法",
    "客户咨询理财产品到期后怎么赎回",
)
"""The sidebars' notes, taken in turn: as on a floor, half the calls show a category (a system outage or a
complaint), so their updates carry talking points, a checklist and a route."""


class Pushed(msgspec.Struct):
    """What the benchmark reads of a push; the rest of the message is skipped, not decoded (the one client
    process reads all 5,000 sidebars on the service's machine: it should spend its time reading)."""

    type: str = ""
    active: bool = False
    fault_id: int | str | None = None
    pack_version: str = ""


_READ = msgspec.json.Decoder(Pushed)


class Sidebar:
    """One agent's connection showing one call; notes when each awaited push arrived."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: dict[str, float] = {}

    async def read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in self.ws:
                now = time.perf_counter()
                msg = _READ.decode(frame)
                if msg.type == "assist.notice" and msg.active:
                    self.seen.setdefault(f"notice:{msg.fault_id}", now)
                elif msg.type == "assist.update":
                    self.seen.setdefault(f"pack:{msg.pack_version}", now)


EXTRA_EXCLUDE = "基准测试词"
"""The one word v2's rules add (to `exclude`): a rules change that moves no sample's labels."""


def two_versions(target: Assist, tmp: Path) -> None:
    """Restart `target` on a copy of the default pack with one more `exclude` word: the service imports it
    as v2 (training its model) and puts it in force; v1 (the default pack) stays in the store."""
    import assist

    pack = tmp / "pack-v2"
    shutil.copytree(Path(assist.__file__).parent / "scripts" / "packs" / "default", pack)
    rules = pack / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "exclude: [" in text
    rules.write_text(text.replace("exclude: [", f"exclude: [{EXTRA_EXCLUDE}, ", 1), encoding="utf-8")
    target.stop()
    target.start("--pack", str(pack))


def issue(db: Path, user: str, role: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "assist", "token", "issue", "--user", user, "--role", role, "--db", str(db)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


async def wait_all(bars: list[Sidebar], key: str, limit: float) -> list[float]:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if all(key in b.seen for b in bars):
            break
        await asyncio.sleep(0.01)
    return [b.seen[key] for b in bars if key in b.seen]


def post(url: str, token: str) -> dict[str, Any]:
    req = urllib.request.Request(
        url, method="POST", data=b"{}", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        body: dict[str, Any] = json.loads(r.read())
        return body


async def run(target: Assist, n: int, rounds: int) -> list[str]:
    sem = asyncio.Semaphore(50)

    async def sidebar(i: int) -> Sidebar:
        async with sem:
            ws = await connect(target.url, compression=None, max_size=2**22, open_timeout=60, ping_interval=None)
            await target.login(ws)
            await ws.send(
                json.dumps(
                    {
                        "id": 1,
                        "type": "call.start",
                        "call_id": f"f-{i}",
                        "context": {"queue": "retail", "customer_name": f"客户{i}"},
                    },
                    ensure_ascii=False,
                )
            )
            await ws.send(
                json.dumps(
                    {"id": 2, "type": "call.note", "call_id": f"f-{i}", "text": f"{NOTES[i % len(NOTES)]}（{i}）"},
                    ensure_ascii=False,
                )
            )
            while json.loads(await ws.recv()).get("id") != 2:
                pass
            return Sidebar(ws)

    bars = list(await asyncio.gather(*(sidebar(i) for i in range(n))))
    readers = [asyncio.create_task(b.read()) for b in bars]
    leader = await connect(target.url, compression=None, ping_interval=None)
    await leader.send(json.dumps({"type": "auth", "token": issue(target.db, "lead", "shift_leader")}))
    await leader.recv()
    trainer = issue(target.db, "trainer", "trainer")
    lines = []
    in_force = 2
    rules_of = {1: 1, 2: 2}  # version -> the version whose rules it has (1: the default pack's, 2: v2's)
    await asyncio.sleep(1.0)
    for r in range(rounds):
        t0 = time.perf_counter()
        await leader.send(
            json.dumps(
                {
                    "id": 10 + r,
                    "type": "fault.open",
                    "occurred_at": time.time() - 60,
                    "symptoms": "手机银行转账失败",
                    "level": 2,
                    "system": f"手机银行{r}",
                    "reported_by": "lead",
                }
            )
        )
        while True:
            msg = json.loads(await leader.recv())
            if msg.get("type") == "result" and msg.get("id") == 10 + r:
                break
        fault_id = (msg.get("fault") or {}).get("fault_id")
        got = await wait_all(bars, f"notice:{fault_id}", 30.0)
        lines.append(line(f"notice {r + 1}", t0, got, n))
        for kind in ("changed", "same"):
            await asyncio.sleep(1.0)
            # rules changed: roll back to a version with the other rules; same: to the version in force
            back_to = rules_of[in_force] if kind == "same" else 3 - rules_of[in_force]
            t0 = time.perf_counter()
            reply = await asyncio.to_thread(post, f"{target.http}/api/pack/versions/{back_to}/rollback", trainer)
            got = await wait_all(bars, f"pack:{reply['pack_version']}", 60.0)
            in_force = int(reply["version"])
            rules_of[in_force] = back_to
            lines.append(line(f"publish {r + 1}, {'rules changed' if kind == 'changed' else 'same rules'}", t0, got, n))
        await asyncio.sleep(1.0)
    for t in readers:
        t.cancel()
    await leader.close()
    await asyncio.gather(*(b.ws.close() for b in bars), return_exceptions=True)
    return lines


def line(name: str, t0: float, got: list[float], n: int) -> str:
    if not got:
        return f"{name:30}{0:>7d}/{n}  none arrived"
    rel = [t - t0 for t in got]
    spread = max(got) - min(got)
    last = max(rel)
    return (
        f"{name:30}{len(got):>7d}/{n}{pct(rel, 0.5):9.3f}{last:9.3f}{min(rel):12.3f}{spread:11.3f}"
        f"   {'OK' if len(got) == n and last <= TARGET_S else 'OVER'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sidebars", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    n = max(1, min(args.sidebars, 5000))
    rounds = max(1, min(args.rounds, 5))
    raise_nofile()
    with contextlib.suppress(ImportError):
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with tempfile.TemporaryDirectory() as tmp:
        target = Assist(Path(tmp))
        try:
            two_versions(target, Path(tmp))
            lines = asyncio.run(run(target, n, rounds))
        finally:
            target.stop()
    print(
        f"fan-out to {n} idle sidebars (loopback, client and server on this machine), seconds from the "
        f"command; target: the last sidebar within {TARGET_S:.0f} s"
    )
    print(f"{'':30}{'reached':>14}{'p50':>9}{'last':>9}{'first':>12}{'first→last':>11}")
    for text in lines:
        print(text)


if __name__ == "__main__":
    main()
