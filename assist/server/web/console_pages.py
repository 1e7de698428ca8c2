"""Serving a console page (index.html and its ES modules) and its JSON answers, and the site's own pages.

The shift-leader and trainer consoles are plain files under assist/consoles/<name>/, and the modules both
import (the DOM builder, the API client, the two-language texts) are under assist/consoles/shared/, served
at /console/shared/. The page itself is public (it asks for a token), every API behind it checks the role.

With the first console the site gets `/` (the landing page, assist/consoles/home/), `/favicon.ico` and
`/favicon.svg` (so no page logs a 404 for its icon) and, in a source checkout, `/docs/` (the docs as text).
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from assist.errors import NotFound

CONSOLES_DIR = Path(__file__).resolve().parents[2] / "consoles"
DOCS_DIR = Path(__file__).resolve().parents[3] / "docs"
"""The repository's docs/ (present in a source checkout, which `make serve` runs; absent from a wheel)."""
SHARED = "shared"
HOME = "home"
FAVICON = CONSOLES_DIR / SHARED / "favicon.svg"
"""The folder of assist/consoles/ with what every console imports (`../shared/dom.js` from a console's module)."""
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}
NO_CACHE = "no-cache"


def add_console_page(app: web.Application, name: str) -> None:
    """Serve /console/<name> (its index.html) and /console/<name>/<file> from assist/consoles/<name>/, and
    the shared modules at /console/shared/<file> (once, whichever console comes first)."""
    directory = CONSOLES_DIR / name

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            directory / "index.html", headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": NO_CACHE}
        )

    app.router.add_get(f"/console/{name}", page)
    app.router.add_get(f"/console/{name}/", page)
    app.router.add_get(f"/console/{name}/{{name}}", _static_files(directory))
    shared = f"assist-console-{SHARED}"
    if shared not in app.router.named_resources():
        app.router.add_get(f"/console/{SHARED}/{{name}}", _static_files(CONSOLES_DIR / SHARED), name=shared)
        _add_site_pages(app)


def _add_site_pages(app: web.Application) -> None:
    """`/` (the landing page), the favicon and the docs."""
    home = CONSOLES_DIR / HOME

    async def landing(request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            home / "index.html", headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": NO_CACHE}
        )

    async def favicon(request: web.Request) -> web.FileResponse:
        return web.FileResponse(FAVICON, headers={"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"})

    app.router.add_get("/", landing, name="assist-home")
    app.router.add_get(f"/console/{HOME}/{{name}}", _static_files(home))
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/favicon.svg", favicon)
    app.router.add_get("/docs", _docs_index)
    app.router.add_get("/docs/", _docs_index)
    app.router.add_get("/docs/{name}", _doc)


def _docs() -> list[Path]:
    return sorted(DOCS_DIR.glob("*.md")) if DOCS_DIR.is_dir() else []


async def _docs_index(request: web.Request) -> web.Response:
    """A list of the docs, each served as plain text (Markdown reads well as it is)."""
    docs = _docs()
    if not docs:
        raise NotFound("the docs are in the repository's docs/ folder (this installation has no copy)")
    items = "".join(
        f'<li><a href="/docs/{html.escape(p.name)}">{html.escape(p.stem)}</a> — {html.escape(_first_heading(p))}</li>'
        for p in docs
    )
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>assist docs</title>'
        f'<link rel="icon" href="/favicon.svg" type="image/svg+xml"></head>'
        f'<body style="font-family: system-ui, sans-serif; max-width: 720px; margin: 40px auto">'
        f'<p><a href="/">assist</a></p><h1>Docs</h1><ul>{items}</ul></body></html>'
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8")


def _first_heading(path: Path) -> str:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                return line.lstrip("#").strip()
    return ""


async def _doc(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    found = {p.name: p for p in _docs()}.get(name)
    if found is None:
        raise NotFound(f"no doc {name!r}")
    return web.FileResponse(found, headers={"Content-Type": "text/plain; charset=utf-8", "Cache-Control": NO_CACHE})


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
