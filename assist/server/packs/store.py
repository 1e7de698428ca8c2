"""Pack versions, drafts and the trainers' audit in the store: schema and SQL, nothing else.

Reads take the store's read connection; writes take the connection of a `Store.unit()` (one
transaction on the writer's connection), so a published version, its draft and its audit entry
commit together or not at all. The `pack_versions` table itself was created by the core schema
(migrations 1 and 2 of `store.CORE_MIGRATIONS`) before packs had a component of their own.

A draft's files are one JSON object of ~2 MB (the default pack's samples). Encoding or decoding it
holds the event loop ~15 ms each (the C codec does not let go of the GIL, so a thread does not help),
and a trainer's save did both. So the row has a `revision`, bumped by every update: a caller that
holds the files of a revision (`KnownFiles`) reads the row without them, and a save sends only the
file it changed, which SQLite splices into the stored JSON (`save_draft`'s `held`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

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
    "ALTER TABLE pack_drafts ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;",
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


async def current_version(db: aiosqlite.Connection) -> int | None:
    """The number of the version in force (its files are `version_files`: a version never changes)."""
    async with db.execute("SELECT MAX(version) FROM pack_versions WHERE status='published'") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row is not None and row[0] is not None else None


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

class KnownFiles(Protocol):
    """The files of drafts a caller already holds, by draft id and revision."""

    def get(self, draft_id: int, revision: int) -> Mapping[str, str] | None: ...


DRAFT_FIELDS = ("id, base_version, author, status, editors, approvals, note, published_version, created_at, "
                "updated_at, revision")
"""Every column but `files`."""


def files_json(files: Mapping[str, str], part: Callable[[str], str] = _j) -> str:
    """The `files` column: {name: text} as JSON, each text encoded by `part` (`_j` or one that remembers)."""
    return "{" + ",".join(f"{_j(name)}:{part(text)}" for name, text in files.items()) + "}"


def _draft(row: Any, files: Mapping[str, str]) -> lc.Draft:
    return lc.Draft(id=int(row["id"]), base_version=row["base_version"], files=files,
                    author=row["author"], created_at=row["created_at"], updated_at=row["updated_at"],
                    status=row["status"], editors=tuple(json.loads(row["editors"])),
                    approvals=tuple(json.loads(row["approvals"])), note=row["note"],
                    published_version=row["published_version"])


async def _drafts(db: aiosqlite.Connection, where: str, args: tuple[Any, ...],
                  known: KnownFiles | None) -> list[tuple[lc.Draft, int]]:
    """Drafts with their revisions; files come from `known` when it holds the row's revision."""
    async with db.execute(f"SELECT {DRAFT_FIELDS} FROM pack_drafts {where}", args) as cur:
        rows = await cur.fetchall()
    out = []
    for row in rows:
        files = known.get(int(row["id"]), int(row["revision"])) if known is not None else None
        if files is None:  # read with its revision again: the row may have changed since
            async with db.execute(f"SELECT {DRAFT_FIELDS}, files FROM pack_drafts WHERE id=?", (row["id"],)) as cur:
                full = await cur.fetchone()
            if full is None:
                continue
            row, files = full, json.loads(full["files"])
        out.append((_draft(row, files), int(row["revision"])))
    return out


async def drafts(db: aiosqlite.Connection, open_only: bool = True,
                 known: KnownFiles | None = None) -> list[tuple[lc.Draft, int]]:
    where = "WHERE status IN ('editing','submitted') " if open_only else ""
    return await _drafts(db, where + "ORDER BY id DESC LIMIT 50", (), known)


async def draft(db: aiosqlite.Connection, draft_id: int,
                known: KnownFiles | None = None) -> tuple[lc.Draft, int] | None:
    """The draft and its revision."""
    found = await _drafts(db, "WHERE id=?", (draft_id,), known)
    return found[0] if found else None


async def next_draft_id(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM pack_drafts") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 1


async def save_draft(db: aiosqlite.Connection, draft: lc.Draft, audit: lc.Audit, *, insert: bool = False,
                     part: Callable[[str], str] = _j,
                     held: tuple[int, Mapping[str, str]] | None = None) -> int:
    """The draft's row and its audit entry (inside the caller's unit); returns the row's new revision.

    `held`: the revision the caller last read or wrote and its files. While the row is still at it, only
    the files that differ are sent and SQLite splices them into the stored JSON (`json_set`, in the
    writer's thread, without the GIL); otherwise the whole column is written, each file encoded by `part`.
    """
    meta = (draft.base_version, draft.author, draft.status, _j(list(draft.editors)), _j(list(draft.approvals)),
            draft.note, draft.published_version, draft.created_at, draft.updated_at)
    row = None
    if not insert and held is not None and set(held[1]) <= set(draft.files):
        revision, before = held
        changed = [(f'$."{name}"', text) for name, text in draft.files.items() if before.get(name) != text]
        spliced = f"json_set(files, {', '.join('?, ?' for _ in changed)})" if changed else "files"
        async with db.execute(
                f"UPDATE pack_drafts SET files={spliced}, base_version=?, author=?, status=?, editors=?, approvals=?, "
                "note=?, published_version=?, created_at=?, updated_at=?, revision=revision+1 "
                "WHERE id=? AND revision=? RETURNING revision",
                (*(x for pair in changed for x in pair), *meta, draft.id, revision)) as cur:
            row = await cur.fetchone()
    if row is None:
        values = (files_json(draft.files, part), *meta, draft.id)
        if insert:
            sql = ("INSERT INTO pack_drafts(files, base_version, author, status, editors, approvals, note, "
                   "published_version, created_at, updated_at, id) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                   "RETURNING revision")
        else:
            sql = ("UPDATE pack_drafts SET files=?, base_version=?, author=?, status=?, editors=?, approvals=?, "
                   "note=?, published_version=?, created_at=?, updated_at=?, revision=revision+1 WHERE id=? "
                   "RETURNING revision")
        async with db.execute(sql, values) as cur:
            row = await cur.fetchone()
    await add_audit(db, audit)
    return int(row[0]) if row is not None else 0


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
