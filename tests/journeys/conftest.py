"""Journey tests: a page walked as its user walks it, in Debian chromium, following its doc section by section.

Each journey writes the screens a reviewer should look at to build/screens/<page>/ (ignored by git), at the two
desk sizes the center uses: 1366×768 and 1920×1080.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from assist.app import Running
from assist.config import Settings
from tests.conftest import Http, contexts_closed_after, issue, start_shared

SCREENS = Path(os.environ.get("ASSIST_SCREENS", Path(__file__).resolve().parents[2] / "build" / "screens"))
SIZES = ((1366, 768), (1920, 1080))
BOUND_MS = 120_000
"""How long a page may take to settle on a busy 2-core machine before the test fails instead of hanging."""


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


FETCHES_COUNTED = """(() => {
  // The page's fetches still to come back and be drawn: one counts until its body has been read and the code
  // that awaited it has run (the count drops in a task after the body's promise, behind the page's own .then).
  let pending = 0;
  const done = () => setTimeout(() => { pending -= 1; }, 0);
  const fetch = window.fetch.bind(window);
  window.fetch = (...args) => {
    pending += 1;
    return fetch(...args).then((res) => {
      for (const read of ['json', 'text', 'blob', 'arrayBuffer']) {
        const body = res[read].bind(res);
        res[read] = () => { const p = body(); p.then(done, done); return p; };
      }
      return res;
    }, (err) => { done(); throw err; });
  };
  Object.defineProperty(window, 'fetchesPending', { get: () => pending });
})();"""


async def settled(page: Page) -> None:
    """Wait until every fetch the page started (a click starts its section's at once) is back and drawn.

    `wait_for_load_state("networkidle")` does not: after the first load it returns at once, and a section read
    then may or may not show what its requests bring.
    """
    await page.wait_for_function("() => window.fetchesPending === 0", timeout=BOUND_MS)


async def new_page(
    browser: Browser, running: Running, path: str, *, lang: str = "zh-CN", storage: dict[str, str] | None = None
) -> Page:
    """A fresh browser context at 1366×768 with `storage` in localStorage before the page's scripts run, and its
    fetches counted (`settled`)."""
    context = await browser.new_context(
        viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, locale=lang, timezone_id="America/New_York"
    )  # not the center's zone, on purpose
    await context.add_init_script(FETCHES_COUNTED)
    if storage:
        items = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in storage.items())
        await context.add_init_script(items)
    page = await context.new_page()
    page.on("dialog", lambda d: d.accept())
    await page.goto(f"http://127.0.0.1:{running.http_port}{path}")
    return page


@pytest_asyncio.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory, small_pack: Path) -> AsyncIterator[Running]:
    """One service for a module of read-only walks (a journey that publishes starts its own), with a draft so
    that every trainer section has something to show. On the small pack: the review section runs every sample."""
    db = tmp_path_factory.mktemp("languages") / "assist.db"
    running = await start_shared(Settings(host="127.0.0.1", ws_port=0, http_port=0, db=db, pack=small_pack))
    try:
        async with aiohttp.ClientSession() as session:
            api = Http(session, base(running), await issue(running, "t9", "trainer"))
            draft = await api.call("POST", "/api/pack/drafts", {}, expect=201)
            edit = {
                "file": "rules.yaml",
                "path": ["categories", "system_outage", "rules", 0, "unless"],
                "op": "set",
                "value": ["演练"],
            }
            await api.call("PATCH", f"/api/pack/drafts/{draft['id']}", {"edits": [edit]})
        yield running
    finally:
        await running.close()


@pytest_asyncio.fixture(scope="module")
async def chromium(worker_chromium: Any) -> AsyncIterator[Any]:
    """The process's chromium, for a module of walks."""
    async with contexts_closed_after(worker_chromium) as b:
        yield b


def base(running: Running) -> str:
    return f"http://127.0.0.1:{running.http_port}"


def first(items: list[Any], **match: Any) -> Any:
    return next(i for i in items if all(i.get(k) == v for k, v in match.items()))


VISIBLE_TEXT = """() => {
  // Every piece of text a reader sees, except what the page marks as not in its language: translate="no"
  // (ids, codes, commands) and elements with a lang= other than the page's (the caller's words, a language's name).
  const page = (document.documentElement.lang || 'zh-CN').toLowerCase().slice(0, 2);
  const out = [];
  const skip = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement || e.getRootNode().host) {
      if (['SCRIPT', 'STYLE', 'TEXTAREA', 'NOSCRIPT', 'TEMPLATE'].includes(e.tagName)) return true;
      if (e.getAttribute('translate') === 'no') return true;
      const lang = e.getAttribute('lang');
      if (lang && e !== document.documentElement) return lang.toLowerCase().slice(0, 2) !== page;
    }
    return false;
  };
  const walk = (root) => {
    const it = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = it.currentNode; n; n = it.nextNode()) {
      if (n.nodeType === 1) {
        if (n.shadowRoot) walk(n.shadowRoot);
        const shown = n.tagName === 'SELECT' && n.selectedOptions[0] && n.checkVisibility() && !skip(n);
        if (shown) out.push(n.selectedOptions[0].text);
        continue;
      }
      const el = n.parentElement;
      if (!el || !n.textContent.trim() || el.closest('select') || !el.checkVisibility() || skip(el)) continue;
      out.push(n.textContent.trim());
    }
  };
  walk(document.body);
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (el.checkVisibility() && !skip(el)) out.push(el.placeholder);
  }
  return out;
}"""


async def visible_text(page: Page) -> list[str]:
    texts: list[str] = await page.evaluate(VISIBLE_TEXT)
    return texts
