"""`assist serve` with routing, for the restart test: a separate process that can be SIGKILLed.

    python -m tests.routing.serve_with_routing --ws-port 0 --http-port 0 --db D [--clock T]   (ASSIST_ROUTING=file)

Prints "ready ws=P http=Q" once both servers listen; stops cleanly on SIGTERM.

With `--clock T` the service's clock stands at T and moves only when told: a line "at T2" on stdin sets it
to T2, then waits until the routing scheduler and then the outbox have each run a whole pass at T2 — every
step due by T2 has fired and every delivery due by then has been attempted — and answers "clock T2". So the
test decides what time it is, and what is due, instead of sleeping and hoping the machine keeps up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Awaitable, Callable

from assist.app import start
from assist.config import Settings, load_settings
from assist.server.routing.service import RoutingService


class StandingClock:
    """A clock that stands still until it is set."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Passes:
    """Numbers the routing loops' passes as they begin, so that a caller can wait for one that began after a
    moment of its choosing (passes overlap: the outbox starts one every tick without waiting for the last)."""

    def __init__(self, routing: RoutingService) -> None:
        self.routing = routing
        self.started = {"scheduler": 0, "outbox": 0}
        self.done = {"scheduler": 0, "outbox": 0}
        """The latest-begun pass of each loop that has completed."""
        self.changed = asyncio.Event()
        routing.run_due = self._counted(routing.run_due, "scheduler")  # type: ignore[method-assign,assignment]
        routing.deliver_due = self._counted(routing.deliver_due, "outbox")  # type: ignore[method-assign,assignment]

    def _counted(self, run: Callable[[float], Awaitable[None]], loop: str) -> Callable[[float], Awaitable[None]]:
        async def counted(now: float) -> None:
            self.started[loop] += 1
            n = self.started[loop]
            try:
                await run(now)
            finally:
                self.done[loop] = max(self.done[loop], n)
                self.changed.set()

        return counted

    async def _whole_pass(self, loop: str, wake: asyncio.Event) -> None:
        # A pass under way may have read the clock before it moved: wait for one that begins after now.
        mark = self.started[loop]
        wake.set()
        while self.done[loop] <= mark:
            self.changed.clear()
            await self.changed.wait()

    async def settle(self) -> None:
        await self._whole_pass("scheduler", self.routing.wake)  # fires due steps, queues their deliveries
        await self._whole_pass("outbox", self.routing.outbox_wake)  # attempts every delivery now due
        # a target's worker begun by an earlier pass may be the one sending what is now due: wait for it too
        while workers := [w for w in self.routing.workers.values() if not w.done()]:
            await asyncio.wait(workers)


async def obey(clock: StandingClock, passes: Passes) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        if line[0] == "at":
            clock.now = float(line[1])
        await passes.settle()
        print(f"clock {clock.now!r}", flush=True)


async def serve(settings: Settings, at: float | None) -> None:
    clock = StandingClock(at) if at is not None else None
    running = await start(settings, clock=clock or time.time)
    routing = running.routing
    print(f"ready ws={running.ws_port} http={running.http_port}", flush=True)
    commands = asyncio.create_task(obey(clock, Passes(routing))) if clock is not None else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if commands is not None:
        commands.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await commands
    await routing.close()
    await running.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--ws-port", type=int)
    p.add_argument("--http-port", type=int)
    p.add_argument("--db", help="SQLite file or postgresql:// URL")
    p.add_argument("--clock", type=float, help="stand the service's clock at this time (seconds since the epoch)")
    args = p.parse_args()
    settings = load_settings(None, {"ws_port": args.ws_port, "http_port": args.http_port, "db": args.db})
    asyncio.run(serve(settings, args.clock))


if __name__ == "__main__":
    main()
