"""One frozen Settings object: documented defaults < TOML config file < ASSIST_* env < command line.

docs/settings.md lists every setting; a test fails when one is missing there.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeGuard

DEFAULT_PACK = Path(__file__).parent / "scripts" / "packs" / "default"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "assist"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    """Address both servers bind to. Loopback by default; put a reverse proxy in front for other hosts."""
    ws_port: int = 8765
    """Port of the real-time websocket channel (path /ws)."""
    http_port: int = 8080
    """Port of the HTTP side: /healthz, /plugin, /demo, consoles and APIs."""
    db: Path | str = field(default_factory=lambda: default_data_dir() / "assist.db")
    """SQLite database file (WAL mode), created with its directory on first start; or a PostgreSQL URL
    (`postgresql://user@host/dbname`, kept as a string) for a shared store."""
    pack: Path = DEFAULT_PACK
    """Script pack directory loaded on first start (later versions live in the store)."""
    public_ws_url: str = ""
    """The websocket URL as browsers reach it behind a reverse proxy (e.g. wss://assist.bank.example/ws);
    empty = the page's own host with `ws_port`."""
    max_message_bytes: int = 65536
    """Largest accepted websocket frame; bigger frames get a `message_too_large` error."""
    auth_timeout: float = 10.0
    """Seconds a new connection has to send its `auth` message."""
    call_idle_timeout: float = 14400.0
    """Seconds without any message for a call before it is ended as `abandoned` (a vanished softphone)."""
    max_queue: int = 512
    """Outgoing messages buffered per connection before a slow client is cut off."""
    drain_timeout: float = 10.0
    """Seconds a drain (SIGTERM) may take: commands and deliveries under way finish, then the process exits."""
    max_queue_bytes: int = 4 * 2**20
    """Bytes of outgoing messages a connection may leave unsent before it is cut off as too slow (1013)."""
    max_calls_per_agent: int = 20
    """Live calls one user may hold at once; the next `call.start` is refused with `too_many_calls`."""
    try_timeout: float = 10.0
    """Seconds a trainer's try (one call classified in the pack worker process) may run before it is stopped."""
    http_header_timeout: float = 10.0
    """Seconds an HTTP connection may go without a complete request (headers unfinished, or idle between
    requests) before it is closed."""
    http_body_timeout: float = 60.0
    """Seconds a request's body may take to arrive in full once its headers are in; past them it is answered
    408 and its connection closed (a body trickled in a byte at a time held a request handler for ever)."""
    http_max_connections: int = 2048
    """Open HTTP connections; past it the oldest one waiting for a request is closed for each new one."""
    language: str = "zh-CN"
    """Default language of talking points and messages: zh-CN or en."""
    allowed_origins: tuple[str, ...] = ()
    """Origins (scheme://host:port) of softphone pages allowed to embed the plugin; empty = same host only."""
    pack_approvals: int = 1
    """Approvals by other trainers a pack draft needs before it can be published (0: none)."""
    pack_min_accuracy: float = 0.0
    """Minimum primary accuracy (0..1) on the pack's samples to publish; 0 = only "no regression"."""
    pack_allow_regressions: bool = False
    """Whether a sample the published pack got right may go wrong in a new version."""
    log_level: str = "INFO"
    """Python logging level name."""
    routing: Path | None = None
    """Routing file (TOML): contact directory, duty roster, hot-lines, deadlines. Default: the plan's values."""
    notify_secret: str = ""
    """HMAC-SHA256 key that signs webhook and SMS-gateway requests (X-Assist-Signature); empty = unsigned."""
    log_format: str = "text"
    """Log line format: "text" (one human-readable line) or "json" (one JSON object per line, for collectors)."""
    retention_days: float = 180.0
    """Days a call's notes and transcript are kept; older ones are purged daily (0 = keep for ever)."""
    data_key: str = field(default="", repr=False)
    """Key that seals customer fields in the database (base64 of 32 bytes; set ASSIST_DATA_KEY); empty = the
    key file `data_key_file`."""
    data_key_file: Path | None = None
    """File holding the data key when `data_key` is empty; default `<db>.key`, made (0600) with a new database."""

    def with_overrides(self, values: Mapping[str, Any]) -> Settings:
        """Apply non-None overrides, casting strings to each field's type."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            if f.name in values and values[f.name] is not None:
                changes[f.name] = _cast(f.name, getattr(self, f.name), values[f.name])
        return replace(self, **changes)


PATH_SETTINGS = frozenset({"db", "pack", "routing", "data_key_file"})

_POSTGRES_URL = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)


def is_postgres(db: Path | str) -> TypeGuard[str]:
    """Whether the `db` setting names a PostgreSQL database (a URL) rather than a SQLite file."""
    return isinstance(db, str) and _POSTGRES_URL.match(db) is not None


def sqlite_file(db: Path | str) -> Path | None:
    """The `db` setting's SQLite file (None: it names a PostgreSQL database)."""
    return None if is_postgres(db) else Path(db)


def describe_db(db: Path | str) -> str:
    """The `db` setting as it may be printed or logged: a URL's password is never shown."""
    if not is_postgres(db):
        return str(db)
    shown = re.sub(r"^(\w+://[^:/@]*):[^@/]*@", r"\1:***@", db)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", shown, flags=re.IGNORECASE)


def _cast(name: str, current: Any, value: Any) -> Any:
    try:
        if name == "db" and isinstance(value, str) and _POSTGRES_URL.match(value):
            return value
        if isinstance(current, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if isinstance(current, int):
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, Path) or name in PATH_SETTINGS:
            return Path(value).expanduser()
        if isinstance(current, tuple):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name!r}: cannot use {value!r}: {exc}") from None


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Settings))


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from the config file, then ASSIST_<NAME> variables, then explicit overrides."""
    settings = Settings()
    if config_file is not None:
        with open(config_file, "rb") as fh:
            data = tomllib.load(fh)
        unknown = set(data) - set(SETTING_NAMES)
        if unknown:
            raise ValueError(f"{config_file}: unknown settings {sorted(unknown)}; known: {list(SETTING_NAMES)}")
        settings = settings.with_overrides(data)
    env = os.environ if environ is None else environ
    from_env = {n: env[f"ASSIST_{n.upper()}"] for n in SETTING_NAMES if f"ASSIST_{n.upper()}" in env}
    settings = settings.with_overrides(from_env)
    return settings.with_overrides(overrides or {})
