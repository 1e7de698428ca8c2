"""A service closes even when its loops were woken at the moment they were cancelled.

On Python 3.11 `asyncio.wait_for` returns the awaited result, and drops the cancel, when both arrive in the
same turn of the loop: a routing loop woken (a new escalation, a delivery due) just as `close()` cancelled it
went on looping, and `close()` waited for it for ever (seen once in a full run, in a two-instance race test).
The loops now wait with `asyncio.timeout`, which never drops a cancel."""

from __future__ import annotations

import asyncio

from assist.config import Settings
from tests.cluster.instances import until
from tests.conftest import start_shared

CLOSE_BOUND = 60.0
"""Seconds to wait for `close()`: a bound on a hang, not a tolerance (it takes well under a second)."""


async def test_close_ends_loops_woken_in_the_same_turn_as_their_cancel(settings: Settings) -> None:
    running = await start_shared(settings)
    routing = running.routing
    # both loops parked in their wait for a wake-up or the next tick
    await until(lambda: routing.wake._waiters and routing.outbox_wake._waiters, "the routing loops to be waiting")
    routing.wake.set()  # woken ...
    routing.outbox_wake.set()
    closing = asyncio.ensure_future(running.close())  # ... and cancelled before either runs again
    done, _ = await asyncio.wait({closing}, timeout=CLOSE_BOUND)
    assert closing in done, "close() still waits for a routing loop that was woken as it was cancelled"
    closing.result()
