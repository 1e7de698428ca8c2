"""The embedded store: SQLite in WAL mode through aiosqlite, with versioned migrations.

All writes that are acknowledged to a client go through one writer task that
group-commits: it takes everything queued since the last commit, writes it in one
transaction, commits, and only then releases the waiting replies. A crash can lose
nothing that was acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from assist.effects import Write

log = logging.getLogger(__name__)

CORE_MIGRATIONS: tuple[str, ...] = (
    # 1: calls, their events, classifications pushed, warnings, tokens, pack versions
    """
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY, user TEXT NOT NULL, role TEXT NOT NULL,
        created_at REAL NOT NULL, revoked_at REAL);
    CREATE TABLE calls (
        call_id TEXT PRIMARY KEY, user TEXT NOT NULL, context TEXT NOT NULL,
        started_at REAL NOT NULL, ended_at REAL, disposition TEXT, category TEXT, labels TEXT);
    CREATE TABLE call_events (
        id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, kind TEXT NOT NULL,
        payload TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX call_events_call ON call_events(call_id, id);
    CREATE TABLE classifications (
        id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, category TEXT NOT NULL, labels TEXT NOT NULL,
        evidence TEXT NOT NULL, pack_version TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX classifications_call ON classifications(call_id, id);
    CREATE TABLE warnings (
        id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, line INTEGER NOT NULL, rule TEXT NOT NULL,
        phrase TEXT NOT NULL, span TEXT NOT NULL, alternative TEXT NOT NULL, at REAL NOT NULL);
    CREATE TABLE pack_versions (
        version INTEGER PRIMARY KEY, pack_id TEXT NOT NULL, label TEXT NOT NULL, digest TEXT NOT NULL,
        files TEXT NOT NULL, status TEXT NOT NULL, created_by TEXT NOT NULL, created_at REAL NOT NULL);
    """,
    # 2: each pack version keeps its trained models, so a rollback restores rules and models together
    """
    ALTER TABLE pack_versions ADD COLUMN model BLOB;
    """,
)
"""Append only: migration N of a component brings it from version N-1 to N."""

MIGRATIONS: dict[str, tuple[str, ...]] = {"core": CORE_MIGRATIONS}
"""Schema per component; a feature (routing, pack lifecycle) registers its own with `add_migrations`."""


def add_migrations(component: str, migrations: tuple[str, ...]) -> None:
    MIGRATIONS[component] = migrations


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


Statement = tuple[str, tuple[Any, ...]]
WRITERS: dict[str, Callable[[Mapping[str, Any]], list[Statement]]] = {}
"""How each kind of `Write` becomes SQL. Features register theirs with `add_writer`."""


def add_writer(table: str, to_sql: Callable[[Mapping[str, Any]], list[Statement]]) -> None:
    WRITERS[table] = to_sql


def _core_writers() -> None:
    add_writer("call_event", lambda r: [(
        "INSERT INTO call_events(call_id, kind, payload, at) VALUES (?,?,?,?)",
        (r["call_id"], r["kind"], _j(r["payload"]), r["at"]))])
    add_writer("call_start", lambda r: [(
        "INSERT INTO calls(call_id, user, context, started_at) VALUES (?,?,?,?) "
        "ON CONFLICT(call_id) DO UPDATE SET user=excluded.user, context=excluded.context, ended_at=NULL",
        (r["call_id"], r["user"], _j(r["context"]), r["started_at"]))])
    add_writer("call_end", lambda r: [(
        "UPDATE calls SET ended_at=?, disposition=?, category=?, labels=? WHERE call_id=?",
        (r["ended_at"], r["disposition"], r["category"], _j(r["labels"]), r["call_id"]))])
    add_writer("classification", lambda r: [(
        "INSERT INTO classifications(call_id, category, labels, evidence, pack_version, at) VALUES (?,?,?,?,?,?)",
        (r["call_id"], r["category"], _j(r["labels"]), _j(r["evidence"]), r["pack_version"], r["at"]))])
    add_writer("warning", lambda r: [(
        "INSERT INTO warnings(call_id, line, rule, phrase, span, alternative, at) VALUES (?,?,?,?,?,?,?)",
        (r["call_id"], r["index"], r["rule"], r["phrase"], _j(r["span"]), r["alternative"], r["at"]))])


_TARGET = re.compile(
    r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|REPLACE\s+INTO)\s+(\w+)", re.IGNORECASE)


def target_table(sql: str) -> str:
    """The table a write statement changes (statements for one table keep their order)."""
    m = _TARGET.match(sql)
    if m is None:
        raise ValueError(f"not a single-table write: {sql[:60]!r}")
    return m.group(1).lower()


TOKEN_ID_CHARS = 12
"""A token's id: the first characters of its hash (never the secret)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_core_writers()


async def _connect(path: Path) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path)
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=FULL")
    await db.execute("PRAGMA busy_timeout=30000")
    return db


class Store:
    """`db` serves reads and the few direct writes of the consoles, each unit of them inside
    `direct()`; the group-commit writer has a connection of its own, so nobody else's commit or
    rollback can ever cut one of its transactions in two."""

    def __init__(self, db: aiosqlite.Connection, writer_db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self._wdb = writer_db
        self.path = path
        self._queue: asyncio.Queue[tuple[Sequence[Write], asyncio.Future[None]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._direct = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def direct(self) -> AsyncIterator[aiosqlite.Connection]:
        """One unit of direct writes on `db` (a token, a pack version with its draft and audit): one at a
        time in this process, so no other coroutine's commit can cut it in two, and begun IMMEDIATE, so a
        busy database makes it wait for the write lock at the start instead of failing half-way.
        Committed when the block ends, rolled back if it raises."""
        async with self._direct:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.rollback()
                raise
            await self.db.commit()

    @classmethod
    async def open(cls, path: Path) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await _connect(path)
        store = cls(db, await _connect(path), path)
        await store.migrate()
        return store

    async def migrate(self) -> None:
        """Bring every registered component's schema up to date (idempotent)."""
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        await self.db.commit()
        for component, scripts in MIGRATIONS.items():
            async with self.db.execute(
                    "SELECT version FROM schema_versions WHERE component=?", (component,)) as cur:
                row = await cur.fetchone()
            version = int(row[0]) if row else 0
            for n, script in enumerate(scripts[version:], start=version + 1):
                await self.db.executescript(
                    f"BEGIN;\n{script}\nINSERT INTO schema_versions VALUES ('{component}', {n}) "
                    f"ON CONFLICT(component) DO UPDATE SET version={n};\nCOMMIT;")
                log.info("store: %s schema of %s is now version %d", component, self.path, n)

    def start_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="store-writer")

    async def close(self) -> None:
        if self._writer is not None:
            await self._queue.join()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        await self._wdb.close()
        await self.db.close()

    # -- group-committed writes ---------------------------------------------------------------

    async def write(self, writes: Sequence[Write]) -> None:
        """Durably write `writes`; returns once they are committed."""
        if not writes:
            return
        if self._writer is None:
            try:
                await self._apply(writes)
                await self._wdb.commit()
            except Exception:
                await self._wdb.rollback()
                raise
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((writes, fut))
        await fut

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            try:
                await self._apply([w for writes, _ in batch for w in writes])
                await self._wdb.commit()
                error: BaseException | None = None
            except Exception as exc:  # the batch failed as a whole: nobody is acknowledged
                log.exception("store: batch of %d failed", len(batch))
                await self._wdb.rollback()
                error = exc
            for _, fut in batch:
                if not fut.done():
                    if error is None:
                        fut.set_result(None)
                    else:
                        fut.set_exception(error)
                self._queue.task_done()

    async def _apply(self, writes: Iterable[Write]) -> None:
        """Execute a batch in as few thread hops as its order allows.

        Statements keep their order within each table; tables are independent (no statement reads
        another table), so each table's statements go together and consecutive ones with the same
        SQL become one executemany. A batch of 2,000 notes is then three hops, not 6,000.
        """
        by_table: dict[str, list[tuple[str, list[tuple[Any, ...]]]]] = {}
        for w in writes:
            to_sql = WRITERS.get(w.table)
            if to_sql is None:
                raise ValueError(f"unknown table {w.table!r}")
            for sql, params in to_sql(w.row):
                runs = by_table.setdefault(target_table(sql), [])
                if runs and runs[-1][0] == sql:
                    runs[-1][1].append(params)
                else:
                    runs.append((sql, [params]))
        for runs in by_table.values():
            for sql, many in runs:
                await self._wdb.executemany(sql, many)

    # -- reads --------------------------------------------------------------------------------

    async def live_call(self, call_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A call that was started and not ended, with its events in order (for a resume)."""
        async with self.db.execute(
                "SELECT user, context FROM calls WHERE call_id=? AND ended_at IS NULL", (call_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        async with self.db.execute(
                "SELECT kind, payload FROM call_events WHERE call_id=? ORDER BY id", (call_id,)) as cur:
            events = [{"kind": k, "payload": json.loads(p)} async for k, p in cur]
        return {"user": row["user"], "context": json.loads(row["context"])}, events

    async def live_call_ids(self) -> list[tuple[str, float]]:
        """Calls started and not ended, with the time of their last event (for a restart)."""
        async with self.db.execute(
                "SELECT c.call_id, COALESCE(MAX(e.at), c.started_at) FROM calls c "
                "LEFT JOIN call_events e ON e.call_id = c.call_id WHERE c.ended_at IS NULL GROUP BY c.call_id"
        ) as cur:
            return [(str(r[0]), float(r[1])) async for r in cur]

    async def call_ended(self, call_id: str) -> bool:
        async with self.db.execute("SELECT 1 FROM calls WHERE call_id=? AND ended_at IS NOT NULL", (call_id,)) as cur:
            return await cur.fetchone() is not None

    async def call_history(self, call_id: str) -> dict[str, Any] | None:
        async with self.db.execute("SELECT * FROM calls WHERE call_id=?", (call_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        out = dict(row)
        out["context"] = json.loads(out["context"])
        out["labels"] = json.loads(out["labels"]) if out["labels"] else None
        async with self.db.execute(
                "SELECT line, rule, phrase, span, alternative FROM warnings WHERE call_id=? ORDER BY id",
                (call_id,)) as cur:
            out["warnings"] = [{**dict(r), "span": json.loads(r["span"])} async for r in cur]
        return out

    # -- tokens -------------------------------------------------------------------------------

    async def issue_token(self, user: str, role: str, now: float) -> str:
        token = secrets.token_urlsafe(32)
        async with self.direct() as db:
            await db.execute("INSERT INTO tokens(hash, user, role, created_at) VALUES (?,?,?,?)",
                             (token_hash(token), user, role, now))
        return token

    async def revoke_tokens(self, now: float, *, user: str | None = None, issued_before: float | None = None,
                            token_id: str | None = None) -> int:
        """Revoke matching live tokens (by user, age or the exact id `list_tokens` shows); returns how many."""
        where: list[str] = ["revoked_at IS NULL"]
        args: list[Any] = [now]
        if user is not None:
            where.append("user=?")
            args.append(user)
        if issued_before is not None:
            where.append("created_at<?")
            args.append(issued_before)
        if token_id is not None:
            if len(token_id) != TOKEN_ID_CHARS or any(c not in "0123456789abcdef" for c in token_id):
                return 0  # not an id `token list` shows: never a pattern that matches many
            where.append(f"substr(hash, 1, {TOKEN_ID_CHARS}) = ?")
            args.append(token_id)
        async with self.direct() as db:
            cur = await db.execute(f"UPDATE tokens SET revoked_at=? WHERE {' AND '.join(where)}", args)
        return int(cur.rowcount)

    async def list_tokens(self) -> list[dict[str, Any]]:
        """Tokens without their secret: an id (hash prefix), user, role, issued and revoked times."""
        async with self.db.execute(
                f"SELECT substr(hash, 1, {TOKEN_ID_CHARS}) AS id, user, role, created_at, revoked_at FROM tokens "
                "ORDER BY created_at"
        ) as cur:
            return [dict(r) async for r in cur]

    async def revoked(self, token_hashes: Iterable[str]) -> set[str]:
        """Which of these token hashes are revoked (or unknown) now."""
        wanted = list(set(token_hashes))
        if not wanted:
            return set()
        marks = ",".join("?" * len(wanted))
        async with self.db.execute(
                f"SELECT hash FROM tokens WHERE revoked_at IS NULL AND hash IN ({marks})", wanted) as cur:
            live = {r[0] async for r in cur}
        return set(wanted) - live

    async def lookup_token(self, token: str) -> tuple[str, str] | None:
        async with self.db.execute("SELECT user, role FROM tokens WHERE hash=? AND revoked_at IS NULL",
                                   (token_hash(token),)) as cur:
            row = await cur.fetchone()
        return (row["user"], row["role"]) if row else None

    # -- pack versions ------------------------------------------------------------------------

    async def current_pack(self) -> tuple[int, Mapping[str, str], bytes | None] | None:
        """The version in force: its number, files and stored model artifact."""
        async with self.db.execute(
                "SELECT version, files, model FROM pack_versions WHERE status='published' "
                "ORDER BY version DESC LIMIT 1"
        ) as cur:
            row = await cur.fetchone()
        return (int(row["version"]), json.loads(row["files"]), row["model"]) if row else None

    async def pack_model(self, version: int) -> bytes | None:
        async with self.db.execute("SELECT model FROM pack_versions WHERE version=?", (version,)) as cur:
            row = await cur.fetchone()
        return row["model"] if row else None

    async def disk_digest(self) -> str | None:
        """Digest of the last version imported from the pack directory."""
        async with self.db.execute(
                "SELECT digest FROM pack_versions WHERE created_by LIKE 'disk:%' ORDER BY version DESC LIMIT 1"
        ) as cur:
            row = await cur.fetchone()
        return str(row["digest"]) if row else None

    async def save_pack(self, db: aiosqlite.Connection, pack_id: str, label: str, digest: str,
                        files: Mapping[str, str], status: str, created_by: str, now: float, *,
                        model: bytes | None = None) -> int:
        """Keep a pack version and its model artifact, inside the caller's `direct()` unit (with its other rows)."""
        cur = await db.execute(
            "INSERT INTO pack_versions(pack_id, label, digest, files, status, created_by, created_at, model) "
            "VALUES (?,?,?,?,?,?,?,?)", (pack_id, label, digest, _j(dict(files)), status, created_by, now, model))
        return int(cur.lastrowid or 0)
