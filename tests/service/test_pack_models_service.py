"""The service keeps each pack version's models: a rollback restores them; a broken one never stops the floor."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from assist.app import Running
from assist.config import DEFAULT_PACK, Settings
from assist.problems import PackError
from assist.scripts.pack import read_pack_dir
from assist.server.packs.http import SERVICE_KEY as PACKS_KEY
from tests.conftest import open_client, start_shared
from tests.consoles.conftest import as_user

pytestmark = pytest.mark.small_pack  # a draft's lifecycle: the small pack (tests/conftest.py)

GRIEVANCE = "你们的积分兑换商城东西比外面贵一倍"
OUTAGE = "手机银行转账一直提示系统繁忙"


async def test_a_corrupt_stored_model_runs_the_rules_alone_and_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    first = await start_shared(settings)
    assert first.hub.desk.pack.has_model
    await first.close()
    with sqlite3.connect(settings.db) as db:
        db.execute("UPDATE pack_versions SET model = x'00ff' WHERE version = 1")
    with caplog.at_level(logging.WARNING, logger="assist"):
        second = await start_shared(settings)
    try:
        assert not second.hub.desk.pack.has_model
        assert any("runs on its rules alone" in r.getMessage() for r in caplog.records)
        agent = await open_client(second)
        await agent.call("call.start", call_id="k1", context={})
        said = await agent.call("call.transcript", call_id="k1", speaker="customer", text=OUTAGE)
        assert said["category"] == "system_outage", "the rules still classify"
        await agent.ws.close()
    finally:
        await second.close()


async def test_rollback_restores_the_versions_models(
    service: Running, http_session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    t1 = await as_user(service, http_session, "t1", "trainer")
    t2 = await as_user(service, http_session, "t2", "trainer")
    call = {"context": {}, "notes": [], "transcript": [{"speaker": "customer", "text": GRIEVANCE}]}
    assert (await t1.call("POST", "/api/pack/try", {"call": call}))["category"] == "none"
    agent = await open_client(service)
    await agent.call("call.start", call_id="live-1", context={})
    assert (await agent.call("call.transcript", call_id="live-1", speaker="customer", text=GRIEVANCE))["labels"] == [
        "none"
    ]

    # v2 learns one more sample: its model labels the grievance
    did = (await t1.call("POST", "/api/pack/drafts", {}, expect=201))["id"]
    files = (await t1.call("GET", f"/api/pack/drafts/{did}"))["files"]
    sample = {"id": "t-1", **call, "labels": ["complaint.general"], "why": "product terms"}
    await t1.call(
        "PUT",
        f"/api/pack/drafts/{did}/files",
        {"files": {"samples.jsonl": files["samples.jsonl"] + json.dumps(sample, ensure_ascii=False) + "\n"}},
    )
    await t1.call("POST", f"/api/pack/drafts/{did}/submit")
    await t2.call("POST", f"/api/pack/drafts/{did}/approve")
    assert (await t2.call("POST", f"/api/pack/drafts/{did}/publish"))["version"] == 2
    assert (await t1.call("POST", "/api/pack/try", {"call": call}))["category"] == "complaint.general"
    # the live call's sidebar hears of v2 at once, then of what v2 decides for it
    first = await agent.push("assist.update", call_id="live-1", pack_version="v2")
    assert first["labels"] == ["none"]
    redecided = await agent.push("assist.update", call_id="live-1", pack_version="v2")
    assert redecided["labels"] == ["complaint.general"] and redecided["alert"] is False
    await agent.ws.close()

    # v1, the version before the one in force, is loaded ahead of a rollback (a start does it in the
    # background); from then on rolling back and forth compiles nothing: the packs are taken as they ran
    packs = service.http_runner.app[PACKS_KEY]
    await packs.warm_previous()
    with monkeypatch.context() as patch:
        patch.setattr(packs, "compile", _no_compiling)
        # rolling back to v1 brings v1's rules and v1's models back together
        await t1.call("POST", "/api/pack/versions/1/rollback")
        assert (await t1.call("POST", "/api/pack/try", {"call": call}))["category"] == "none"
        # and rolling forward to v2 brings v2's model back
        assert (await t1.call("POST", "/api/pack/versions/2/rollback"))["version"] == 4
        assert (await t1.call("POST", "/api/pack/try", {"call": call}))["category"] == "complaint.general"
    with sqlite3.connect(service.hub.settings.db) as db:
        models = dict(db.execute("SELECT version, model FROM pack_versions").fetchall())
    assert models[3] == models[1] != models[2] == models[4] and models[1]


async def _no_compiling(files: object) -> None:
    raise AssertionError("compiled a pack this instance already held")


async def test_an_invalid_pack_at_start_fails_cleanly(settings: Settings, tmp_path: Path) -> None:
    """A pack that does not load stops the start with its problems, and leaves no database thread
    behind (a left-over one would keep the process from exiting)."""
    bad = tmp_path / "pack"
    bad.mkdir()
    for name, text in read_pack_dir(DEFAULT_PACK).items():
        (bad / name).write_text(text, encoding="utf-8")
    (bad / "model.yaml").write_text("calls: {system_outage: {alone: high}}\n", encoding="utf-8")
    before = {t.ident for t in threading.enumerate() if "_connection_worker_thread" in t.name}
    with pytest.raises(PackError, match="alone"):
        await start_shared(replace(settings, pack=bad))
    left = [t for t in threading.enumerate() if "_connection_worker_thread" in t.name and t.ident not in before]
    for t in left:
        t.join(timeout=5)
    assert not [t for t in left if t.is_alive()]


async def test_a_rollback_to_the_same_rules_updates_sidebars_and_keeps_every_decision(
    service: Running, http_session: aiohttp.ClientSession
) -> None:
    """Rolling back to the version in force (as a publish that changes only scripts or wording): every live
    sidebar hears of the new version with its labels as they were, and no call is scanned or decided again."""
    t1 = await as_user(service, http_session, "t1", "trainer")
    agent = await open_client(service)
    await agent.call("call.start", call_id="same-1", context={})
    said = await agent.call("call.transcript", call_id="same-1", speaker="customer", text=OUTAGE)
    assert said["category"] == "system_outage"
    in_force = (await t1.call("GET", "/api/pack/current"))["version"]
    rolled = await t1.call("POST", f"/api/pack/versions/{in_force}/rollback")
    update = await agent.push("assist.update", call_id="same-1", pack_version=rolled["pack_version"])
    assert update["labels"] == said["labels"] and update["alert"] is False
    # a rollback after startup compiles the version once and finds it classifies as the one in force did
    classifier = service.hub.desk.pack.classifier
    again = await t1.call("POST", f"/api/pack/versions/{rolled['version']}/rollback")
    await agent.push("assist.update", call_id="same-1", pack_version=again["pack_version"])
    assert service.hub.desk.pack.classifier is classifier, "the classifier in force was kept"
    await agent.ws.close()
