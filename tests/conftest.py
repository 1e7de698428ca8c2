"""Shared fixtures: a real service on ephemeral loopback ports with a real SQLite file."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect

import assist.scripts.pack
from assist.app import Running, start
from assist.config import DEFAULT_PACK, Settings
from assist.scripts.file_cache import FileCache
from assist.scripts.pack import Pack, read_pack_dir
from assist.server.packs.http import SERVICE_KEY as PACK_SERVICE
from assist.server.packs.service import PackWorkers
from assist.server.packs.training import ModelTrainer
from tests.pgcluster import DATA_KEY, Cluster, start_cluster

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


class SuiteTrainer(ModelTrainer):
    """A trainer whose worker process outlives the service that started it: a service's `close` leaves it to the
    next service, and the run closes it at its end (`trainer_worker_closed_at_the_end`). Otherwise each test that
    trains a draft starts a process and imports scikit-learn again."""

    def close(self) -> None:
        """Kept for the next service; `close_worker` closes it."""

    def close_worker(self) -> None:
        super().close()


TRAINER = SuiteTrainer()
"""One trainer for every service the suite starts: the default pack's models are trained once per run, in one
worker process."""

PACK_WORKERS = PackWorkers()
"""One edit worker and one try worker for every service the suite starts (`start_shared`), closed at the run's
end (`trainer_worker_closed_at_the_end`): each start of one is a process importing the pack compiler and
reading the pack, about a second and a half of CPU, and dozens of tests open a draft or try a call."""


PACK_FILES = FileCache()
"""The pack files every service started by `start_shared` has parsed, by content (a FileCache is a pure memo of
a file's text, bounded): each new service's trainer console otherwise parsed the whole default pack again."""


async def start_shared(settings: Settings, *, clock: Callable[[], float] = time.time) -> Running:
    """`start` with the suite's trainer and pack workers, its pack service on the suite's parsed files: a service
    as it is after it has already seen those texts. A test of a worker's own start or death still sees it: the
    workers start a new process on their next use after one died."""
    running = await start(settings, clock=clock, trainer=TRAINER, pack_workers=PACK_WORKERS)
    running.http_runner.app[PACK_SERVICE].files = PACK_FILES
    return running


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
"""Debian's chromium, kept off the network (the workplace refuses its background connections)."""


_compile_pack = assist.scripts.pack.load_pack
_compiled: dict[tuple[str, tuple[str, ...], str], Pack] = {}


def load_pack_once(
    files: Mapping[str, str],
    *,
    extra_internal_numbers: Sequence[str] = (),
    models: bytes | None = None,
    cache: FileCache | None = None,
) -> Pack:
    """`load_pack`, memoised by the files' content and model artifact: a Pack is immutable, so every service
    start in a test run can share the one compiled from the same files (the default pack takes about a second)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    key = (
        digest.hexdigest(),
        tuple(extra_internal_numbers),
        hashlib.sha256(models).hexdigest() if models is not None else "",
    )
    if key not in _compiled:
        _compiled[key] = _compile_pack(files, extra_internal_numbers=extra_internal_numbers, models=models, cache=cache)
    return _compiled[key]


LONGEST_FIRST = (
    "cluster/test_two_instances_routing.py",
    "service/test_cli.py",
    "feedback/test_feedback_browser.py",
    "journeys/test_trainer_journey.py",
    "consoles/test_keyword_save.py",
    "cluster/test_two_instances_live.py",
    "consoles/test_trainer_browser.py",
    "journeys/leader/test_live_calls_at_scale.py",
    "service/test_serve_postgresql.py",
    "journeys/test_languages.py",
    "service/test_abuse_bounded.py",
    "browser/test_sidebar.py",
    "classifier/test_batched.py",
    "journeys/sidebar/test_demo_journey.py",
    "routing/test_restart.py",
    "cluster/test_resync_boards.py",
    "service/test_installed_wheel.py",
    "service/test_http_body_deadline.py",
    "journeys/leader/test_board_journeys.py",
    "consoles/test_trainer_api.py",
    "routing/test_play_through.py",
    "service/test_pack_models_service.py",
    "journeys/leader/test_fault_and_report_journeys.py",
    "journeys/leader/test_languages.py",
    "journeys/test_site.py",
    "journeys/leader/test_fault_cause_and_calls_journey.py",
    "service/test_serve_port_in_use.py",
    "ops/test_data_at_rest.py",
    "ops/test_drain_restart.py",
    "consoles_leader/test_leader_browser.py",
    "service/test_kill9_acknowledged.py",
    "core/test_pack_loader.py",
    "consoles/test_gate_reuse.py",
    "feedback/test_learning.py",
)
"""The files that take longest (`pytest --durations`, summed per file, measured again once the pack workers were
shared), longest first. They are run first so
that under `--dist loadfile` no worker is handed a long file at the end while the other has nothing left:
xdist would otherwise start with the files holding the most tests, which are the quick ones. A file missing
from the list only runs in its usual place."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`LONGEST_FIRST` first, then the rest in collection order (a stable sort: each file's tests keep their
    order). The Makefile's `--no-loadscope-reorder` has xdist hand out the files in this order."""
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    tests = Path(__file__).parent

    def place(item: pytest.Item) -> int:
        inside = item.path.is_relative_to(tests)
        return rank.get(item.path.relative_to(tests).as_posix(), len(rank)) if inside else len(rank)

    items.sort(key=place)


