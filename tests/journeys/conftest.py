"""Journey tests: a page walked as its user walks it, in Debian chromium, following its doc section by section.

Each journey writes the screens a reviewer should look at to build/screens/<page>/ (ignored by git), at the two
desk sizes the center uses: 1366×768 and 1920×1080.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page

from assist.app import Running

SCREENS = Path(os.environ.get("ASSIST_SCREENS", Path(__file__).resolve().parents[2] / "build" / "screens"))
SIZES = ((1366, 768), (1920, 1080))


async def shoot(page: Page, folder: str, name: str) -> None:
    """The page as it is now, at each desk size (the page is put back to the first size after)."""
    out = SCREENS / folder
    out.mkdir(parents=True, exist_ok=True)
    for width, height in reversed(SIZES):
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=str(out / f"{name}-{width}x{height}.png"))


class ConsoleErrors:
    """Errors a page logs (console.error, failed requests such as a missing favicon, uncaught exceptions)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        return page


async def new_page(browser: Browser, running: Running, path: str, *, lang: str = "zh-CN",
                   storage: dict[str, str] | None = None) -> Page:
    """A fresh browser context at 1366×768 with `storage` in localStorage before the page's scripts run."""
    context = await browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, locale=lang,
                                        timezone_id="America/New_York")  # not the center's zone, on purpose
    if storage:
        items = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in storage.items())
        await context.add_init_script(items)
    page = await context.new_page()
    page.on("dialog", lambda d: d.accept())
    await page.goto(f"http://127.0.0.1:{running.http_port}{path}")
    return page


def base(running: Running) -> str:
    return f"http://127.0.0.1:{running.http_port}"


def first(items: list[Any], **match: Any) -> Any:
    return next(i for i in items if all(i.get(k) == v for k, v in match.items()))
