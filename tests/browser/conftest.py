"""Browser-test helpers. The service and the Debian chromium fixtures live in tests/conftest.py.

Playwright's async API runs in the test's event loop next to the service. Tests that need the browser
are skipped (cleanly) only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

from typing import Any

import pytest

from assist.app import Running


@pytest.fixture
def plugin_service(service: Running) -> Running:
    """The service on ephemeral ports (pages are given the websocket URL with `server=`)."""
    return service


class PageErrors:
    """Uncaught errors in a page's scripts; a test ends by asserting there were none."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Any) -> Any:
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page
