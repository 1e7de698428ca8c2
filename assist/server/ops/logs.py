"""Logging: text or one JSON object per line, the call or request a line belongs to, customer data masked.

Masking is a filter on every handler, so nothing reaches a file, the journal or a collector unmasked,
whoever logged it (the service, aiohttp, websockets' frame dumps at DEBUG). It reuses the feedback
masker (`assist/feedback/mask.py`): long numbers (phones, card, account and ID numbers) keep their
last four digits, e-mail addresses their first letter and domain. Names are masked where a call
context gives them (`customer_name` and the other keys of `mask.NAME_KEYS`): the filter learns every
such name it sees (in a logged frame, or in the contexts of the live calls it is given) and masks it
wherever it appears later, in notes and transcript lines too.

The call and request ids come from context variables: the HTTP middleware here binds a request id;
the websocket hub binds the call id of the command it runs (`bind_call`); websockets' own records carry
their connection, whose id is logged as `conn`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

from aiohttp import web

from assist.feedback.mask import NAME_KEYS, mask_context, mask_name, mask_text

call_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("assist_call_id", default=None)
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("assist_request_id", default=None)

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s"
MAX_NAMES = 5000
"""Names remembered for masking (the most recently seen); a day's calls fit many times over."""
FRAME_LOG_CHARS = 400
"""A masked websocket frame is logged up to this many characters (websockets itself shows 75)."""

_NAME_FIELD = re.compile(
    r"""(?<![\w])["']?(?P<key>"""
    + "|".join(sorted(NAME_KEYS - {"name"}))
    + r""")["']?\s*[:=]\s*["'](?P<value>[^"'\\]{2,40})["']"""
)
"""A person's name under an unmistakable key, in any logged text (a bare `name` is learned only from a
call's context: elsewhere it names steps and rules)."""
_SECRET = re.compile(
    r"""(?P<key>["']?token["']?\s*[:=]\s*["']|Bearer\s+)(?P<value>[A-Za-z0-9_\-.~+/=]{8,})""", re.IGNORECASE
)
"""Bearer tokens (the websocket `auth` message, an Authorization header): never logged."""
_EPOCH = re.compile(r"(?<![\d.])1\d{9}\.\d+(?![\d.])")
"""A Unix time with its fraction (every `at` in a frame): not a customer's number, kept readable."""


def bind_call(call_id: str | None) -> contextvars.Token[str | None]:
    """Every line logged from here on in this task (and tasks it starts) names this call."""
    return call_id_var.set(call_id)


