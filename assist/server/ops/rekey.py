"""Key rotation (`assist rekey`): every sealed value re-encrypted under a new data key, in one transaction.

The service must be stopped (the restore lock says so). The store is opened with the old key, which must be
the one the database was sealed with; each sealed column is read through the writer's connection (whose
row factory opens the old values) and written back sealed with the new key, values from before encryption
included; the database's key record changes in the same transaction, so a crash leaves it wholly under the
old key or wholly under the new one. The append-only audit table's guard triggers are lifted for the rewrite
and put back, unchanged, before the commit. Then the file is rebuilt (VACUUM) and its log emptied, so that no
old form of a value stays behind in a free page.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from assist.server.ops.backup import alone
from assist.server.ops.crypto import PREFIX, PROBE, Cipher, DataKeyError
from assist.server.store import Schema, Store

BATCH = 5000


class ServiceRunning(Exception):
    """A service holds the database: rekeying under it would seal new rows with a key it does not have."""


@dataclass(frozen=True, slots=True)
class Rekeyed:
    values: int
    """Sealed values rewritten (plain values from before encryption included)."""
    old_key_id: str
    new_key_id: str


async def rekey(db: Path, schema: Schema, old: Cipher, new: Cipher, now: float) -> Rekeyed:
    """Re-seal every customer value of `db` from `old` to `new` (the service stopped)."""
    if not db.is_file():
        raise DataKeyError(f"no database at {db}")
    with alone(db, ServiceRunning, "rekeying"):
        store = await Store.open(db, schema, old)  # refuses an old key that did not seal it
        try:
            count = 0
            async with store.unit() as conn:
                for table in sorted({t for t, _ in schema.sealed()}):
                    columns = [c for t, c in schema.sealed() if t == table]
                    triggers = await conn.execute_fetchall(
                        "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=?", (table,)
                    )
                    for name, _ in triggers:
                        await conn.execute(f'DROP TRIGGER "{name}"')
                    after = 0
                    while True:
                        rows = list(
                            await conn.execute_fetchall(
                                f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE rowid > "
                                "? ORDER BY rowid LIMIT ?",
                                (after, BATCH),
                            )
                        )
                        if not rows:
                            break
                        after = int(rows[-1][0])
                        for column_at, column in enumerate(columns, start=1):
                            changed = []
                            for r in rows:
                                value = r[column_at]
                                if value is None:
                                    continue
                                if isinstance(value, str) and value.startswith(PREFIX):
                                    raise DataKeyError(
                                        f"{table}.{column} row {r[0]} does not open with the old "
                                        f"key {old.key_id}: nothing was changed"
                                    )
                                changed.append((new.seal(str(value)), r[0]))
                            await conn.executemany(f"UPDATE {table} SET {column}=? WHERE rowid=?", changed)
                            count += len(changed)
                    for _, sql in triggers:
                        await conn.execute(sql)
                await conn.execute("DELETE FROM data_keys")
                await conn.execute(
                    "INSERT INTO data_keys(key_id, probe, created_at) VALUES (?,?,?)",
                    (new.key_id, new.seal(PROBE), now),
                )
        finally:
            await store.close()
        # Old values (plain ones from before encryption, or under the old key) may linger in free pages and in
        # the log: the file is rebuilt and the log emptied.
        await asyncio.to_thread(_rebuild, db)
    return Rekeyed(count, old.key_id, new.key_id)


def _rebuild(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()
