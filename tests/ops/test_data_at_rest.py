"""Customer data at rest: after a scripted day on the real service, no raw customer value is in the database
file or its WAL, while the leader console's API still shows them to a leader; a wrong or missing key stops
the service at start with a clear message; `assist rekey` moves the data to a new key. The same day on
PostgreSQL leaves no raw customer value in any column, read with psycopg past the store."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import aiohttp
import psycopg
import pytest

from assist.app import Running
from assist.cli import main
from assist.config import DEFAULT_PACK, Settings
from assist.server.ops.crypto import PREFIX, Cipher, DataKeyError, key_file_for, key_id, new_key
from assist.server.routing import store as routing_store
from assist.server.schema import SCHEMA
from assist.server.store import Store
from tests.conftest import Http, open_client, start_shared
from tests.ops.test_logs import PEOPLE, RAW, _day
from tests.pgcluster import DATA_KEY, Cluster

MORE = ["欧阳娜娜", "13566667777", "320102198811112222", "6228480099998888777", "Marguerite Okonkwo"]
"""Values this test's own steps add (a leader's note and resolution, an agent's feedback, a record)."""


def _forms(value: str) -> list[bytes]:
    """How a value could sit in the file in clear: its UTF-8 bytes, and its JSON form with non-ASCII escaped."""
    return [value.encode(), json.dumps(value)[1:-1].encode()]


def _file(settings: Settings) -> Path:
    """These tests read the SQLite file itself (the PostgreSQL test reads its columns instead)."""
    assert isinstance(settings.db, Path), "a SQLite test"
    return settings.db


def _found(files: list[Path], values: list[str]) -> dict[str, list[str]]:
    data = {f.name: f.read_bytes() for f in files if f.exists()}
    return {
        v: [name for name, raw in data.items() if any(form in raw for form in _forms(v))]
        for v in values
        if any(form in raw for raw in data.values() for form in _forms(v))
    }


async def _more(running: Running, tokens: dict[str, str]) -> tuple[str, str]:
    """A call with a record, feedback, and a leader's note and resolution, all naming the customer; returns the
    call id and the escalation id."""
    agent = await open_client(running, tokens["agent"])
    leader = await open_client(running, tokens["shift_leader"])
    await agent.call(
        "call.start",
        call_id="day-4",
        context={
            "customer_name": "欧阳娜娜",
            "phone": "13566667777",
            "id_number": "320102198811112222",
            "account": "6228480099998888777",
            "note_en": "Marguerite Okonkwo",
        },
    )
    await agent.call(
        "call.transcript",
        call_id="day-4",
        speaker="customer",
        text="我是欧阳娜娜，账户6228480099998888777，我要投诉你们的服务太差",
    )
    await agent.call("call.note", call_id="day-4", text="欧阳娜娜 13566667777 要投诉 Marguerite Okonkwo 陪同")
    record = await agent.call(
        "record.submit",
        call_id="day-4",
        form="complaint.general",
        fields={
            "customer_name": "欧阳娜娜",
            "phone": "13566667777",
            "complaint": "服务差，账户6228480099998888777",
            "demand": "道歉",
            "settled_on_call": "no",
        },
    )
    assert record["kind"] == "escalation", record
    fb = await agent.call(
        "feedback.category", call_id="day-4", category="none", comment="欧阳娜娜其实是咨询 13566667777"
    )
    assert fb["success"], fb
    eid = record["escalation_id"]
    assert (await leader.call("escalation.note", escalation_id=eid, text="已回电欧阳娜娜 13566667777"))["success"]
    done = await leader.call(
        "escalation.resolve", escalation_id=eid, resolution="向欧阳娜娜道歉，身份证320102198811112222已核实"
    )
    assert done["success"], done
    await agent.call("call.end", call_id="day-4", disposition="resolved")
    await agent.ws.close()
    await leader.ws.close()
    return "day-4", eid


