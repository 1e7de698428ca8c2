"""Pack versions, drafts and the trainers' audit in the store: schema and SQL, nothing else.

Reads take the store's read connection; writes take the connection of a `Store.unit()` (one
transaction on the writer's connection), so a published version, its draft and its audit entry
commit together or not at all. The `pack_versions` table itself was created by the core schema
(migrations 1 and 2 of `store.CORE_MIGRATIONS`) before packs had a component of their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import aiosqlite

from assist.scripts import lifecycle as lc
from assist.server.store import Component

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE pack_drafts (
        id INTEGER PRIMARY KEY, base_version INTEGER, files TEXT NOT NULL, author TEXT NOT NULL,
        status TEXT NOT NULL, editors TEXT NOT NULL, approvals TEXT NOT NULL, note TEXT NOT NULL,
        published_version INTEGER, created_at REAL NOT NULL, updated_at REAL NOT NULL);
    CREATE TABLE pack_audit (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
        draft_id INTEGER, version INTEGER, detail TEXT NOT NULL);
    CREATE INDEX pack_audit_at ON pack_audit(at);
    """,
)

COMPONENT = Component("packs", MIGRATIONS, MappingProxyType({}))


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- versions ---------------------------------------------------------------------------------------

async def current(db: aiosqlite.Connection) -> tuple[int, Mapping[str, str], bytes | None] | None:
    """The version in force: its number, files and stored model artifact."""
    async with db.execute(
            "SELECT version, files, model FROM pack_versions WHERE status='published' ORDER BY version DESC LIMIT 1"
    ) as cur:
        row = await cur.fetchone()
    return (int(row["version"]), json.loads(row["files"]), row["model"]) if row else None


async def model(db: aiosqlite.Connection, version: int) -> bytes | None:
    async with db.execute("SELECT model FROM pack_versions WHERE version=?", (version,)) as cur:
        row = await cur.fetchone()
    return row["model"] if row else None


async def disk_digest(db: aiosqlite.Connection) -> str | None:
    """Digest of the last version imported from the pack directory."""
    async with db.execute(
            "SELECT digest FROM pack_versions WHERE created_by LIKE 'disk:%' ORDER BY version DESC LIMIT 1"
    ) as cur:
        row = await cur.fetchone()
    return str(row["digest"]) if row else None


async def versions(db: aiosqlite.Connection) -> list[dict[str, Any]]:
    async with db.execute(
            "SELECT version, pack_id, label, digest, status, created_by, created_at FROM pack_versions "
            "ORDER BY version DESC") as cur:
        return [dict(r) async for r in cur]


async def version_files(db: aiosqlite.Connection, version: int) -> dict[str, str] | None:
    async with db.execute("SELECT files FROM pack_versions WHERE version=?", (version,)) as cur:
        row = await cur.fetchone()
    return dict(json.loads(row["files"])) if row else None


async def save_version(db: aiosqlite.Connection, pack_id: str, label: str, digest: str, files: Mapping[str, str],
                       status: str, created_by: str, now: float, *, model: bytes | None = None) -> int:
    """Keep a pack version and its model artifact (inside the caller's unit, with its other rows)."""
    cur = await db.execute(
        "INSERT INTO pack_versions(pack_id, label, digest, files, status, created_by, created_at, model) "
        "VALUES (?,?,?,?,?,?,?,?)", (pack_id, label, digest, _j(dict(files)), status, created_by, now, model))
    return int(cur.lastrowid or 0)


# -- drafts and audit -------------------------------------------------------------------------------

def _draft(row: Any) -> lc.Draft:
    return lc.Draft(id=int(row["id"]), base_version=row["base_version"], files=json.loads(row["files"]),
                    author=row["author"], created_at=row["created_at"], updated_at=row["updated_at"],
                    status=row["status"], editors=tuple(json.loads(row["editors"])),
                    approvals=tuple(json.loads(row["approvals"])), note=row["note"],
                    published_version=row["published_version"])


async def drafts(db: aiosqlite.Connection, open_only: bool = True) -> list[lc.Draft]:
    sql = "SELECT * FROM pack_drafts" + (" WHERE status IN ('editing','submitted')" if open_only else "")
    async with db.execute(sql + " ORDER BY id DESC LIMIT 50") as cur:
        return [_draft(r) async for r in cur]


async def draft(db: aiosqlite.Connection, draft_id: int) -> lc.Draft | None:
    async with db.execute("SELECT * FROM pack_drafts WHERE id=?", (draft_id,)) as cur:
        row = await cur.fetchone()
    return _draft(row) if row is not None else None


async def next_draft_id(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM pack_drafts") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 1


async def save_draft(db: aiosqlite.Connection, draft: lc.Draft, audit: lc.Audit, *, insert: bool = False) -> None:
    """The draft's row and its audit entry (inside the caller's unit)."""
    values = (draft.base_version, _j(dict(draft.files)), draft.author, draft.status, _j(list(draft.editors)),
              _j(list(draft.approvals)), draft.note, draft.published_version, draft.created_at, draft.updated_at,
              draft.id)
    if insert:
        await db.execute(
            "INSERT INTO pack_drafts(base_version, files, author, status, editors, approvals, note, "
            "published_version, created_at, updated_at, id) VALUES (?,?,?,?,?,?,?,?,?,?,?)", values)
    else:
        await db.execute(
            "UPDATE pack_drafts SET base_version=?, files=?, author=?, status=?, editors=?, approvals=?, "
            "note=?, published_version=?, created_at=?, updated_at=? WHERE id=?", values)
    await add_audit(db, audit)


async def add_audit(db: aiosqlite.Connection, a: lc.Audit) -> None:
    await db.execute(
        "INSERT INTO pack_audit(at, user, action, draft_id, version, detail) VALUES (?,?,?,?,?,?)",
        (a.at, a.user, a.action, a.draft_id, a.version, _j(dict(a.detail))))


async def audit(db: aiosqlite.Connection, limit: int = 200, draft_id: int | None = None) -> list[dict[str, Any]]:
    where, args = ("WHERE draft_id=?", (draft_id, limit)) if draft_id is not None else ("", (limit,))
    async with db.execute(
            f"SELECT at, user, action, draft_id, version, detail FROM pack_audit {where} "
            "ORDER BY id DESC LIMIT ?", args) as cur:
        return [{**dict(r), "detail": json.loads(r["detail"])} async for r in cur]
