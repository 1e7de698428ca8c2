"""Backup while serving, restore, serve the restored data; retention through the store's writer; file modes."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from assist.app import Running
from assist.config import DEFAULT_PACK, Settings
from assist.server.ops.backup import BackupError, backup, restore
from assist.server.ops.crypto import key_file_for
from assist.server.ops.retention import DAY, purge
from tests.conftest import Http, open_client, start_shared

ASSIST = [sys.executable, "-m", "assist"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ASSIST, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
async def test_backup_while_serving_then_restore_and_serve_it(
    service: Running, tmp_path: Path, http_session: aiohttp.ClientSession
) -> None:
    agent = await open_client(service, user="a1001", role="agent")
    await agent.call("call.start", call_id="b-1", context={"queue": "ebanking"})
    await agent.call("call.transcript", call_id="b-1", speaker="customer", text="手机银行转账一直提示系统繁忙，转不了")
    await agent.call("call.end", call_id="b-1", disposition="resolved")
    leader_token = await service.store.issue_token("s1", "shift_leader", time.time())
    await agent.call("call.start", call_id="b-2", context={})  # a live call while the backup runs

    dest = tmp_path / "backups" / "assist-backup.db"
    dest.parent.mkdir()
    db = service.store.path
    for f in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        assert mode(f) == 0o600, f"{f.name}: the database and its WAL and shared memory are the service's alone"
    umask = os.umask(0o022)
    try:
        done = await asyncio.to_thread(cli, "backup", str(dest), "--db", str(service.store.path))
    finally:
        os.umask(umask)
    assert done.returncode == 0, done.stderr
    assert "backed up" in done.stdout and "2 calls" in done.stdout
    assert mode(dest) == 0o600
    await agent.call("call.note", call_id="b-2", text="备份之后")  # the service went on serving

    new_db = tmp_path / "restored" / "assist.db"
    restored = await asyncio.to_thread(cli, "restore", str(dest), "--db", str(new_db))
    assert restored.returncode == 0, restored.stderr
    assert mode(new_db) == 0o600 and mode(new_db.parent) == 0o700

    # The restored database is elsewhere: it reads with the key it was sealed with (docs/operations.md).
    settings = Settings(ws_port=0, http_port=0, db=new_db, pack=DEFAULT_PACK, data_key_file=key_file_for(db))
    again = await start_shared(settings)
    try:
        assert again.hub.desk.pack_version == "v1", "the pack version came back; nothing was re-imported"
        api = Http(http_session, f"http://127.0.0.1:{again.http_port}", leader_token)  # a token from before
        ended = await api.call("GET", "/api/leader/calls/b-1")
        assert ended["category"] == "system_outage" and not ended["live"]
        assert ended["transcript"][0]["text"] == "手机银行转账一直提示系统繁忙，转不了"
        live = await api.call("GET", "/api/leader/calls")
        assert [c["call_id"] for c in live["calls"]] == ["b-2"], "the call live at backup time is taken back"
        refused = await asyncio.to_thread(cli, "restore", str(dest), "--db", str(new_db))
        assert refused.returncode == 1 and "stop it before restoring" in refused.stderr
    finally:
        await again.close()
    # stopped: a restore over it keeps the replaced database beside it
    counts, kept = await asyncio.to_thread(restore, dest, new_db)
    assert counts["calls"] == 2 and kept is not None and kept.exists() and mode(kept) == 0o600


def test_backup_and_restore_refuse_what_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="not a readable SQLite database"):
        restore(junk, tmp_path / "assist.db")
    assert not (tmp_path / "assist.db").exists()
    with pytest.raises(BackupError, match="no database"):
        backup(tmp_path / "missing.db", tmp_path / "out.db")


async def test_retention_purges_old_words_and_keeps_the_record(service: Running) -> None:
    now = service.hub.clock()
    agent = await open_client(service, user="a1001", role="agent")
    context = {"customer_name": "张伟", "caller_number": "13812345678", "queue": "ebanking"}
    for call_id in ("old", "new"):
        await agent.call("call.start", call_id=call_id, context=context)
        await agent.call("call.transcript", call_id=call_id, speaker="customer", text="手机银行转账一直提示系统繁忙")
        await agent.call("call.note", call_id=call_id, text="张伟 13812345678 转账失败")
        await agent.call("call.end", call_id=call_id, disposition="resolved")
    db = service.store.db
    async with service.store.unit() as w:  # "old" happened 200 days ago
        await w.execute("UPDATE call_events SET at = at - ? WHERE call_id='old'", (200 * DAY,))
        await w.execute("UPDATE calls SET started_at = started_at - ? WHERE call_id='old'", (200 * DAY,))

    done = await purge(service.store, now, 180)
    assert done.events == 2 and done.contexts == 1  # its transcript line and note, nothing of "new"

    async def kinds(call_id: str) -> list[str]:
        async with db.execute("SELECT kind FROM call_events WHERE call_id=? ORDER BY id", (call_id,)) as cur:
            return [r[0] async for r in cur]

    assert "note" not in await kinds("old") and "transcript" not in await kinds("old")
    assert {"note", "transcript"} <= set(await kinds("new"))
    old = await service.store.call_history("old")
    assert old is not None and old["category"] == "system_outage" and old["disposition"] == "resolved"
    assert old["context"] == {"customer_name": "张*", "caller_number": "138****5678", "queue": "ebanking"}
    new = await service.store.call_history("new")
    assert new is not None and new["context"] == context
    async with db.execute("SELECT COUNT(*) FROM classifications WHERE call_id='old'") as cur:
        row = await cur.fetchone()
        assert row is not None and row[0] >= 1, "classifications are kept"
    assert (await purge(service.store, now, 180)).events == 0, "a second purge finds nothing"


@pytest.mark.slow
def test_purge_command_and_file_modes_under_a_loose_umask(tmp_path: Path) -> None:
    db = tmp_path / "data" / "assist.db"
    old = os.umask(0o022)
    try:
        issued = cli("token", "issue", "--user", "a1", "--role", "agent", "--db", str(db))
        assert issued.returncode == 0, issued.stderr
        purged = cli("purge", "--db", str(db), "--days", "30")
    finally:
        os.umask(old)
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith("purged 0 note/transcript/context event(s)")
    assert mode(db) == 0o600
    for side in ("-wal", "-shm"):
        f = db.with_name(db.name + side)
        if f.exists():
            assert mode(f) == 0o600, side
    assert mode(db.parent) == 0o700
