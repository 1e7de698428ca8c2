"""The store: SQLite in WAL mode through aiosqlite (the default), or PostgreSQL (`store_pg.py`, chosen by a
`postgresql://` URL as the `db` setting), with versioned migrations applied at start on either.

Every write goes through one writer task on one connection of its own (as datasette does).
Acknowledged writes (`write`) are group-committed: the writer takes everything queued since
its last commit, writes it in one transaction, commits, and only then releases the waiting
replies — a crash of the service (kill -9) loses nothing acknowledged. What a power loss may
lose is decided per kind of write (docs/operations.md, "Durability"): a component's `relaxed`
kinds (a live call's edits) are committed with `synchronous=NORMAL` and reach the disk within
`sync_every` seconds; a batch with any other kind (records, escalations, faults, tokens, pack
versions) is committed with `synchronous=FULL`, fsynced before anyone is answered. A console's
unit of work (`unit`: a token, a pack version with its draft and audit) takes the writer's turn
and runs as one transaction between two batches, fsynced. Reads use a second connection and see
only committed data.

The schema is the instance's: `Store.open(path, schema, cipher)` gets every component's migrations and
row writers (`assist/server/schema.py` lists them); nothing is registered at import.

SQL is written once, in SQLite's dialect, for both backends: PostgreSQL's connection translates the few
differences as it runs a statement (`store_pg.translate`). What cannot be translated is written side by side:
each component's `pg_migrations` beside its `migrations`.

Customer text is sealed at rest (`assist/server/ops/crypto.py`): a row writer wraps such a value in
`Sealed`, the store encrypts it with the cipher it was opened with just before the statement runs, and
both connections decrypt sealed values as rows are read. Each component lists its sealed columns
(`Component.sealed`) for `assist rekey`; ids, times, kinds, categories and states stay in clear for queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiosqlite

from assist.config import is_postgres
from assist.effects import Write
from assist.server.ops.crypto import PREFIX, PROBE, Cipher, DataKeyError, Sealed, load_cipher

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
    # 3: which data key seals the customer fields (one row: the key's id and a probe sealed with it)
    """
    CREATE TABLE data_keys (key_id TEXT PRIMARY KEY, probe TEXT NOT NULL, created_at REAL NOT NULL);
    """,
    # 4: which instance took a live call whose own instance died, and when (`Store.adopt`)
    """
    ALTER TABLE calls ADD COLUMN adopted_by TEXT;
    ALTER TABLE calls ADD COLUMN adopted_at REAL;
    """,
)
"""Append only: migration N of a component brings it from version N-1 to N."""


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


Statement = tuple[str, tuple[Any, ...]]
ToSql = Callable[[Mapping[str, Any]], list[Statement]]
"""How one kind of `Write` becomes SQL statements."""

CORE_WRITERS: Mapping[str, ToSql] = MappingProxyType(
    {
        "call_event": lambda r: [
            (
                "INSERT INTO call_events(call_id, kind, payload, at) VALUES (?,?,?,?)",
                (r["call_id"], r["kind"], Sealed(_j(r["payload"])), r["at"]),
            )
        ],
        "call_start": lambda r: [
            (
                "INSERT INTO calls(call_id, user, context, started_at) VALUES (?,?,?,?) "
                "ON CONFLICT(call_id) DO UPDATE SET user=excluded.user, context=excluded.context, ended_at=NULL",
                (r["call_id"], r["user"], Sealed(_j(r["context"])), r["started_at"]),
            )
        ],
        "call_end": lambda r: [
            (
                # an ended call stays as it ended: a second end (two instances, a late sweep) changes nothing
                "UPDATE calls SET ended_at=?, disposition=?, category=?, labels=? WHERE call_id=? AND ended_at IS NULL",
                (r["ended_at"], r["disposition"], r["category"], _j(r["labels"]), r["call_id"]),
            )
        ],
        "classification": lambda r: [
            (
                "INSERT INTO classifications(call_id, category, labels, evidence, "
                "pack_version, at) VALUES (?,?,?,?,?,?)",
                (r["call_id"], r["category"], _j(r["labels"]), Sealed(_j(r["evidence"])), r["pack_version"], r["at"]),
            )
        ],
        "warning": lambda r: [
            (
                "INSERT INTO warnings(call_id, line, rule, phrase, span, alternative, at) VALUES (?,?,?,?,?,?,?)",
                (r["call_id"], r["index"], r["rule"], Sealed(r["phrase"]), _j(r["span"]), r["alternative"], r["at"]),
            )
        ],
    }
)


@dataclass(frozen=True, slots=True)
class Component:
    """A part of the schema: its migrations (append only: migration N brings it from N-1 to N) and how
    each of its `Write` kinds becomes SQL."""

    name: str
    migrations: tuple[str, ...]
    writers: Mapping[str, ToSql]
    relaxed: frozenset[str] = frozenset()
    """Kinds whose acknowledgement promises survival of a crash of the service, and of a power loss only
    once the next sync has run (at most `Store.sync_every` later); every other kind is fsynced first."""
    pg_migrations: tuple[str, ...] = ()
    """The same migrations in PostgreSQL's DDL, one for one (migration N of both brings version N-1 to N):
    its types, identity columns, a `rowid` column where SQLite's implicit one is read, triggers."""
    sealed: tuple[tuple[str, str], ...] = ()
    """(table, column) pairs that hold customer text, which the writers wrap in `Sealed`: what `assist rekey`
    re-encrypts. Everything else stays in clear, for queries."""