def test_the_default_pack_holds_none_of_the_scripted_days_customer_values() -> None:
    """The pack is stored with each version and is not customer data, so a value the day sends that a sample
    happens to contain would be found in the file without any leak; the day's values must stay apart from it."""
    pack_text = "".join(path.read_text(encoding="utf-8") for path in sorted(DEFAULT_PACK.rglob("*")) if path.is_file())
    assert [value for value in RAW + MORE if value in pack_text] == [], "pick values no pack file contains"


async def test_a_scripted_day_leaves_no_customer_value_in_the_database_files(routing_settings: Settings) -> None:
    running = await start_shared(routing_settings)
    try:
        tokens = {
            role: await running.store.issue_token(user, role.rstrip("2"), time.time()) for role, user in PEOPLE.items()
        }
        await _day(running.ws_port, running.http_port, tokens)
        call_id, eid = await _more(running, tokens)
        db = running.store.path
        files = [db, db.with_name(db.name + "-wal")]
        assert files[1].stat().st_size > 0, "the day's writes are in the WAL, which the scan reads too"
        assert "王班长" in _found(files, ["王班长"]), "the scan finds what is kept in clear (a staff member's name)"
        assert _found(files, RAW + MORE) == {}
    finally:
        await running.close()
    assert _found(files, RAW + MORE) == {}, "nor once the log is checkpointed into the file"

    # A leader still reads them, decrypted, through the console's API and the escalation list, after a restart.
    again = await start_shared(routing_settings)
    try:
        await _read_back(again, tokens, call_id, eid)
    finally:
        await again.close()


async def _read_back(again: Running, tokens: dict[str, str], call_id: str, eid: str) -> None:
    """What a leader reads of the day (the console's API, the escalation list): every value decrypted."""
    async with aiohttp.ClientSession() as session:
        leader = Http(session, f"http://127.0.0.1:{again.http_port}", tokens["shift_leader"])
        detail = await leader.call("GET", f"/api/leader/calls/{call_id}")
        day1 = await leader.call("GET", "/api/leader/calls/day-1")
    assert detail["context"]["customer_name"] == "欧阳娜娜" and detail["context"]["phone"] == "13566667777"
    assert "我是欧阳娜娜，账户6228480099998888777" in detail["transcript"][0]["text"]
    assert detail["records"][0]["fields"]["customer_name"] == "欧阳娜娜"
    assert day1["context"]["id_number"] == "11010119900307123X"
    assert any("卡号6222021234567890123" in line["text"] for line in day1["transcript"])
    leader_ws = await open_client(again, tokens["shift_leader"])
    listed = await leader_ws.call("escalation.list", status="all")
    esc = next(e for e in listed["escalations"] if e["escalation_id"] == eid)
    assert esc["resolution"] == "向欧阳娜娜道歉，身份证320102198811112222已核实"
    assert [n["text"] for n in esc["notes"]] == ["已回电欧阳娜娜 13566667777"]
    assert esc["subject"]["customer_name"] == "欧阳娜娜"
    await leader_ws.ws.close()


