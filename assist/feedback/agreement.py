"""Agreement per category over time: where the floor disagrees with the pack.

For each day (in the center's time zone) and each category the calls were classified as (their
primary category), the share of those calls nobody corrected, and the number of corrected calls.
A call counts as corrected when an agent or a leader gave a category correction that a trainer has
not rejected (a rejected correction means the pack was right). Pure: calls and corrections in,
figures out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_DAYS = 366


def day_of(ts: float, tz: str) -> date:
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).date()


def day_range(now: float, days: int, tz: str) -> list[date]:
    """The last `days` days up to today, oldest first."""
    days = max(1, min(days, MAX_DAYS))
    today = day_of(now, tz)
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def since(now: float, days: int, tz: str) -> float:
    """Epoch seconds of the first day's midnight (the store's lower bound)."""
    first = day_range(now, days, tz)[0]
    return datetime(first.year, first.month, first.day, tzinfo=ZoneInfo(tz)).timestamp()


def agreement(
    calls: Iterable[tuple[str, float, str]],
    corrected: Iterable[str],
    *,
    now: float,
    days: int,
    tz: str,
    priority: Sequence[str],
) -> dict[str, Any]:
    """`calls`: (call_id, started_at, category) of classified calls; `corrected`: ids of corrected calls."""
    span = day_range(now, days, tz)
    wanted = set(span)
    fixed = set(corrected)
    cells: dict[tuple[date, str], list[int]] = {}
    for call_id, started_at, category in calls:
        day = day_of(started_at, tz)
        if day not in wanted:
            continue
        cell = cells.setdefault((day, category or "none"), [0, 0])
        cell[0] += 1
        cell[1] += call_id in fixed
    rank = {c: i for i, c in enumerate(priority)}
    categories = sorted({c for _, c in cells} | set(priority), key=lambda c: (rank.get(c, len(rank)), c))
    totals: dict[str, list[int]] = {c: [0, 0] for c in categories}
    out_cells = []
    for (day, category), (n, k) in sorted(cells.items(), key=lambda kv: (kv[0][0], rank.get(kv[0][1], len(rank)))):
        totals[category][0] += n
        totals[category][1] += k
        out_cells.append(
            {
                "day": day.isoformat(),
                "category": category,
                "calls": n,
                "corrections": k,
                "agreement": round((n - k) / n, 4),
            }
        )
    return {
        "timezone": tz,
        "days": [d.isoformat() for d in span],
        "categories": categories,
        "cells": out_cells,
        "totals": [
            {"category": c, "calls": n, "corrections": k, "agreement": round((n - k) / n, 4) if n else None}
            for c, (n, k) in totals.items()
        ],
    }