CORE_PG_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY, "user" TEXT NOT NULL, role TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL, revoked_at DOUBLE PRECISION,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY);
    CREATE TABLE calls (
        call_id TEXT PRIMARY KEY, "user" TEXT NOT NULL, context TEXT NOT NULL,
        started_at DOUBLE PRECISION NOT NULL, ended_at DOUBLE PRECISION, disposition TEXT, category TEXT,
        labels TEXT, rowid BIGINT GENERATED ALWAYS AS IDENTITY);
    CREATE TABLE call_events (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, call_id TEXT NOT NULL, kind TEXT NOT NULL,
        payload TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
    CREATE INDEX call_events_call ON call_events(call_id, id);
    CREATE TABLE classifications (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, call_id TEXT NOT NULL, category TEXT NOT NULL,
        labels TEXT NOT NULL, evidence TEXT NOT NULL, pack_version TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
    CREATE INDEX classifications_call ON classifications(call_id, id);
    CREATE TABLE warnings (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, call_id TEXT NOT NULL, line BIGINT NOT NULL,
        rule TEXT NOT NULL, phrase TEXT NOT NULL, span TEXT NOT NULL, alternative TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL);
    CREATE TABLE pack_versions (
        version BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, pack_id TEXT NOT NULL, label TEXT NOT NULL,
        digest TEXT NOT NULL, files TEXT NOT NULL, status TEXT NOT NULL, created_by TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL);
    """,
    """
    ALTER TABLE pack_versions ADD COLUMN model BYTEA;
    """,
    """
    CREATE TABLE data_keys (key_id TEXT PRIMARY KEY, probe TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL);
    """,
    """
    ALTER TABLE calls ADD COLUMN adopted_by TEXT;
    ALTER TABLE calls ADD COLUMN adopted_at DOUBLE PRECISION;
    """,
)
"""`CORE_MIGRATIONS` for PostgreSQL (docs/operations.md, "PostgreSQL")."""

CORE = Component(
    "core",
    CORE_MIGRATIONS,
    CORE_WRITERS,
    relaxed=frozenset({"call_event", "classification"}),  # a note or line and the labels it caused
    pg_migrations=CORE_PG_MIGRATIONS,
    sealed=(("calls", "context"), ("call_events", "payload"), ("classifications", "evidence"), ("warnings", "phrase")),
)


@dataclass(frozen=True, slots=True)
class Schema:
    """Every component one store serves, in migration order."""

    components: tuple[Component, ...]

    def writer(self, table: str) -> ToSql | None:
        for c in self.components:
            found = c.writers.get(table)
            if found is not None:
                return found
        return None

    def relaxed(self, table: str) -> bool:
        return any(table in c.relaxed for c in self.components)

    def sealed(self) -> tuple[tuple[str, str], ...]:
        """Every (table, column) that holds sealed customer text."""
        return tuple(tc for c in self.components for tc in c.sealed)


_TARGET = re.compile(
    r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|REPLACE\s+INTO)\s+(\w+)", re.IGNORECASE
)


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


async def _connect(path: Path, cipher: Cipher) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path)
    db.row_factory = cipher.row_factory()  # type: ignore[assignment]  # sqlite3.Rows, sealed values opened
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=FULL")
    await db.execute("PRAGMA busy_timeout=5000")  # only another process (the command line) can hold the lock
    return db


def _sync_log(conn: sqlite3.Connection) -> None:
    """Put every commit so far on the disk: a passive checkpoint fsyncs the WAL first (its row is read,
    so that no statement stays open on the writer's connection)."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


class StoreClosing(RuntimeError):
    """A unit of work was under way when the writer stopped: it was not committed."""


class _Turn:
    """A unit of work waiting for the writer: granted the connection, then told how the block ended."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.granted: asyncio.Future[aiosqlite.Connection] = loop.create_future()
        self.finished: asyncio.Future[BaseException | None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def finish(self, failed: BaseException | None) -> None:
        """Tell the writer how the block ended, unless the writer has stopped waiting (it was cancelled
        with the unit under way, and has already told the unit so through `closed`)."""
        if not self.finished.done():
            self.finished.set_result(failed)


class Store:
    """`db` serves reads; every write runs on the writer's own connection, so nobody else's commit or
    rollback can ever cut a transaction in two."""

    sync_every: float | None = 1.0
    """Relaxed writes reach the disk at most this many seconds after their commit (None: every commit is
    fsynced, `synchronous=FULL` throughout)."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        writer_db: aiosqlite.Connection,
        path: Path | None,
        schema: Schema,
        cipher: Cipher,
    ) -> None:
        self.db = db
        self._wdb = writer_db
        self.file = path
        """The SQLite file (None on PostgreSQL)."""
        self.schema = schema
        self.cipher = cipher
        """Seals customer values; a unit of work that writes one itself calls `cipher.seal`."""
        self._full = True  # the writer connection's `synchronous` setting (_connect sets FULL)
        self._unsynced_since: float | None = None
        """When the oldest commit not yet fsynced was made (None: everything committed is on disk)."""
        self._queue: asyncio.Queue[tuple[Sequence[Write], asyncio.Future[None]] | _Turn] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._alone = asyncio.Lock()  # units before the writer task runs (start-up, the command line)

    @property
    def path(self) -> Path:
        """The SQLite file, for what only a file has (backup, file modes); `file` is None on PostgreSQL."""
        if self.file is None:
            raise RuntimeError("the store is on PostgreSQL: it has no database file")
        return self.file

    @property
    def where(self) -> str:
        """The database as a message may name it (a PostgreSQL URL without its password)."""
        return str(self.file)

    @contextlib.asynccontextmanager
    async def unit(self) -> AsyncIterator[aiosqlite.Connection]:
        """One unit of work (a token, a pack version with its draft and audit) as one transaction on the
        writer's connection, between two group commits: committed when the block ends, rolled back if it
        raises. Keep the block to SQL: acknowledged writes wait behind it."""
        if self._writer is None:
            async with self._alone:
                await self._wdb.execute("BEGIN IMMEDIATE")
                try:
                    yield self._wdb
                except BaseException:
                    await self._wdb.rollback()
                    raise
                await self._wdb.commit()
            return
        turn = _Turn(asyncio.get_running_loop())
        await self._queue.put(turn)
        try:
            db = await turn.granted
        except asyncio.CancelledError:
            if turn.granted.done() and not turn.granted.cancelled():  # granted just as we were cancelled:
                turn.finish(asyncio.CancelledError())  # hand the writer back (rolled back)
            raise
        try:
            yield db
        except BaseException as exc:
            turn.finish(exc)
            await asyncio.shield(turn.closed)
            raise
        turn.finish(None)
        await asyncio.shield(turn.closed)

    @classmethod
    async def open(cls, target: Path | str, schema: Schema, cipher: Cipher | None = None) -> Store:
        """Open (and migrate) the store at `target`: a SQLite file, or a `postgresql://` URL (psycopg is
        imported only then). `cipher` seals its customer fields; None: `crypto.load_cipher` (on SQLite the key
        file beside the database, made on a new database; on PostgreSQL a key must be configured). Raises
        `DataKeyError` if the key is missing or not the one the database was sealed with."""
        if is_postgres(target):
            from assist.server.store_pg import PgStore

            return await PgStore.connect(target, schema, cipher or load_cipher(target))
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        if cipher is None:
            cipher = load_cipher(path)
        db = await _connect(path, cipher)
        store = cls(db, await _connect(path, cipher), path, schema, cipher)
        try:
            await store.migrate()
            await store.check_key()
        except BaseException:
            await store.close()
            raise
        return store

    async def check_key(self) -> None:
        """Refuse a key that did not seal this database; on a database with no key yet, record this one (after
        checking that whatever is already sealed in it opens). One transaction: two services starting on a new
        database at once cannot both record theirs."""
        async with self.unit() as db:
            await self._lock_keys(db)
            rows = list(await db.execute_fetchall("SELECT key_id, probe FROM data_keys"))
            if not rows:
                for table, column in self.schema.sealed():
                    found = list(
                        await db.execute_fetchall(
                            f"SELECT {column} FROM {table} WHERE substr({column}, 1, {len(PREFIX)}) = ? LIMIT 1",
                            (PREFIX,),
                        )
                    )
                    if found and str(found[0][0]).startswith(PREFIX):  # the row factory could not open it
                        raise DataKeyError(
                            f"{self.where} holds values sealed with another data key than {self.cipher.key_id} "
                            f"({self.cipher.source}), and no record of which: use the key it was sealed with."
                        )
                await db.execute(
                    "INSERT INTO data_keys(key_id, probe, created_at) VALUES (?,?,?)",
                    (self.cipher.key_id, self.cipher.seal(PROBE), time.time()),
                )
                return
        key_id, probe = rows[0][0], rows[0][1]  # the row factory opened the probe if the key is right
        if probe != PROBE:
            raise DataKeyError(
                f"the data key {self.cipher.key_id} from {self.cipher.source} does not open {self.where}, "
                f"which is sealed with key {key_id}: use the key it was sealed with (the key file kept with "
                "it, or the ASSIST_DATA_KEY it ran with; after an interrupted `assist rekey`, the key file's "
                "`.new` sibling). docs/operations.md, 'Customer data at rest'."
            )

    async def _lock_keys(self, db: aiosqlite.Connection) -> None:
        """Nothing to do on SQLite: `unit` began the transaction IMMEDIATE, which locks the file."""

    async def migrate(self) -> None:
        """Bring every component's schema up to date (idempotent), on the writer's connection."""
        db = self._wdb
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        await db.commit()
        for component in self.schema.components:
            async with db.execute("SELECT version FROM schema_versions WHERE component=?", (component.name,)) as cur:
                row = await cur.fetchone()
            version = int(row[0]) if row else 0
            for n, script in enumerate(component.migrations[version:], start=version + 1):
                await db.executescript(
                    f"BEGIN;\n{script}\nINSERT INTO schema_versions VALUES ('{component.name}', {n}) "
                    f"ON CONFLICT(component) DO UPDATE SET version={n};\nCOMMIT;"
                )
                log.info("store: %s schema of %s is now version %d", component.name, self.path, n)

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
            async with self._alone:
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

    async def _next(self) -> tuple[Sequence[Write], asyncio.Future[None]] | _Turn:
        """The next queued item; while relaxed commits wait for the disk, a quiet queue syncs them in time."""
        while self._unsynced_since is not None and self._queue.empty():
            assert self.sync_every is not None
            wait = self._unsynced_since + self.sync_every - time.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):  # not wait_for: on 3.11 it can swallow the writer's cancel
                        return await self._queue.get()
            try:
                await self._sync_committed()
                self._unsynced_since = None
            except Exception:
                log.exception("store: could not sync the log")
                await asyncio.sleep(self.sync_every)
        return await self._queue.get()

    async def _sync_committed(self) -> None:
        """Put every commit so far on the disk."""
        await self._wdb._execute(_sync_log, self._wdb._conn)  # type: ignore[no-untyped-call]

    async def _sync_mode(self, full: bool) -> None:
        if full != self._full:
            await self._wdb.execute(f"PRAGMA synchronous={'FULL' if full else 'NORMAL'}")
            self._full = full

    async def _write_loop(self) -> None:
        turn: _Turn | None = None
        while True:
            first = turn or await self._next()
            turn = None
            if isinstance(first, _Turn):
                await self._run_turn(first)
                self._queue.task_done()
                continue
            batch = [first]
            while not self._queue.empty() and len(batch) < 500:
                item = self._queue.get_nowait()
                if isinstance(item, _Turn):
                    turn = item  # after this batch's commit
                    break
                batch.append(item)
            writes = [w for ws, _ in batch for w in ws]
            now = time.monotonic()
            full = (
                self.sync_every is None
                or any(not self.schema.relaxed(w.table) for w in writes)
                or (self._unsynced_since is not None and now - self._unsynced_since >= self.sync_every)
            )
            try:
                await self._commit_batch(self._runs(writes), full)
                error: BaseException | None = None
                if full:
                    self._unsynced_since = None  # the WAL is fsynced up to and with this commit
                elif self._unsynced_since is None:
                    self._unsynced_since = now
            except Exception as exc:  # the batch failed as a whole (rolled back): nobody is acknowledged
                log.exception("store: batch of %d failed", len(batch))
                error = exc
            for _, fut in batch:
                if not fut.done():
                    if error is None:
                        fut.set_result(None)
                    else:
                        fut.set_exception(error)
                self._queue.task_done()

    async def _run_turn(self, turn: _Turn) -> None:
        if turn.granted.cancelled():  # its caller gave up waiting
            return
        try:
            await self._sync_mode(True)  # a unit (token, pack version) is fsynced before it is acknowledged
            await self._wdb.execute("BEGIN IMMEDIATE")
        except Exception as exc:
            if not turn.granted.cancelled():
                turn.granted.set_exception(exc)
            return
        if turn.granted.cancelled():  # its caller gave up while the transaction began: end it, nothing done
            await self._wdb.rollback()
            return
        turn.granted.set_result(self._wdb)
        try:
            failed = await turn.finished
        except asyncio.CancelledError:  # the writer is stopped with a unit under way (the process is ending):
            turn.closed.set_exception(StoreClosing("the store closed with this unit of work under way"))
            raise  # the unit is not committed; its transaction ends with the connection
        try:
            if failed is None:
                await self._wdb.commit()
            else:
                await self._wdb.rollback()
        except Exception as exc:
            await self._wdb.rollback()
            turn.closed.set_exception(exc)
            return
        if failed is None:
            self._unsynced_since = None  # its fsync covered every commit before it
        turn.closed.set_result(None)

    def _runs(self, writes: Iterable[Write]) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """A batch as few `executemany` runs as its order allows.

        Statements keep their order within each table; tables are independent (no statement reads
        another table), so each table's statements go together and consecutive ones with the same
        SQL become one executemany. A batch of 2,000 notes is then three runs, not 6,000 statements.
        """
        by_table: dict[str, list[tuple[str, list[tuple[Any, ...]]]]] = {}
        for w in writes:
            to_sql = self.schema.writer(w.table)
            if to_sql is None:
                raise ValueError(f"unknown table {w.table!r}")
            for sql, params in to_sql(w.row):
                runs = by_table.setdefault(target_table(sql), [])
                if runs and runs[-1][0] == sql:
                    runs[-1][1].append(params)
                else:
                    runs.append((sql, [params]))
        return [run for runs in by_table.values() for run in runs]

    async def _apply(self, writes: Iterable[Write]) -> None:
        await self.apply(self._wdb, writes)

    async def apply(self, db: aiosqlite.Connection, writes: Iterable[Write]) -> None:
        """Write `writes` in the unit of work whose connection is `db` (`unit()`), as a batch is written: for a
        unit that writes rows only if what it read or claimed first allows it (routing's claims)."""
        seal = self.cipher.seal_params
        for sql, many in self._runs(writes):
            await db.executemany(sql, [seal(p) for p in many])

    async def _commit_batch(self, runs: list[tuple[str, list[tuple[Any, ...]]]], full: bool) -> None:
        """Write and commit a batch in one trip to the writer's thread (rolled back if any of it fails).

        One trip, not one per statement: under load every trip waits for a turn of the busy event
        loop, and the acknowledgements of the whole batch wait for the last trip."""
        pragma = None if full == self._full else f"PRAGMA synchronous={'FULL' if full else 'NORMAL'}"
        seal = self.cipher.seal_params

        def commit(conn: sqlite3.Connection) -> None:
            if pragma is not None:
                conn.execute(pragma)
            try:
                for sql, many in runs:
                    conn.executemany(sql, [seal(p) for p in many])  # customer values sealed here, off the loop
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

        self._full = full
        await self._wdb._execute(commit, self._wdb._conn)  # type: ignore[no-untyped-call]  # aiosqlite's own thread

    # -- reads --------------------------------------------------------------------------------

    async def live_call(self, call_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A call that was started and not ended, with its events in order (for a resume)."""
        async with self.db.execute(
            "SELECT user, context FROM calls WHERE call_id=? AND ended_at IS NULL", (call_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        async with self.db.execute(
            "SELECT kind, payload FROM call_events WHERE call_id=? ORDER BY id", (call_id,)
        ) as cur:
            events = [{"kind": k, "payload": json.loads(p)} async for k, p in cur]
        return {"user": row["user"], "context": json.loads(row["context"])}, events

    async def live_call_ids(self) -> list[tuple[str, float]]:
        """Calls started and not ended, with the time of their last event (for a restart)."""
        async with self.db.execute(
            "SELECT c.call_id, COALESCE(MAX(e.at), c.started_at) FROM calls c "
            "LEFT JOIN call_events e ON e.call_id = c.call_id WHERE c.ended_at IS NULL GROUP BY c.call_id"
        ) as cur:
            return [(str(r[0]), float(r[1])) async for r in cur]

    async def adopt(self, call_ids: Iterable[str], idle_since: float, by: str, now: float) -> list[str]:
        """Claim for instance `by` those of these calls that are still live and untouched since `idle_since` (no
        event, no other instance's claim), in one transaction; the calls won.

        Each claim is one conditional UPDATE that records the adopter: of instances sweeping at once, one wins
        each call and the others' UPDATE finds it taken (on PostgreSQL the loser's statement waits for the
        winner's row lock and checks the row again as committed), so an orphan is ended by one instance, once.
        Rows are claimed in id order, so two sweeps never wait for each other in a circle."""
        won: list[str] = []
        async with self.unit() as db:
            for call_id in sorted(set(call_ids)):
                cur = await db.execute(
                    "UPDATE calls SET adopted_by=?, adopted_at=? WHERE call_id=? AND ended_at IS NULL "
                    "AND started_at <= ? AND (adopted_at IS NULL OR adopted_at <= ?) "
                    "AND NOT EXISTS (SELECT 1 FROM call_events e WHERE e.call_id = calls.call_id AND e.at > ?)",
                    (by, now, call_id, idle_since, idle_since, idle_since),
                )
                if cur.rowcount == 1:
                    won.append(call_id)
        return won

    async def call_owner(self, call_id: str) -> str | None:
        """The user whose call (live or ended) has this id, None when no call has it."""
        rows = list(await self.db.execute_fetchall("SELECT user FROM calls WHERE call_id=?", (call_id,)))
        return str(rows[0][0]) if rows else None

    async def call_ended(self, call_id: str) -> bool:
        async with self.db.execute("SELECT 1 FROM calls WHERE call_id=? AND ended_at IS NOT NULL", (call_id,)) as cur:
            return await cur.fetchone() is not None

    async def call_history(self, call_id: str) -> dict[str, Any] | None:
        async with self.db.execute(
            "SELECT call_id, user, context, started_at, ended_at, disposition, category, labels FROM calls "
            "WHERE call_id=?",
            (call_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        out = dict(row)
        out["context"] = json.loads(out["context"])
        out["labels"] = json.loads(out["labels"]) if out["labels"] else None
        async with self.db.execute(
            "SELECT line, rule, phrase, span, alternative FROM warnings WHERE call_id=? ORDER BY id", (call_id,)
        ) as cur:
            out["warnings"] = [{**dict(r), "span": json.loads(r["span"])} async for r in cur]
        return out

    # -- tokens -------------------------------------------------------------------------------

    async def issue_token(self, user: str, role: str, now: float) -> str:
        token = secrets.token_urlsafe(32)
        async with self.unit() as db:
            await db.execute(
                "INSERT INTO tokens(hash, user, role, created_at) VALUES (?,?,?,?)",
                (token_hash(token), user, role, now),
            )
        return token

    async def revoke_tokens(
        self, now: float, *, user: str | None = None, issued_before: float | None = None, token_id: str | None = None
    ) -> int:
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
        async with self.unit() as db:
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
            f"SELECT hash FROM tokens WHERE revoked_at IS NULL AND hash IN ({marks})", wanted
        ) as cur:
            live = {r[0] async for r in cur}
        return set(wanted) - live

    async def lookup_token(self, token: str) -> tuple[str, str] | None:
        # One trip that steps and finishes the statement: a cursor left open across awaits keeps the read
        # connection's snapshot, and under a crowd of logins a token issued meanwhile would read as unknown.
        rows = await self.db.execute_fetchall(
            "SELECT user, role FROM tokens WHERE hash=? AND revoked_at IS NULL", (token_hash(token),)
        )
        row = next(iter(rows), None)
        return (row["user"], row["role"]) if row else None
