"""Retention: a call's words are kept `retention_days`, its record for good.

What a purge removes, for calls older than the cutoff (by the time each row was written):
- the call events that carry what was said or typed: `note`, `transcript` and `context` events;
- the names and numbers in the call's stored context (masked as feedback items are: keys kept,
  names to their first character, long numbers to their last four digits).
What it keeps: the call row (times, disposition, final category and labels), classifications,
warnings, escalations, faults, records, feedback items (already masked when filed) and the audit trail.

Every change goes through the store's writer (`Store.unit()`), in batches, so acknowledged writes of
live calls wait at most one batch behind a purge.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from assist.feedback.mask import mask_context
from assist.server.store import Store

log = logging.getLogger(__name__)

DAY = 86400.0
PURGED_KINDS = ("note", "transcript", "context")
BATCH = 2000
"""Rows changed per unit of work: small enough that a live note never waits long behind a purge."""


@dataclass(frozen=True, slots=True)
class Purged:
    cutoff: float
    events: int
    contexts: int


async def purge(store: Store, now: float, days: float, *, since: float | None = None, batch: int = BATCH) -> Purged:
    """Purge what is older than `days` before `now`. `since`: contexts of calls started before it were already
    masked by an earlier purge (the daily task passes its previous cutoff; None = look at every old call)."""
    cutoff = now - days * DAY
    marks = ",".join("?" * len(PURGED_KINDS))
    events = 0
    while True:
        async with store.unit() as db:
            cur = await db.execute(
                f"DELETE FROM call_events WHERE id IN (SELECT id FROM call_events WHERE kind IN ({marks}) "
                "AND at < ? ORDER BY id LIMIT ?)",
                (*PURGED_KINDS, cutoff, batch),
            )
            n = max(0, cur.rowcount)
        events += n
        if n < batch:
            break
    contexts = 0
    after = ""
    while True:
        where = "started_at < ? AND call_id > ?" + (" AND started_at >= ?" if since is not None else "")
        params = (cutoff, after, *((since,) if since is not None else ()))
        async with store.db.execute(
            f"SELECT call_id, context FROM calls WHERE {where} ORDER BY call_id LIMIT ?", (*params, batch)
        ) as cur:
            rows = [(str(r[0]), str(r[1])) async for r in cur]
        if not rows:
            break
        after = rows[-1][0]
        changed = []
        for call_id, raw in rows:
            context = json.loads(raw)
            masked = mask_context(context)
            if masked != context:
                changed.append(
                    (store.cipher.seal(json.dumps(masked, ensure_ascii=False, separators=(",", ":"))), call_id)
                )
        if changed:
            async with store.unit() as db:
                await db.executemany("UPDATE calls SET context=? WHERE call_id=?", changed)
            contexts += len(changed)
    return Purged(cutoff, events, contexts)


async def purge_daily(store: Store, days: Callable[[], float], clock: Callable[[], float], every: float = DAY) -> None:
    """Purge at start, then every `every` seconds, for as long as the service runs (`days() <= 0`: keep all)."""
    since: float | None = None
    while True:
        keep = days()
        if keep > 0:
            try:
                done = await purge(store, clock(), keep, since=since)
                since = done.cutoff
                if done.events or done.contexts:
                    log.info(
                        "retention: purged %d note/transcript/context event(s) and masked %d call context(s) "
                        "older than %g days",
                        done.events,
                        done.contexts,
                        keep,
                    )
            except Exception:
                log.exception("retention: purge failed; trying again in %g s", every)
        await asyncio.sleep(every)