@pytest.fixture(scope="session", autouse=True)
def packs_compiled_once() -> Iterator[None]:
    """Each distinct pack is compiled once per test run, not at every service start.

    Every module of the service that imported `load_pack` (and `load_pack_dir`, through its module) gets the
    memoised one; a pack with problems still raises every time.
    """
    with pytest.MonkeyPatch.context() as patch:
        for module in list(sys.modules.values()):
            if module.__name__.startswith("assist") and getattr(module, "load_pack", None) is _compile_pack:
                patch.setattr(module, "load_pack", load_pack_once)
        yield


@pytest.fixture(scope="session", autouse=True)
def trainer_worker_closed_at_the_end() -> Iterator[None]:
    yield
    TRAINER.close_worker()
    PACK_WORKERS.close()


@pytest.fixture(scope="session")
def default_pack(packs_compiled_once: None) -> Pack:
    """The default pack, compiled once per test run."""
    return assist.scripts.pack.load_pack_dir(DEFAULT_PACK)


@pytest.fixture(scope="session")
def default_pack_with_models(packs_compiled_once: None) -> Pack:
    """The default pack as a service publishes it: rules plus models trained from its samples."""
    files = read_pack_dir(DEFAULT_PACK)
    return assist.scripts.pack.load_pack(files, models=TRAINER.train_here(files))


SMALL_PACK_CALLS = 480
"""The small pack keeps about this many of the default pack's sample calls, at even steps (515 of 6,695, at least
40 a category): a number, not a share, so that the lifecycle tests' cost stays put as the default pack grows."""


@pytest.fixture(scope="session")
def small_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default pack with about `SMALL_PACK_CALLS` of its sample calls, for the tests marked `small_pack`.

    Those walk a draft's lifecycle (back-test, submit, gate, publish, rollback): each step trains, cross-validates
    or classifies every sample, so they spend their time in proportion to the samples, and what they assert does not
    depend on how many there are. The default pack's own quality is the classifier tests' subject, on all of them.
    """
    out = tmp_path_factory.mktemp("small-pack")
    for name, text in read_pack_dir(DEFAULT_PACK).items():
        if name == "samples.jsonl":
            lines = text.splitlines()
            every = max(1, len(lines) // SMALL_PACK_CALLS)
            text = "".join(line + "\n" for n, line in enumerate(lines) if n % every == 0)
        (out / name).write_text(text, encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the whole run, started on first use. Without PostgreSQL's binaries
    the tests that need it fail with what to install: they are never skipped."""
    try:
        cluster = start_cluster()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The store's `db` setting on each backend: a SQLite file, or a fresh schema of the suite's cluster."""
    if request.param == "sqlite":
        return tmp_path / "assist.db"
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return cluster.fresh_url()


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The service's settings, on the default pack (the `small_pack` one for a test so marked).
    `ASSIST_TEST_DB=postgresql` puts every service built on them on the suite's PostgreSQL cluster (tests that
    open the SQLite file themselves then fail: they are SQLite's)."""
    pack = request.getfixturevalue("small_pack") if request.node.get_closest_marker("small_pack") else DEFAULT_PACK
    found = Settings(host="127.0.0.1", ws_port=0, http_port=0, db=tmp_path / "assist.db", pack=pack)
    if os.environ.get("ASSIST_TEST_DB") == "postgresql":  # with the suite's data key: no key file beside a URL
        found = dataclasses.replace(found, db=request.getfixturevalue("pg_cluster").fresh_url(), data_key=DATA_KEY)
    return found


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Running]:
    running = await start_shared(settings)
    try:
        yield running
    finally:
        await running.close()


REPLY_BOUND = 30.0
"""Seconds a test waits for a reply or push that must come: a bound that ends a broken test, not a speed
target (5 s failed a correct run on a machine at load 10). A test that asserts something does NOT come
passes its own short timeout."""