class MaskFilter(logging.Filter):
    """Masks customer data in a record before any handler formats it; also gives it its ids."""

    def __init__(self) -> None:
        super().__init__()
        self._names: OrderedDict[str, None] = OrderedDict()
        self._pattern: re.Pattern[str] | None = None
        self._sources: list[Callable[[], Iterable[Mapping[str, Any]]]] = []
        self._source_sizes: list[int] = []
        self._frame_call: str | None = None
        """The call a websockets frame being logged names (its payload's call_id)."""

    # -- names -------------------------------------------------------------------------------------

    def watch_contexts(self, source: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        """Learn names from these contexts too (the live calls'); read again whenever their number changes."""
        self._sources.append(source)
        self._source_sizes.append(-1)

    def unwatch(self, source: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        for i, known in enumerate(self._sources):
            if known is source:
                del self._sources[i], self._source_sizes[i]
                return

    def remember(self, context: Mapping[str, Any]) -> None:
        for key in NAME_KEYS:
            value = context.get(key)
            if isinstance(value, str):
                self._learn(value)

    def _learn(self, name: str) -> None:
        name = name.strip()
        if len(name) < 2:
            return
        if name in self._names:
            self._names.move_to_end(name)
            return
        self._names[name] = None
        if len(self._names) > MAX_NAMES:
            self._names.popitem(last=False)
        self._pattern = None

    def _refresh_sources(self) -> None:
        for i, source in enumerate(self._sources):
            try:
                contexts = list(source())
            except Exception:  # a source must never stop a line from being logged
                continue
            if len(contexts) != self._source_sizes[i]:
                self._source_sizes[i] = len(contexts)
                for ctx in contexts:
                    self.remember(ctx)

    # -- masking -----------------------------------------------------------------------------------

    def mask(self, text: str) -> str:
        """`text` with long numbers, e-mail addresses and every known name masked."""
        for m in _NAME_FIELD.finditer(text):
            self._learn(m.group("value"))
        if self._names:
            if self._pattern is None:
                names = sorted(self._names, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(n) for n in names))
            text = self._pattern.sub(lambda m: mask_name(m.group(0)), text)
        text = _SECRET.sub(lambda m: m.group("key") + "***", text)
        parts = _EPOCH.split(text)
        times = _EPOCH.findall(text)
        return "".join(mask_text(part) + (times[i] if i < len(times) else "") for i, part in enumerate(parts))

    def _frame(self, frame: Any) -> str:
        """A websockets frame, masked from its whole payload (websockets' own text would cut a name from
        its key, leaving the name unrecognised)."""
        data = getattr(frame, "data", b"")
        try:
            text = bytes(data).decode()
            payload = json.loads(text)
        except (UnicodeDecodeError, ValueError):
            return self.mask(str(frame))
        if isinstance(payload, dict):
            if isinstance(payload.get("context"), dict):
                self.remember(payload["context"])
                payload = {**payload, "context": mask_context(payload["context"])}
            if call_id_var.get() is None and isinstance(payload.get("call_id"), str):
                self._frame_call = payload["call_id"]
        shown = self.mask(json.dumps(payload, ensure_ascii=False))
        if len(shown) > FRAME_LOG_CHARS:
            shown = shown[:FRAME_LOG_CHARS] + "…"
        opcode = getattr(getattr(frame, "opcode", None), "name", "FRAME")
        return f"{opcode} {shown} [{len(data)} bytes]"

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_assist_masked", False):
            return True
        self._refresh_sources()
        self._frame_call = None
        args = record.args
        if isinstance(args, tuple) and any(_is_frame(a) for a in args):
            record.args = tuple(self._frame(a) if _is_frame(a) else a for a in args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what there is
            message = f"{record.msg!r} {record.args!r}"
        record.msg = self.mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        ws = getattr(record, "websocket", None)
        ids = {
            "call_id": call_id_var.get() or self._frame_call,
            "request_id": request_id_var.get(),
            "conn": str(ws.id) if ws is not None and hasattr(ws, "id") else None,
        }
        parts = [f"{k}={v}" for k, v in zip(("call", "req", "conn"), ids.values(), strict=True) if v]
        record.__dict__.update(ids, ids=f" [{' '.join(parts)}]" if parts else "", _assist_masked=True)
        return True


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "Frame" and hasattr(value, "opcode") and hasattr(value, "data")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO 8601, UTC), level, logger, msg, and call_id, request_id, conn,
    exc when there are some."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("call_id", "request_id", "conn"):
            value = getattr(record, key, None)
            if value:
                out[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "ids"):
            record.ids = ""
        return super().format(record)


def configure_logging(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> MaskFilter:
    """Log to `stream` (standard error) in `fmt`, every handler masked; returns the filter (to feed it names).

    Replaces the root logger's handlers: this is the process's one logging set-up (`assist serve`).
    """
    if fmt not in FORMATS:
        raise ValueError(f"log_format must be one of {FORMATS}, not {fmt!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else _TextFormatter(TEXT_FORMAT))
    mask = MaskFilter()
    handler.addFilter(mask)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    return mask


def mask_filters() -> list[MaskFilter]:
    """The mask filters on the root logger's handlers (none when logging was set up elsewhere)."""
    return [f for h in logging.getLogger().handlers for f in h.filters if isinstance(f, MaskFilter)]


@web.middleware
async def request_ids(request: web.Request, handler: Any) -> web.StreamResponse:
    """Each HTTP request gets an id (the proxy's X-Request-Id if it sent one), logged on every line it causes
    and returned as X-Request-Id; a DEBUG line records the request when it is done."""
    rid = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex[:16]
    token = request_id_var.set(rid)
    started = time.perf_counter()
    status = 500
    try:
        response: web.StreamResponse = await handler(request)
        status = response.status
        if not response.prepared:
            response.headers["X-Request-Id"] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        logging.getLogger("assist.http").debug(
            "%s %s -> %d in %.1f ms", request.method, request.path_qs, status, (time.perf_counter() - started) * 1000
        )
        request_id_var.reset(token)
