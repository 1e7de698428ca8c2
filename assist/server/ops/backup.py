"""Backup and restore of the SQLite database (`assist backup PATH`, `assist restore PATH`).

A backup uses SQLite's online backup API from a separate process: it copies one consistent snapshot
while the service goes on serving (in WAL mode a reader never blocks the writer). The copy is a
single self-contained file (journal mode DELETE), private (0600), written beside its final name and
renamed into place, so a backup that fails half-way never replaces a good one.

A restore refuses while a service holds the database: every `assist serve` holds a shared lock on
`<db>-lock` for as long as it runs, and restore needs it exclusively. It checks the backup, copies it
into place the same way, and keeps the database it replaces (with its WAL and shared-memory files)
as `<db>.before-restore-<UTC time>`.

On PostgreSQL (later work) the equivalent is `pg_dump -Fc` and `pg_restore`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from assist.server.ops.files import PRIVATE, SIDE_FILES, private_file

COUNTED = ("calls", "call_events", "pack_versions", "tokens")
"""Tables whose row counts a backup and a restore print, so the operator sees what was copied."""


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why and what to do."""


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + "-lock")


def hold_serving_lock(db: Path) -> IO[bytes]:
    """Mark `db` as served by this process until the returned file is closed (a shared lock: several
    services may share one database, as before; only a restore needs it alone)."""
    path = lock_path(db)
    private_file(path)
    fh = open(path, "rb")  # noqa: SIM115 - held open for the service's lifetime
    fcntl.flock(fh, fcntl.LOCK_SH)
    return fh


@contextlib.contextmanager
def alone(db: Path, refused: type[Exception], doing: str) -> Iterator[None]:
    """Hold `db`'s serving lock exclusively while the block runs (restore, rekey: the service must be
    stopped); raise `refused` when a running service holds it, saying what to stop before `doing` what."""
    path = lock_path(db)
    private_file(path)
    with open(path, "rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise refused(
                f"a running assist service holds {db}: stop it before {doing} (systemctl stop assist)"
            ) from None
        yield


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in COUNTED if t in tables}


def _check(conn: sqlite3.Connection, what: Path) -> None:
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        has_schema = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_versions'"
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a readable SQLite database: {exc}") from None
    if result != "ok":
        raise BackupError(f"{what} fails SQLite's check: {result}")
    if not has_schema:
        raise BackupError(f"{what} is not an assist database (no schema_versions table)")


def _copy(source: sqlite3.Connection, dest: Path) -> dict[str, int]:
    """Copy `source` into a private, self-contained file `dest` (written beside it, then renamed)."""
    tmp = dest.with_name(dest.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    private_file(tmp)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)  # one step: one consistent snapshot
            target.execute("PRAGMA journal_mode=DELETE")
            _check(target, dest)
            counts = _counts(target)
        finally:
            target.close()
        os.chmod(tmp, PRIVATE)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(dest.parent)
    return counts


def backup(db: Path, dest: Path) -> dict[str, int]:
    """Copy the database `db` (served or not) into `dest`; returns the row counts copied."""
    if not db.is_file():
        raise BackupError(f"no database at {db}")
    if dest.resolve() == db.resolve():
        raise BackupError("the backup must go to another file than the database")
    if not dest.parent.is_dir():
        raise BackupError(f"no directory {dest.parent}")
    source = sqlite3.connect(db, timeout=30)
    try:
        return _copy(source, dest)
    finally:
        source.close()


def restore(src: Path, db: Path) -> tuple[dict[str, int], Path | None]:
    """Put the backup `src` in place of `db` (no service may hold it). Returns the row counts restored and
    where the replaced database was kept (None if there was none)."""
    if not src.is_file():
        raise BackupError(f"no backup at {src}")
    if db.exists() and src.resolve() == db.resolve():
        raise BackupError("the backup is the database itself")
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        _check(source, src)
        with alone(db, BackupError, "restoring"):
            if not db.parent.exists():
                db.parent.mkdir(mode=0o700, parents=True)
            tmp = db.with_name(db.name + ".restoring")
            counts = _copy(source, tmp)
            kept: Path | None = None
            if db.exists():
                kept = db.with_name(f"{db.name}.before-restore-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
                for suffix in ("", *SIDE_FILES):  # the WAL goes with its database, or it would be replayed
                    with contextlib.suppress(FileNotFoundError):
                        os.replace(db.with_name(db.name + suffix), kept.with_name(kept.name + suffix))
            os.replace(tmp, db)
            _fsync_dir(db.parent)
    finally:
        source.close()
    return counts, kept


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
