"""Live-loop load: N agents on live calls next to a bare websockets echo server, in one run.

Both servers run as their own process on loopback (assist exactly as `assist serve` starts it),
and the same client drives both with the same frames at the same pace:

- every agent has one call at a time: `call.start`, then a note edit every second (the whole
  note, growing), a transcript line every `--line-every` seconds (half a second after a note),
  `call.end` after `--call-seconds`, and at once the next call. Each call's note turns into an
  outage and later a complaint at random moments, so its labels change about twice a call;
- note -> `assist.update`: from sending a note that changed the call's labels to the push that
  shows them (for the echo: to the note's echo);
- note -> `result`: from sending a note to its reply, which the service sends only after the
  note is committed (for the echo: the note's echo again).

It prints p50/p99/p99.9 of both, errors and dropped connections, server CPU per message,
server memory per idle (authenticated) connection and per live call, and assist/echo ratios.
`--postgresql` adds the service on a throwaway PostgreSQL cluster, and `--instances 2` (with it) N instances
on one database with the agents spread over them. Loopback only; bounded in connections (≤ 5,000),
instances (≤ 4) and time (≤ 120 s).

    python -m bench.connections [--connections 2000] [--seconds 30] [--py-spy profile.txt]
    python -m bench.connections --postgresql --instances 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import multiprocessing
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

NEUTRAL = ["客户问信用卡额度怎么调整", "客户查询网点营业时间", "客户咨询定期存款利率"]
OUTAGE = "客户说手机银行转账提示系统繁忙，多次失败"
COMPLAINT = "客户对年费不满，要求退还，我要投诉"
LINES = [
    ("customer", "您好，我想问一下我的信用卡账单"),
    ("agent", "好的，请您提供一下卡号后四位"),
    ("customer", "尾号是八八六六，上个月的还款好像没有入账"),
    ("agent", "我帮您查询一下，请稍等"),
    ("customer", "我昨天在手机银行上转账一直失败"),
    ("agent", "非常抱歉给您带来不便"),
]


ONE_USER_LOAD = {"ASSIST_MAX_CALLS_PER_AGENT": "100000"}
"""The benchmark's calls all belong to one agent token: lift the per-agent live-call cap (20) for it."""


def decode(frame: str | bytes) -> Any:
    return msgspec.json.decode(frame)


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
class Samples:
    update_ms: list[float] = field(default_factory=list)
    result_ms: list[float] = field(default_factory=list)
    messages: int = 0
    errors: int = 0
    dropped: int = 0


@dataclass
class Result:
    name: str
    samples: Samples
    cpu_us_per_msg: float
    idle_kib_per_conn: float
    live_kib_per_call: float

    def q(self, which: str, p: float) -> float:
        return pct(getattr(self.samples, which), p)


