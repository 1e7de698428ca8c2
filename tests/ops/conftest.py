"""Ops fixtures: the routing center (a real service with routing and a local receiver) and a scrape helper."""

from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from assist.app import Running
from tests.routing.conftest import center, receiver, routing_settings

__all__ = ["center", "receiver", "routing_settings"]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(running: Running, session: aiohttp.ClientSession) -> Samples:
    """Every sample of /metrics, keyed by name and labels."""
    async with session.get(f"http://127.0.0.1:{running.http_port}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: Any) -> float:
    return samples.get((name, frozenset((k, str(v)) for k, v in labels.items())), 0.0)