def _found_pg(url: str, values: list[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Where each value sits in clear in any text column of the store's tables, read with psycopg (past the
    store and its cipher); and one stored value of each sealed column, as stored."""
    found: dict[str, list[str]] = {}
    stored: dict[str, str] = {}
    sealed = set(SCHEMA.sealed())
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = 'text'"
        ).fetchall()
        for table, column in columns:
            cells = [
                r[0] for r in conn.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> %s', ("",)).fetchall()
            ]
            for v in values:
                if any(form.decode() in cell for cell in cells for form in _forms(v)):
                    found.setdefault(v, []).append(f"{table}.{column}")
            if (table, column) in sealed and cells:
                stored[f"{table}.{column}"] = cells[0]
    return found, stored


async def test_on_postgresql_a_scripted_day_leaves_no_customer_value_in_any_column(
    routing_settings: Settings, pg_cluster: Cluster
) -> None:
    url = pg_cluster.fresh_url()
    settings = dataclasses.replace(routing_settings, db=url, data_key=DATA_KEY)
    running = await start_shared(settings)
    try:
        assert running.store.file is None, "on PostgreSQL"
        tokens = {
            role: await running.store.issue_token(user, role.rstrip("2"), time.time()) for role, user in PEOPLE.items()
        }
        await _day(running.ws_port, running.http_port, tokens)
        call_id, eid = await _more(running, tokens)
        stored_call = await running.store.call_history(call_id)
        assert stored_call is not None and stored_call["context"]["customer_name"] == "欧阳娜娜", (
            "the store's reads open what its writer sealed"
        )
    finally:
        await running.close()
    found, stored = _found_pg(url, ["王班长", *RAW, *MORE])
    assert found == {"王班长": found.get("王班长", [])} and found["王班长"], (
        "only what is kept in clear (a staff member's name) is found; no customer value is"
    )
    for column in (
        "calls.context",
        "call_events.payload",
        "routing_records.fields",
        "routing_escalations.notes",
        "routing_escalations.resolution",
        "feedback_items.comment",
    ):
        assert stored[column].startswith(PREFIX), (column, stored[column][:40])

    again = await start_shared(settings)  # a restart reads them back with the key
    try:
        await _read_back(again, tokens, call_id, eid)
    finally:
        await again.close()
    with pytest.raises(DataKeyError, match=r"does not open postgresql://assist@/postgres.*which is sealed with key"):
        await Store.open(url, SCHEMA, Cipher(new_key(), "another key"))


async def _one_call(running: Running) -> None:
    agent = await open_client(running)
    await agent.call("call.start", call_id="k-1", context={"customer_name": "欧阳娜娜", "phone": "13566667777"})
    await agent.call("call.note", call_id="k-1", text="欧阳娜娜 账户6228480099998888777")
    assert (await agent.call("call.escalate", call_id="k-1", kind="complaint", reason="欧阳娜娜要投诉"))["success"]
    await agent.ws.close()


async def test_a_wrong_or_missing_key_stops_the_service_at_start_and_no_new_key_is_made(settings: Settings) -> None:
    running = await start_shared(settings)
    await _one_call(running)
    await running.close()
    key_file = key_file_for(_file(settings))
    assert key_file.stat().st_mode & 0o777 == 0o600, "the generated key file is the service user's alone"

    other = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(DataKeyError, match=r"does not open .*assist\.db, which is sealed with key"):
        await start_shared(dataclasses.replace(settings, data_key=other))
    with pytest.raises(DataKeyError, match="has 5 bytes; it must have 32"):
        await start_shared(dataclasses.replace(settings, data_key="c2hvcnQ="))

    key_file.rename(key_file.with_name("elsewhere"))
    with pytest.raises(DataKeyError, match=r"there is no key file .*assist\.db\.key: put the key file back"):
        await start_shared(settings)
    assert not key_file.exists(), "a sealed database is never given a new key"

    # The operator's view: `assist serve` says so in one line and exits 1, with no traceback.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "assist",
        "serve",
        "--db",
        str(settings.db),
        "--ws-port",
        "0",
        "--http-port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ASSIST_DATA_KEY": other},
    )
    out, err = await proc.communicate()
    assert proc.returncode == 1, (out, err)
    assert err.decode().startswith("assist: cannot open the database: the data key") and b"Traceback" not in err

    key_file.with_name("elsewhere").rename(key_file)
    running = await start_shared(settings)  # the right key again: the call reads back
    try:
        stored = await running.store.call_history("k-1")
        assert stored is not None and stored["context"]["customer_name"] == "欧阳娜娜"
    finally:
        await running.close()


async def test_backup_restored_elsewhere_reads_only_with_its_key(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running = await start_shared(settings)
    await _one_call(running)
    await running.close()
    sealed_by = key_id(base64.b64decode(key_file_for(_file(settings)).read_text()))
    copy = tmp_path / "backup.db"
    assert await asyncio.to_thread(main, ["backup", str(copy), "--db", str(settings.db)]) == 0
    assert f"sealed with data key {sealed_by}: it is read only with that key" in capsys.readouterr().out
    assert _found([copy], MORE) == {}, "a backup holds the sealed values as they are"

    moved = dataclasses.replace(settings, db=tmp_path / "other" / "assist.db")
    assert await asyncio.to_thread(main, ["restore", str(copy), "--db", str(moved.db)]) == 0
    assert f"sealed with data key {sealed_by}" in capsys.readouterr().out
    with pytest.raises(DataKeyError, match="no key file"):
        await start_shared(moved)
    running = await start_shared(dataclasses.replace(moved, data_key=key_file_for(_file(settings)).read_text().strip()))
    try:
        stored = await running.store.call_history("k-1")
        assert stored is not None and stored["context"]["phone"] == "13566667777"
    finally:
        await running.close()


async def test_rekey_moves_every_value_to_a_new_key_and_seals_values_from_before(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    running = await start_shared(settings)
    await _one_call(running)
    await running.close()
    # A call written before encryption existed: plain text in the sealed columns. Started today: a call
    # older than retention_days has its context masked by the purge the restarted service runs (on a busy
    # machine that purge came before the read below).
    with sqlite3.connect(_file(settings)) as db:
        db.execute(
            "INSERT INTO calls(call_id, user, context, started_at) VALUES ('old-1', 'a1001', ?, ?)",
            (json.dumps({"customer_name": "Marguerite Okonkwo"}), time.time()),
        )
    file = _file(settings)
    db_files = [file, file.with_name(file.name + "-wal")]
    assert "Marguerite Okonkwo" in _found(db_files, ["Marguerite Okonkwo"])
    key_file = key_file_for(_file(settings))
    old_key = key_file.read_text().strip()

    assert await asyncio.to_thread(main, ["rekey", "--db", str(settings.db)]) == 0
    said = capsys.readouterr().out
    assert "re-encrypted" in said and "retired-" in said
    assert key_file.read_text().strip() != old_key and key_file.stat().st_mode & 0o777 == 0o600
    retired = list(key_file.parent.glob("assist.db.key.retired-*"))
    assert [r.read_text().strip() for r in retired] == [old_key], "the old key is kept for older backups"
    assert _found(db_files, [*MORE, "Marguerite Okonkwo"]) == {}

    with pytest.raises(DataKeyError, match="does not open"):
        await start_shared(dataclasses.replace(settings, data_key=old_key))
    running = await start_shared(settings)
    try:
        new = await running.store.call_history("k-1")
        old = await running.store.call_history("old-1")
        assert new is not None and new["context"]["customer_name"] == "欧阳娜娜"
        assert old is not None and old["context"]["customer_name"] == "Marguerite Okonkwo"
        trail = await routing_store.audit_trail(running.store.db)
        assert any("欧阳娜娜要投诉" in json.dumps(a["detail"], ensure_ascii=False) for a in trail), (
            "the append-only audit trail was re-sealed too (and its guard is back)"
        )
    finally:
        await running.close()
    with sqlite3.connect(_file(settings)) as con, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE routing_audit SET who='x'")


@pytest.mark.parametrize("command", ["rekey", "backup", "restore"])
def test_file_commands_refuse_postgresql_and_point_to_the_docs(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://assist:secret@db.example/assist"  # never connected to: refused before
    args = [command] if command == "rekey" else [command, str(tmp_path / "copy.db")]
    assert main([*args, "--db", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"assist: {command} ") and "docs/operations.md" in err and len(err.splitlines()) == 1
    assert "secret" not in err and not (tmp_path / "copy.db").exists()
