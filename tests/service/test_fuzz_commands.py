"""Fuzzed frames over every command the instance accepts: each gets the documented error shape or a success,
never `internal_error`, and the service logs no traceback.

Hypothesis draws each frame: a known command type (or not), its fields with values of the right type or of
any JSON type, ids in order or not. The service runs on its own event loop in a thread, so the sync
Hypothesis test drives it through a real websockets client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from assist.app import Running, start
from assist.config import DEFAULT_PACK, Settings
from assist.protocol import CommandTable
from tests.conftest import TRAINER

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
CALL_IDS = st.sampled_from(["c1", "c2", "E-1", "F-1", "", "x" * 200])
SAID = ["客户说手机银行转账失败", "我要投诉，不解决我就打12378", "这是我们系统的问题", "记者", ""]
TEXT = st.sampled_from(SAID) | st.text(max_size=60)


@dataclass
class Served:
    running: Running
    loop: asyncio.AbstractEventLoop
    records: list[logging.LogRecord]
    clients: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    """(user, role) -> [connection, last id sent]: reused across examples (a new one per example is slow)."""
    codes: dict[str, int] = field(default_factory=dict)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db = tmp_path_factory.mktemp("fuzz") / "assist.db"
    conf = Settings(host="127.0.0.1", ws_port=0, http_port=0, db=Path(db), pack=DEFAULT_PACK)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    running = asyncio.run_coroutine_threadsafe(start(conf, trainer=TRAINER), loop).result()
    records: list[logging.LogRecord] = []
    handler = _Keep(records)
    logging.getLogger().addHandler(handler)
    served = Served(running, loop, records)
    try:
        with served.stack:
            yield served
            print(f"fuzz: {sum(served.codes.values())} frames, replies by code:", served.codes)
    finally:
        logging.getLogger().removeHandler(handler)
        asyncio.run_coroutine_threadsafe(running.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


def _token(served: Served, user: str, role: str) -> str:
    coro = served.running.store.issue_token(user, role, time.time())
    return asyncio.run_coroutine_threadsafe(coro, served.loop).result()


def _client(served: Served, user: str, role: str) -> list[Any]:
    found = served.clients.get((user, role))
    if found is None:
        ws = served.stack.enter_context(connect(f"ws://127.0.0.1:{served.running.ws_port}/ws", max_size=None))
        ws.send(json.dumps({"type": "auth", "token": _token(served, user, role)}))
        assert json.loads(ws.recv(timeout=30))["type"] == "auth_ok"
        found = served.clients[(user, role)] = [ws, 0]
    return found


def _value(kind: Any) -> st.SearchStrategy[Any]:
    """A well-typed value for a field most of the time, any JSON value otherwise."""
    text = str(kind)
    if "str" in text and "call_id" not in text:
        typed: st.SearchStrategy[Any] = TEXT
    elif "int" in text or "float" in text:
        typed = st.integers(min_value=-5, max_value=10**6)
    elif "bool" in text:
        typed = st.booleans()
    elif "dict" in text:
        typed = st.dictionaries(st.sampled_from(["queue", "caller_number", "name", "x"]), JSON, max_size=3)
    elif "list" in text or "tuple" in text:
        typed = st.lists(TEXT, max_size=3)
    else:
        typed = JSON
    return st.one_of(typed, typed, typed, JSON)


def frames(table: CommandTable) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def one(draw: st.DrawFn) -> dict[str, Any]:
        type_ = draw(st.sampled_from([*table.types(), "nope", "auth"]))
        frame: dict[str, Any] = {"type": type_}
        if type_ in table:
            spec = next(s for s in _specs(table) if s.name == type_)
            for field in msgspec.structs.fields(spec.cls):
                if field.name == "id" or draw(st.integers(0, 9)) == 0:
                    continue  # sometimes a field is missing
                frame[field.name] = draw(CALL_IDS if field.name.endswith("_id") else _value(field.type))
        if draw(st.integers(0, 19)) == 0:
            frame[draw(st.text(max_size=6))] = draw(JSON)  # an unknown field
        return frame

    return one()


def _specs(table: CommandTable) -> list[Any]:
    return [table._by_type[t] for t in table.types()]


EXAMPLES = int(os.environ.get("ASSIST_FUZZ_EXAMPLES", "100"))
"""Batches of frames per run: 100 in the suite (about 500 frames); issue 14's 10,000 frames are
`ASSIST_FUZZ_EXAMPLES=2000 pytest -s tests/service/test_fuzz_commands.py` (docs/hardening.md)."""


# The service's own thread draws from the global `random` module (websockets' keepalive pings, among others);
# Hypothesis, drawing frames in this thread, reads any change of that state during a draw as a strategy that
# uses `random` — a false alarm here (nothing this test draws depends on it), seen in runs of 1,600 batches.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_frames_never_give_internal_error_or_a_traceback(served: Served, data: st.DataObject) -> None:
    table = served.running.hub.commands
    batch = data.draw(st.lists(frames(table), min_size=1, max_size=12))
    user = f"u{data.draw(st.integers(0, 3))}"
    role = data.draw(st.sampled_from(["agent", "shift_leader", "admin", "trainer"]))
    client = _client(served, user, role)
    ws: ClientConnection = client[0]
    for frame in batch:
        if data.draw(st.integers(0, 9)):
            client[1] += 1
            frame = {"id": client[1], **frame}
        else:
            frame = {"id": data.draw(JSON), **frame}
        ws.send(json.dumps(frame, ensure_ascii=False))
        while True:
            reply = json.loads(ws.recv(timeout=30))
            if reply.get("type") == "result":
                break
        code = "ok" if reply["success"] else reply["error"]["code"]
        served.codes[code] = served.codes.get(code, 0) + 1
        if not reply["success"]:
            assert set(reply["error"]) >= {"code", "message"}, reply
            assert code != "internal_error", (frame, reply)
    tracebacks = [r for r in served.records if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