class Target:
    """One server under test: how to start it and how one agent talks to it."""

    name = ""
    proc: subprocess.Popen[bytes]
    url = ""

    async def open(self) -> ClientConnection:
        return await connect(self.url, compression=None, max_size=2**20, open_timeout=60, ping_interval=None)

    def pids(self) -> list[int]:
        """The server's processes (their CPU and memory are the server's)."""
        return [self.proc.pid]

    async def login(self, ws: ClientConnection) -> None:
        return None

    async def exchange(
        self, ws: ClientConnection, frame: dict[str, Any], kind: str, s: Samples, measure: bool, before: Any = None
    ) -> dict[str, Any]:
        """Send one command and read its answer; `before`: the call's labels before a note."""
        raise NotImplementedError

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Echo(Target):
    name = "echo"

    def __init__(self) -> None:
        port = free_port()
        self.url = f"ws://127.0.0.1:{port}/ws"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.echo_server", str(port)], stdout=subprocess.PIPE, preexec_fn=raise_nofile
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()

    async def exchange(
        self, ws: ClientConnection, frame: dict[str, Any], kind: str, s: Samples, measure: bool, before: Any = None
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        await ws.send(json.dumps(frame, ensure_ascii=False))
        decode(await ws.recv())  # the client parses what it gets, as it does the service's answers
        if measure and kind == "note":
            ms = (time.perf_counter() - t0) * 1000
            s.update_ms.append(ms)  # the echo stands for both the push and the reply
            s.result_ms.append(ms)
        return {"labels": None}


UVLOOP_SERVE = "import sys, uvloop; uvloop.install(); from assist.cli import main; sys.exit(main(sys.argv[1:]))"
"""`assist serve` on uvloop's event loop (for `--uvloop`: is it worth adding?)."""


class Assist(Target):
    name = "assist"

    def __init__(self, tmp: Path, uvloop: bool = False, postgresql: str | None = None, data_key: str = "") -> None:
        """`postgresql`: serve on that database (a URL) with `data_key` instead of a SQLite file in `tmp`."""
        tmp.mkdir(parents=True, exist_ok=True)
        self.db = tmp / "bench.db"
        """The SQLite file (unused when `postgresql` names the database)."""
        db = postgresql or str(self.db)
        self.http = ""
        exe = [sys.executable, "-m", "assist"]
        env = {**os.environ, "ASSIST_LOG_LEVEL": "WARNING", **ONE_USER_LOAD}
        if data_key:
            env["ASSIST_DATA_KEY"] = data_key
        self.token = subprocess.run(
            [*exe, "token", "issue", "--user", "bench", "--role", "agent", "--db", db],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout.strip()
        serve = [sys.executable, "-c", UVLOOP_SERVE] if uvloop else exe
        if uvloop:
            self.name = "uvloop"
        if postgresql:
            self.name = "pg"
        self._serve, self._db, self._env = serve, db, env
        self.log = (tmp / "serve.log").open("w+")
        """The service's own output (its log): read when a start fails."""
        # The first start trains the pack's model in the service's process; start it a second time (the
        # model now comes from the store), so that memory per connection is measured on a clean heap.
        self.start(wait=120)
        self.stop()
        self.start()

    def start(self, *args: str, wait: float = 30) -> None:
        """`assist serve` on ports of its own (with `args` added), once it answers: on a shared machine another
        process may take a port between choosing it and binding it, so a start that exits is tried again."""
        for attempt in range(3):
            ws_port, http_port = free_port(), free_port()
            cmd = [*self._serve, "serve", "--ws-port", str(ws_port), "--http-port", str(http_port), "--db", self._db]
            self.http = f"http://127.0.0.1:{http_port}"
            self.url = f"ws://127.0.0.1:{ws_port}/ws"
            self.log.seek(0)
            self.log.truncate()
            self.proc = subprocess.Popen(
                [*cmd, *args], stdout=subprocess.DEVNULL, stderr=self.log, env=self._env, preexec_fn=raise_nofile
            )
            try:
                self._wait_healthy(wait)
                return
            except OSError:
                self.stop()  # a service that could not bind may not exit by itself (its database thread)
                said = Path(self.log.name).read_text(errors="replace")
                if attempt == 2:
                    sys.stderr.write(said[-4000:])
                    raise

    def _wait_healthy(self, wait: float = 120) -> None:
        """Until /healthz answers, `wait` seconds at most (the first start trains the pack's model; a service
        that failed to bind its port may hang instead of exiting: it is then stopped and started again)."""
        deadline = time.time() + wait
        while True:
            try:
                urllib.request.urlopen(f"{self.http}/healthz", timeout=1).read()
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise
                if "cannot start" in Path(self.log.name).read_text(errors="replace"):
                    raise
                time.sleep(0.2)

    def sibling(self, tmp: Path) -> Assist:
        """Another `assist serve` on the same database and token (the pack's model is stored by now)."""
        tmp.mkdir(parents=True, exist_ok=True)
        other = copy.copy(self)
        other.log = (tmp / "serve.log").open("w+")
        other.start()
        return other

    async def login(self, ws: ClientConnection) -> None:
        await ws.send(json.dumps({"type": "auth", "token": self.token}))
        reply = json.loads(await ws.recv())
        if reply.get("type") != "auth_ok":
            raise RuntimeError(f"auth refused: {reply}")

    async def exchange(
        self, ws: ClientConnection, frame: dict[str, Any], kind: str, s: Samples, measure: bool, before: Any = None
    ) -> dict[str, Any]:
        """Send one command; read until its reply and, when a note changed the labels, the call's push."""
        t0 = time.perf_counter()
        await ws.send(json.dumps(frame, ensure_ascii=False))
        reply: dict[str, Any] | None = None
        update_at: float | None = None
        while True:
            try:
                async with asyncio.timeout(30):
                    msg = decode(await ws.recv())
            except TimeoutError:
                s.errors += 1  # an awaited reply or push never came
                return reply or {}
            now = time.perf_counter()
            if msg.get("type") == "assist.update" and msg.get("call_id") == frame.get("call_id"):
                update_at = update_at or now
            elif msg.get("type") == "result" and msg.get("id") == frame["id"]:
                if not msg.get("success"):
                    s.errors += 1
                reply = msg
                if measure and kind == "note":
                    s.result_ms.append((now - t0) * 1000)
            if reply is not None:
                # every push the command causes is read here, so none is mistaken for the next one's:
                # call.start always pushes; a note or a line pushes when it changed the labels
                changed = kind == "start" or (kind in ("note", "line") and reply.get("labels") != before)
                if not changed or update_at is not None:
                    break
        if measure and kind == "note" and update_at is not None and reply.get("labels") != before:
            s.update_ms.append((update_at - t0) * 1000)
        return reply


class Instances(Target):
    """Several `assist serve` processes on one PostgreSQL database (the scale-out of issue 13), the agents
    handed to them in turn as a load balancer would: what splitting the live loop over processes buys."""

    def __init__(self, first: Assist, tmp: Path, count: int) -> None:
        self.members = [first, *(first.sibling(tmp / f"instance-{k}") for k in range(1, count))]
        self.name = f"pg x{count}"
        self._turn = 0

    def pids(self) -> list[int]:
        return [m.proc.pid for m in self.members]

    async def open(self) -> ClientConnection:
        self._turn += 1
        return await self.members[self._turn % len(self.members)].open()

    async def login(self, ws: ClientConnection) -> None:
        await self.members[0].login(ws)

    async def exchange(
        self, ws: ClientConnection, frame: dict[str, Any], kind: str, s: Samples, measure: bool, before: Any = None
    ) -> dict[str, Any]:
        return await self.members[0].exchange(ws, frame, kind, s, measure, before)

    def stop(self) -> None:
        for m in self.members:
            m.stop()


def note_text(n: int, outage_at: int, complaint_at: int) -> str:
    """The call's note after edit n: neutral, then an outage, then a complaint too."""
    parts = [NEUTRAL[n % len(NEUTRAL)]]
    if n >= outage_at:
        parts.append(OUTAGE)
    if n >= complaint_at:
        parts.append(COMPLAINT)
    return "；".join(parts) + f"（第{n}次更新）"


async def agent(
    target: Target,
    ws: ClientConnection,
    i: int,
    s: Samples,
    t_measure: float,
    stop_at: float,
    call_seconds: int,
    line_every: int,
) -> None:
    """One agent: calls back to back, a note edit a second and a transcript line every `line_every` s."""
    await asyncio.sleep(random.random())
    cid = 1
    k = 0
    next_at = time.perf_counter()
    try:
        while next_at < stop_at:
            call_id = f"c-{i}-{k}"
            k += 1
            outage_at, complaint_at = random.randint(1, call_seconds - 2), random.randint(2, call_seconds - 1)
            cid += 1
            started = await target.exchange(
                ws,
                {"id": cid, "type": "call.start", "call_id": call_id, "context": {"queue": "retail"}},
                "start",
                s,
                False,
            )
            labels: Any = (started.get("update") or {}).get("labels")
            for n in range(call_seconds):
                if next_at >= stop_at:
                    break
                measure = time.perf_counter() >= t_measure
                cid += 1
                reply = await target.exchange(
                    ws,
                    {"id": cid, "type": "call.note", "call_id": call_id, "text": note_text(n, outage_at, complaint_at)},
                    "note",
                    s,
                    measure,
                    labels,
                )
                labels = reply.get("labels")
                s.messages += measure  # messages sent in the measured window (for CPU per message)
                if line_every and n % line_every == 0:
                    await asyncio.sleep(max(0.0, next_at + 0.5 - time.perf_counter()))
                    speaker, text = LINES[(n // line_every) % len(LINES)]
                    cid += 1
                    reply = await target.exchange(
                        ws,
                        {
                            "id": cid,
                            "type": "call.transcript",
                            "call_id": call_id,
                            "speaker": speaker,
                            "text": text,
                            "final": True,
                        },
                        "line",
                        s,
                        False,
                        labels,
                    )
                    labels = reply.get("labels", labels)
                    s.messages += measure
                next_at += 1.0
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            cid += 1
            await target.exchange(
                ws, {"id": cid, "type": "call.end", "call_id": call_id, "disposition": "resolved"}, "end", s, False
            )
            s.messages += t_measure <= time.perf_counter() < stop_at
    except ConnectionClosed:
        s.dropped += 1


async def client_part(
    target: Target,
    first: int,
    count: int,
    ready: Any,
    start_at: Any,
    warmup: float,
    seconds: float,
    call_seconds: int,
    line_every: int,
) -> Samples:
    """One client process's share of the agents: connect, wait for the others, then run the agents."""
    sem = asyncio.Semaphore(25)

    async def opened() -> ClientConnection:
        async with sem:
            ws = await target.open()
            await target.login(ws)
            return ws

    sockets = await asyncio.gather(*(opened() for _ in range(count)))
    ready.wait()  # every process is connected (the server's idle memory is read now)
    ready.wait()  # the start time is set
    t_measure = start_at.value + warmup - time.time() + time.perf_counter()
    stop_at = t_measure + seconds
    s = Samples()
    agents = asyncio.gather(
        *(agent(target, ws, first + k, s, t_measure, stop_at, call_seconds, line_every) for k, ws in enumerate(sockets))
    )
    try:
        await asyncio.wait_for(agents, warmup + seconds + 120)  # bounded, even if the server stalls
    except TimeoutError:
        s.errors += 1
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return s


def client_process(
    target: Target, first: int, count: int, ready: Any, start_at: Any, out: Any, args: tuple[float, float, int, int]
) -> None:
    use_uvloop()
    s = asyncio.run(client_part(target, first, count, ready, start_at, *args))
    out.put((s.update_ms, s.result_ms, s.messages, s.errors, s.dropped))


def use_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop  # type: ignore[import-not-found,unused-ignore]  # the client's own overhead is part of every latency: keep it low for both servers

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run_target(
    target: Target,
    conns: int,
    seconds: float,
    warmup: float,
    call_seconds: int,
    line_every: int,
    procs: int,
    profile: Callable[[int, float], None] | None,
) -> Result:
    """Drive `conns` agents from `procs` client processes (one Python process cannot keep up with
    thousands of sockets at once without becoming the bottleneck it is meant to measure)."""
    pids = target.pids()
    time.sleep(0.5)
    rss0 = sum(map(proc_rss_kib, pids))
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Barrier(procs + 1)
    start_at = ctx.Value("d", 0.0)
    out = ctx.Queue()
    shares = [(conns * k // procs, conns * (k + 1) // procs - conns * k // procs) for k in range(procs)]
    workers = [
        ctx.Process(
            target=client_process,
            args=(target, first, count, ready, start_at, out, (warmup, seconds, call_seconds, line_every)),
        )
        for first, count in shares
    ]
    for w in workers:
        w.start()
    ready.wait(timeout=300)
    time.sleep(2.0)
    rss1 = sum(map(proc_rss_kib, pids))
    start_at.value = time.time() + 0.2
    ready.wait(timeout=30)
    time.sleep(max(0.0, start_at.value + warmup - time.time()))
    cpu0 = sum(map(proc_cpu_seconds, pids))
    if profile is not None:
        profile(pids[0], seconds)
    time.sleep(max(0.0, start_at.value + warmup + seconds - time.time()))
    cpu = sum(map(proc_cpu_seconds, pids)) - cpu0
    rss_live = sum(map(proc_rss_kib, pids))
    s = Samples()
    for _ in workers:
        update_ms, result_ms, messages, errors, dropped = out.get(timeout=warmup + seconds + 300)
        s.update_ms += update_ms
        s.result_ms += result_ms
        s.messages += messages
        s.errors += errors
        s.dropped += dropped
    for w in workers:
        w.join(30)
    return Result(target.name, s, cpu * 1e6 / max(1, s.messages), (rss1 - rss0) / conns, (rss_live - rss1) / conns)


def py_spy(out: Path) -> Callable[[int, float], None]:
    """Profile the server during the measured window (py-spy must be installed and allowed to attach)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))

    def start(pid: int, seconds: float) -> None:
        subprocess.Popen(
            [exe, "record", "-p", str(pid), "-d", str(int(seconds)), "-f", "raw", "-o", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    return start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=30.0, help="measured time (after --warmup)")
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--call-seconds", type=int, default=20, help="length of each call")
    ap.add_argument("--line-every", type=int, default=2, help="a transcript line every N notes (0: none)")
    ap.add_argument("--py-spy", type=Path, help="write a py-spy profile (raw) of the assist server here")
    ap.add_argument("--only", choices=("echo", "assist"), help="run one server only (no ratios)")
    ap.add_argument("--uvloop", action="store_true", help="also run the service on uvloop (a third row)")
    ap.add_argument("--client-processes", type=int, default=2, help="client processes sharing the agents")
    ap.add_argument(
        "--postgresql",
        action="store_true",
        help="also run the service on PostgreSQL (a row `pg`: a throwaway cluster started as the suite does)",
    )
    ap.add_argument(
        "--instances",
        type=int,
        default=1,
        help="with --postgresql, also N instances on that database, the agents spread over them (a row `pg xN`)",
    )
    args = ap.parse_args()
    conns = max(1, min(args.connections, 5000))
    seconds = max(1.0, min(args.seconds, 120.0))
    call_seconds = max(4, args.call_seconds)
    raise_nofile()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        makers: list[tuple[str, Callable[[], Target]]] = [("echo", Echo), ("assist", lambda: Assist(Path(tmp)))]
        if args.uvloop:
            makers.append(("uvloop", lambda: Assist(Path(tmp) / "uv", uvloop=True)))
        cluster = None
        if args.postgresql:
            from tests.pgcluster import DATA_KEY, start_cluster

            cluster = start_cluster()
            url = cluster.fresh_url("bench")
            makers.append(("pg", lambda: Assist(Path(tmp) / "pg", postgresql=url, data_key=DATA_KEY)))
            if args.instances > 1:
                many = max(2, min(args.instances, 4))
                spread = cluster.fresh_url("bench_spread")
                makers.append(
                    (
                        "pg",
                        lambda: Instances(
                            Assist(Path(tmp) / "spread", postgresql=spread, data_key=DATA_KEY), Path(tmp), many
                        ),
                    )
                )
        try:
            run_all(args, makers, results, conns, seconds, call_seconds)
        finally:
            if cluster is not None:
                cluster.stop()
    report(results, conns, seconds, call_seconds, args.line_every)


def run_all(
    args: argparse.Namespace,
    makers: list[tuple[str, Callable[[], Target]]],
    results: list[Result],
    conns: int,
    seconds: float,
    call_seconds: int,
) -> None:
    """Each server in turn, driven by the same client at the same pace."""
    for name, make in makers:
        if args.only and args.only != name:
            continue
        target = make()
        prof = py_spy(args.py_spy) if args.py_spy and name == "assist" else None
        try:
            results.append(
                run_target(
                    target,
                    conns,
                    seconds,
                    args.warmup,
                    call_seconds,
                    args.line_every,
                    max(1, min(args.client_processes, 8)),
                    prof,
                )
            )
        finally:
            target.stop()


def report(results: list[Result], conns: int, seconds: float, call_seconds: int, line_every: int) -> None:
    print(
        f"{conns} agents x 1 note/s (+ a transcript line every {line_every} s, calls of {call_seconds} s), "
        f"{seconds:.0f} s measured, loopback, client and server on this machine ({os.cpu_count()} cores)"
    )
    head = (
        f"{'':7}{'update p50':>11}{'p99':>8}{'p99.9':>8}{'result p50':>11}{'p99':>8}{'p99.9':>8}"
        f"{'notes':>7}{'upd':>6}{'err':>5}{'drop':>5}{'CPU µs/msg':>11}{'idle KiB/conn':>14}{'KiB/call':>9}"
    )
    print(head)
    for r in results:
        print(
            f"{r.name:7}{r.q('update_ms', 0.5):11.2f}{r.q('update_ms', 0.99):8.2f}{r.q('update_ms', 0.999):8.2f}"
            f"{r.q('result_ms', 0.5):11.2f}{r.q('result_ms', 0.99):8.2f}{r.q('result_ms', 0.999):8.2f}"
            f"{len(r.samples.result_ms):7d}{len(r.samples.update_ms):6d}{r.samples.errors:5d}{r.samples.dropped:5d}"
            f"{r.cpu_us_per_msg:11.0f}"
            f"{r.idle_kib_per_conn:14.1f}{r.live_kib_per_call:9.1f}"
        )
    if len(results) < 2 or results[0].name != "echo":
        return
    echo = results[0]
    limit = 1.5 if conns <= 2000 else 3.0
    for other in results[1:]:
        print(
            f"{other.name + '/echo':13}"
            + "".join(
                f"{other.q(w, p) / echo.q(w, p):{width}.2f}"
                for w, p, width in (
                    ("update_ms", 0.5, 5),
                    ("update_ms", 0.99, 8),
                    ("update_ms", 0.999, 8),
                    ("result_ms", 0.5, 11),
                    ("result_ms", 0.99, 8),
                    ("result_ms", 0.999, 8),
                )
            )
            + f"{'':23}{other.cpu_us_per_msg / max(1e-9, echo.cpu_us_per_msg):11.2f}"
        )
    for other in results[1:]:
        ratio = other.q("update_ms", 0.99) / echo.q("update_ms", 0.99)
        print(
            f"{other.name}: note -> assist.update p99 {ratio:.2f}x echo (target <= {limit}x): "
            f"{'OK' if ratio <= limit else 'OVER'}; idle memory {other.idle_kib_per_conn:.1f} KiB/connection "
            f"(target <= 32): {'OK' if other.idle_kib_per_conn <= 32 else 'OVER'}; errors {other.samples.errors}, "
            f"dropped connections {other.samples.dropped}"
        )


if __name__ == "__main__":
    main()
