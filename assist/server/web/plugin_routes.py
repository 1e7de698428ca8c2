"""The softphone plugin's HTTP side: `/plugin/*`, the iframe page, `/demo` and its token.

- `/plugin/<file>` serves the framework-free ES modules of `plugin/` with the JavaScript MIME type and,
  for a softphone page on another origin, the CORS headers a module script needs — only for the origins
  in `settings.allowed_origins` (always with `Vary: Origin`, so caches keep one copy per origin).
- `/plugin/frame.html` is the iframe page; the server's allowed origins are written into it so that
  `frame.js` accepts `postMessage` only from them (and from those of its `origins=` query parameter).
- `/demo` is a demo softphone page that plays a sample call into the sidebar.
- `POST /demo/token` issues a short-lived agent token for the user `demo`, and only to a browser on the
  service's own machine: the TCP peer must be a loopback address, the `Host` a loopback name (against DNS
  rebinding), no proxy header may be present (a reverse proxy on the same host would make every remote
  client look local), and a browser's `Origin`/`Sec-Fetch-Site` must say the request comes from the
  service's own pages. Demo tokens are revoked `DEMO_TOKEN_TTL` seconds after they were issued; the demo
  page fetches a new one whenever it (re)connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import ipaddress
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from assist.config import Settings
from assist.server.store import Store

log = logging.getLogger(__name__)


def find_plugin_dir() -> Path:
    """The plugin's files: `assist/plugin/` in an installed wheel (setup.py maps the top-level `plugin/`
    there), the top-level `plugin/` itself in a source checkout."""
    package = Path(__file__).resolve().parents[2]
    installed = package / "plugin"
    return installed if installed.is_dir() else package.parent / "plugin"


PLUGIN_DIR = find_plugin_dir()
"""Where `/plugin/*` and `/demo` are served from."""

DEMO_USER = "demo"
DEMO_TOKEN_TTL = 600.0
"""Seconds a demo token stays valid for new connections (an open connection is not cut)."""
DEMO_SWEEP_INTERVAL = 60.0

CONTENT_TYPES: dict[str, str] = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
}
"""What may be served from plugin/, by suffix; anything else is a 404."""

ORIGINS_PLACEHOLDER = '<meta name="assist-allowed-origins" content="">'
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")


def add_plugin_routes(
    app: web.Application,
    settings: Settings,
    store: Store,
    plugin_dir: Path = PLUGIN_DIR,
    clock: Callable[[], float] = time.time,
) -> None:
    """Serve the plugin, the iframe page, the demo and the demo token on `app`."""
    routes = _PluginRoutes(settings, store, plugin_dir.resolve(), clock)
    app.router.add_get("/plugin/frame.html", routes.frame, name="assist-plugin-frame")
    app.router.add_get("/plugin/{path:.+}", routes.static, name="assist-plugin")
    app.router.add_route("OPTIONS", "/plugin/{path:.+}", routes.preflight)
    app.router.add_get("/demo", routes.demo, name="assist-demo")
    app.router.add_get("/demo/", routes.demo_redirect)
    app.router.add_post("/demo/token", routes.demo_token, name="assist-demo-token")
    app.cleanup_ctx.append(routes.sweeper)


class _PluginRoutes:
    def __init__(self, settings: Settings, store: Store, plugin_dir: Path, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.store = store
        self.dir = plugin_dir
        self.clock = clock
        self.allowed = frozenset(o.rstrip("/") for o in settings.allowed_origins if o and o != "*")

    # -- static files -------------------------------------------------------------------------

    def _file(self, rel: str) -> Path:
        if "\0" in rel:  # a NUL cannot name a file (the OS would refuse the path)
            raise web.HTTPNotFound(text=f"no plugin file {rel!r}")
        path = (self.dir / rel).resolve()
        if not path.is_relative_to(self.dir) or path.suffix not in CONTENT_TYPES or not path.is_file():
            raise web.HTTPNotFound(text=f"no plugin file {rel!r}")
        return path

    def _cors(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Vary"] = "Origin"
        origin = request.headers.get("Origin")
        if origin and origin.rstrip("/") in self.allowed:
            response.headers["Access-Control-Allow-Origin"] = origin

    def _respond(self, request: web.Request, body: bytes, suffix: str) -> web.Response:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        status = 304 if request.headers.get("If-None-Match") == etag else 200
        response = web.Response(body=None if status == 304 else body, status=status)
        if status == 200:
            response.headers["Content-Type"] = CONTENT_TYPES[suffix]
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        self._cors(request, response)
        return response

    async def static(self, request: web.Request) -> web.Response:
        path = self._file(request.match_info["path"])
        return self._respond(request, path.read_bytes(), path.suffix)

    async def preflight(self, request: web.Request) -> web.Response:
        response = web.Response(status=204)
        self._cors(request, response)
        if "Access-Control-Allow-Origin" in response.headers:
            response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "600"
        return response

    async def frame(self, request: web.Request) -> web.Response:
        page = self._file("frame.html").read_text("utf-8")
        meta = (
            '<meta name="assist-allowed-origins" content="'
            + html.escape(" ".join(sorted(self.allowed)), quote=True)
            + '">'
        )
        response = self._respond(request, page.replace(ORIGINS_PLACEHOLDER, meta).encode(), ".html")
        if self.allowed:
            # Only the configured softphone pages may frame the sidebar. With no list configured the
            # page relies on its `origins=` parameter for postMessage, so it cannot pin its ancestors.
            response.headers["Content-Security-Policy"] = "frame-ancestors 'self' " + " ".join(sorted(self.allowed))
        response.headers["Referrer-Policy"] = "no-referrer"  # the URL may carry a token
        return response

    async def demo(self, request: web.Request) -> web.Response:
        response = self._respond(request, self._file("demo.html").read_bytes(), ".html")
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def demo_redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/demo")

    # -- the demo token -----------------------------------------------------------------------

    async def demo_token(self, request: web.Request) -> web.Response:
        refusal = loopback_refusal(request)
        if refusal is not None:
            log.warning("demo token refused: %s", refusal)
            raise web.HTTPForbidden(
                text=f"the demo token is only issued to a browser on the service's own machine ({refusal})"
            )
        now = self.clock()
        await self._revoke_expired(now)
        token = await self.store.issue_token(DEMO_USER, "agent", now)
        body = {
            "token": token,
            "user": DEMO_USER,
            "role": "agent",
            "expires_in": DEMO_TOKEN_TTL,
            "ws_port": self.settings.ws_port or None,
        }  # 0 = an ephemeral port: the page needs ?server=
        return web.json_response(
            body, headers={"Cache-Control": "no-store"}, dumps=lambda v: json.dumps(v, ensure_ascii=False)
        )

    async def _revoke_expired(self, now: float) -> None:
        # Store has no expiry of its own: a demo token is revoked like `token revoke` would.
        await self.store.revoke_tokens(now, user=DEMO_USER, issued_before=now - DEMO_TOKEN_TTL)

    async def sweeper(self, app: web.Application) -> AsyncIterator[None]:
        # Stopped by an event, never cancelled: cancelling an aiosqlite call mid-query leaves its worker
        # thread setting the result of a cancelled future.
        stop = asyncio.Event()

        async def loop() -> None:
            while not stop.is_set():
                try:
                    await self._revoke_expired(self.clock())
                except Exception:  # the database may be closing; try again next time
                    log.debug("demo token sweep failed", exc_info=True)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(DEMO_SWEEP_INTERVAL):
                        await stop.wait()

        task = asyncio.create_task(loop(), name="demo-token-sweeper")
        yield
        stop.set()
        await task


def _is_loopback_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def _host_name(netloc: str) -> str:
    return (urlsplit("//" + netloc).hostname or "").lower()


def loopback_refusal(request: web.Request) -> str | None:
    """Why `request` is not from a browser on this machine talking to this service directly; None if it is."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer or not _is_loopback_ip(str(peer[0])):
        return "the peer is not a loopback address"
    for name in PROXY_HEADERS:
        if name in request.headers:
            return f"the request came through a proxy ({name} header)"
    host = _host_name(request.headers.get("Host", ""))
    if host not in LOOPBACK_NAMES and not _is_loopback_ip(host):
        return "the Host header is not a loopback name"
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        parts = urlsplit(origin)
        if parts.netloc.lower() != request.headers.get("Host", "").lower():
            return "the request comes from another origin"
    elif origin == "null":
        return "the request comes from an opaque origin"
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return "the request comes from another site"
    return None
