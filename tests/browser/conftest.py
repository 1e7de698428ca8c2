"""Browser fixtures: the real service with the plugin routes, and Debian's chromium through Playwright.

Playwright's async API runs in the test's event loop next to the service. Tests that need the browser
are skipped (cleanly) only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assist.app import Running, start
from assist.config import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]


@pytest.fixture
async def plugin_service(settings: Settings) -> AsyncIterator[Running]:
    """The service on ephemeral ports (pages are given the websocket URL with `server=`)."""
    running = await start(settings)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            with contextlib.suppress(Exception):
                await b.close()


class PageErrors:
    """Uncaught errors in a page's scripts; a test ends by asserting there were none."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Any) -> Any:
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page