class Client:
    """A scripted softphone: a real websockets client speaking docs/protocol.md."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.pushes: list[dict[str, Any]] = []

    async def send_raw(self, frame: str | bytes) -> None:
        """Send a frame as is; a well-formed integer id still counts towards the next id."""
        try:
            cid = json.loads(frame).get("id")
            if isinstance(cid, int) and not isinstance(cid, bool):
                self.next_id = max(self.next_id, cid)
        except (ValueError, AttributeError, RecursionError):
            pass
        await self.ws.send(frame)

    async def recv(self, timeout: float = REPLY_BOUND) -> dict[str, Any]:
        import asyncio

        msg: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return msg

    async def reply(self, cid: int | None, timeout: float = REPLY_BOUND) -> dict[str, Any]:
        """Read until the result for `cid`, keeping pushes seen on the way."""
        while True:
            msg = await self.recv(timeout)
            if msg.get("type") == "result" and msg.get("id") == cid:
                return msg
            self.pushes.append(msg)

    async def call(self, type_: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        cid = self.next_id
        await self.ws.send(json.dumps({"id": cid, "type": type_, **fields}, ensure_ascii=False))
        return await self.reply(cid)

    async def push(self, type_: str, timeout: float = REPLY_BOUND, **match: Any) -> dict[str, Any]:
        """The next push of `type_` (matching `match`), from those already seen or still to come."""
        deadline = time.monotonic() + timeout
        while True:
            for i, p in enumerate(self.pushes):
                if p.get("type") == type_ and all(p.get(k) == v for k, v in match.items()):
                    return self.pushes.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {type_} push; seen {[p.get('type') for p in self.pushes]}")
            self.pushes.append(await self.recv(remaining))


async def issue(running: Running, user: str, role: str) -> str:
    return await running.store.issue_token(user, role, time.time())


async def open_client(
    running: Running, token: str | None = None, *, user: str = "a1001", role: str = "agent", lang: str | None = None
) -> Client:
    if token is None:
        token = await issue(running, user, role)
    ws = await connect(f"ws://127.0.0.1:{running.ws_port}/ws", max_size=None)
    client = Client(ws)
    auth: dict[str, Any] = {"type": "auth", "token": token}
    if lang:
        auth["lang"] = lang
    await ws.send(json.dumps(auth))
    ok = await client.recv()
    assert ok["type"] == "auth_ok", ok
    return client


@dataclass
class Http:
    """A JSON client for the HTTP APIs with one bearer token (or none)."""

    session: aiohttp.ClientSession
    base: str
    token: str | None

    async def call(self, method: str, path: str, body: Any = None, *, expect: int | None = 200) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(method, self.base + path, json=body, headers=headers) as resp:
            if resp.content_type == "application/json":
                data: Any = await resp.json()
            elif resp.content_type.startswith("text/"):
                data = await resp.text()
            else:
                data = await resp.read()
            if expect is not None:
                assert resp.status == expect, (resp.status, data)
            return data


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.asynccontextmanager
async def launch_chromium() -> AsyncIterator[Any]:
    """Headless Debian chromium through Playwright (for fixtures of any scope); skips the test where
    /usr/bin/chromium is absent."""
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


@pytest_asyncio.fixture(scope="session")
async def worker_chromium() -> AsyncIterator[Any]:
    """One chromium per test process (a launch costs about a second of CPU; the suite has dozens of browser
    tests). Every test runs in the process's one event loop (pyproject's asyncio loop scopes), so it can share.
    Playwright's `expect` waits up to a minute (its default, 5 s, is a tolerance a busy 2-core machine misses)."""
    from playwright.async_api import expect

    expect.set_options(timeout=60_000)
    async with launch_chromium() as b:
        yield b


BOX_READS = 20
"""Reads of an element's box before a test gives up: each waits for the element to be visible first."""


async def box_of(locator: Any) -> dict[str, float]:
    """The box of the element `locator` finds once it is visible. The sidebar and the consoles re-render a
    section by replacing its nodes, so a box read between Playwright finding the element and measuring it
    meets the old, detached node (None); reading again finds the new one. Bounded by count, not by time."""
    from playwright.async_api import expect

    for _ in range(BOX_READS):
        await expect(locator).to_be_visible()
        box = await locator.bounding_box()
        if box is not None:
            return dict(box)
    raise AssertionError(f"{locator} was visible but had no box in {BOX_READS} reads")


@contextlib.asynccontextmanager
async def contexts_closed_after(browser: Any) -> AsyncIterator[Any]:
    """`browser`, whose contexts (and pages) opened inside the block are closed at its end, so that nothing of
    them (a reconnecting sidebar, a ticking board) runs on into the next test or module. Nothing is shared
    between them either: each `new_page`/`new_context` is a fresh context, without cookies or storage."""
    before = set(browser.contexts)
    try:
        yield browser
    finally:
        for context in browser.contexts:
            if context not in before:
                with contextlib.suppress(Exception):
                    await context.close()


@pytest.fixture
async def browser(worker_chromium: Any) -> AsyncIterator[Any]:
    """The process's chromium, for one test."""
    async with contexts_closed_after(worker_chromium) as b:
        yield b


@pytest.fixture
async def agent(service: Running) -> AsyncIterator[Client]:
    client = await open_client(service)
    try:
        yield client
    finally:
        await client.ws.close()
