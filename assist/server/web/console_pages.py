"""Serving a console page (index.html and its ES modules) and its JSON answers.

The shift-leader and trainer consoles are plain files under assist/consoles/<name>/, and the modules both
import (the DOM builder, the API client) are under assist/consoles/shared/, served at /console/shared/. The
page itself is public (it asks for a token), every API behind it checks the role.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from assist.errors import NotFound

CONSOLES_DIR = Path(__file__).resolve().parents[2] / "consoles"
SHARED = "shared"
"""The folder of assist/consoles/ with what every console imports (`../shared/dom.js` from a console's module)."""
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}
NO_CACHE = "no-cache"


def add_console_page(app: web.Application, name: str) -> None:
    """Serve /console/<name> (its index.html) and /console/<name>/<file> from assist/consoles/<name>/, and
    the shared modules at /console/shared/<file> (once, whichever console comes first)."""
    directory = CONSOLES_DIR / name

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(directory / "index.html",
                                headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": NO_CACHE})

    app.router.add_get(f"/console/{name}", page)
    app.router.add_get(f"/console/{name}/", page)
    app.router.add_get(f"/console/{name}/{{name}}", _static_files(directory))
    shared = f"assist-console-{SHARED}"
    if shared not in app.router.named_resources():
        app.router.add_get(f"/console/{SHARED}/{{name}}", _static_files(CONSOLES_DIR / SHARED), name=shared)


def _static_files(directory: Path) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    """A handler for the files directly in `directory` whose suffix is in STATIC_TYPES."""

    async def static(request: web.Request) -> web.FileResponse:
        file = request.match_info["name"]
        path = directory / file
        kind = STATIC_TYPES.get(path.suffix)
        if kind is None or "/" in file or file.startswith(".") or not path.is_file():
            raise NotFound(f"no console file {file!r}")
        return web.FileResponse(path, headers={"Content-Type": f"{kind}; charset=utf-8", "Cache-Control": NO_CACHE})

    return static


def json_response(payload: Any, status: int = 200) -> web.Response:
    """JSON with Chinese kept readable (no \\u escapes)."""
    return web.json_response(payload, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))
