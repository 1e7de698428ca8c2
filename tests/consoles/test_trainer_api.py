"""The trainer API on the real service: roles, the whole lifecycle, live update to agents, import/export."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

import aiohttp
import pytest

from assist.app import Running
from tests.conftest import Http, open_client
from tests.consoles.conftest import as_user

pytestmark = pytest.mark.small_pack  # a draft's lifecycle: the small pack (tests/conftest.py)

OUTAGE = ("categories", "system_outage", "rules", 0, "any")
CALL = {"transcript": [{"speaker": "customer", "text": "我的手机银行页面全是火星文"}]}

API = [
    ("GET", "/api/pack/me"),
    ("GET", "/api/pack/current"),
    ("POST", "/api/pack/try"),
    ("POST", "/api/pack/preview"),
    ("GET", "/api/pack/versions"),
    ("GET", "/api/pack/versions/1"),
    ("POST", "/api/pack/versions/1/rollback"),
    ("GET", "/api/pack/drafts"),
    ("POST", "/api/pack/drafts"),
    ("GET", "/api/pack/drafts/1"),
    ("PUT", "/api/pack/drafts/1/files"),
    ("PATCH", "/api/pack/drafts/1"),
    ("POST", "/api/pack/drafts/1/validate"),
    ("POST", "/api/pack/drafts/1/try"),
    ("POST", "/api/pack/drafts/1/samples"),
    ("GET", "/api/pack/drafts/1/diff"),
    ("GET", "/api/pack/drafts/1/readiness"),
    ("POST", "/api/pack/drafts/1/submit"),
    ("POST", "/api/pack/drafts/1/approve"),
    ("POST", "/api/pack/drafts/1/publish"),
    ("POST", "/api/pack/drafts/1/discard"),
    ("POST", "/api/pack/drafts/1/rebase"),
    ("GET", "/api/pack/jobs/j1"),
    ("GET", "/api/pack/audit"),
    ("POST", "/api/pack/import"),
    ("GET", "/api/pack/export"),
]


async def test_agent_token_gets_403_and_no_token_401_on_every_trainer_api(
    trainer_service: Running, http_session: aiohttp.ClientSession
) -> None:
    agent = await as_user(trainer_service, http_session, "a1", "agent")
    anonymous = Http(http_session, agent.base, None)
    for method, path in API:
        body = await agent.call(method, path, {}, expect=403)
        assert body["error"]["code"] == "unauthorized", path
        body = await anonymous.call(method, path, {}, expect=401)
        assert body["error"]["code"] == "auth_required", path
    admin = await as_user(trainer_service, http_session, "root", "admin")
    assert (await admin.call("GET", "/api/pack/me"))["role"] == "admin"


async def wait_job(client: Http, job: dict[str, Any]) -> dict[str, Any]:
    seen = []
    while job["state"] == "running":
        seen.append(job["done"])
        await asyncio.sleep(0.05)
        job = await client.call("GET", f"/api/pack/jobs/{job['job']}")
    assert job["done"] == job["total"]
    return job


async def test_edit_try_samples_approve_publish_reaches_a_live_agent_then_rollback(
    trainer_service: Running, http_session: aiohttp.ClientSession
) -> None:
    t1 = await as_user(trainer_service, http_session, "t1", "trainer")
    t2 = await as_user(trainer_service, http_session, "t2", "trainer")
    agent = await open_client(trainer_service)
    await agent.call("call.start", call_id="c1", context={})
    await agent.push("assist.update", call_id="c1")
    await agent.call("call.transcript", call_id="c1", speaker="customer", text="我的手机银行页面全是火星文")

    current = await t1.call("GET", "/api/pack/current")
    words = current["structured"]["rules.yaml"]["categories"]["system_outage"]["rules"][0]["any"]
    assert (await t1.call("POST", "/api/pack/try", {"call": CALL}))["category"] == "none"
    draft = await t1.call("POST", "/api/pack/drafts", {}, expect=201)
    did = draft["id"]
    draft = await t1.call(
        "PATCH",
        f"/api/pack/drafts/{did}",
        {"edits": [{"file": "rules.yaml", "path": list(OUTAGE), "value": [*words, "火星文"]}]},
    )
    assert draft["problems"] == [] and draft["status"] == "editing"
    tried = await t1.call("POST", f"/api/pack/drafts/{did}/try", {"call": CALL})
    assert tried["category"] == "system_outage" and tried["evidence"][0]["words"] == ["火星文"]

    job = await wait_job(t1, await t1.call("POST", f"/api/pack/drafts/{did}/samples", expect=202))
    result = job["result"]
    assert result["passed"] and result["total"] > 100 and {c["category"] for c in result["categories"]} >= {"none"}
    diff = await t1.call("GET", f"/api/pack/drafts/{did}/diff")
    assert diff["files"][0]["items"][0]["added"] == ["火星文"]

    refused = await t1.call("POST", f"/api/pack/drafts/{did}/publish", expect=409)
    assert "approval" in refused["error"]["message"]
    await t1.call("POST", f"/api/pack/drafts/{did}/submit")
    await t1.call("POST", f"/api/pack/drafts/{did}/approve", expect=403)
    approved = await t2.call("POST", f"/api/pack/drafts/{did}/approve")
    assert approved["approvals"] == ["t2"]
    published = await t2.call("POST", f"/api/pack/drafts/{did}/publish")
    version = published["pack_version"]
    # the sidebar hears of the new version at once (labels as they stood), then of the call re-decided under it
    first = await agent.push("assist.update", call_id="c1", pack_version=version)
    assert first["category"] == "none"
    update = await agent.push("assist.update", call_id="c1", pack_version=version)
    assert update["category"] == "system_outage"

    rolled = await t1.call("POST", f"/api/pack/versions/{current['version']}/rollback")
    await agent.push("assist.update", call_id="c1", pack_version=rolled["pack_version"])  # labels stay sticky
    assert trainer_service.hub.desk.pack_version == rolled["pack_version"]
    versions = (await t1.call("GET", "/api/pack/versions"))["versions"]
    assert [v["version"] for v in versions][:3] == [rolled["version"], published["version"], current["version"]]
    assert versions[0]["in_force"]
    actions = [a["action"] for a in (await t1.call("GET", "/api/pack/audit"))["audit"]]
    assert actions[:6] == [
        "pack.rollback",
        "pack.publish",
        "draft.approve",
        "draft.submit",
        "draft.edit",
        "draft.create",
    ]
    await agent.ws.close()


async def test_invalid_edits_are_reported_with_file_line_and_field(
    trainer_service: Running, http_session: aiohttp.ClientSession
) -> None:
    t1 = await as_user(trainer_service, http_session, "t1", "trainer")
    did = (await t1.call("POST", "/api/pack/drafts", {}, expect=201))["id"]
    draft = await t1.call(
        "PATCH",
        f"/api/pack/drafts/{did}",
        {
            "edits": [
                {
                    "file": "scripts.yaml",
                    "path": ["categories", "system_outage", "checklist", 0, "kind"],
                    "value": "colour",
                }
            ]
        },
    )
    problem = draft["problems"][0]
    assert problem["file"] == "scripts.yaml" and problem["line"] and "checklist" in problem["field"]
    refused = await t1.call("POST", f"/api/pack/drafts/{did}/submit", expect=409)
    assert "problem" in refused["error"]["message"]
    bad = await t1.call("PUT", f"/api/pack/drafts/{did}/files", {"files": {"rules.yaml": "a: [b"}})
    assert bad["problems"][0]["file"] == "rules.yaml"
    preview = await t1.call("POST", "/api/pack/preview", {"template": "{{ oops", "context": {}})
    assert preview["text"] is None and "template" in preview["error"]
    await t1.call("PUT", f"/api/pack/drafts/{did}/files", {"files": {"evil.py": "x"}}, expect=400)


@pytest.mark.parametrize("kind", ["json", "zip"])
async def test_export_then_import_round_trips_the_files(
    trainer_service: Running, http_session: aiohttp.ClientSession, kind: str
) -> None:
    t1 = await as_user(trainer_service, http_session, "t1", "trainer")
    files = (await t1.call("GET", "/api/pack/export?format=json"))["files"]
    assert set(files) >= {"pack.yaml", "rules.yaml", "forbidden.yaml", "scripts.yaml", "samples.jsonl"}
    if kind == "json":
        draft = await t1.call("POST", "/api/pack/import", {"files": files}, expect=201)
    else:
        raw = await t1.call("GET", "/api/pack/export")
        names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
        assert all(n.startswith("pack-v1/") for n in names)
        form = aiohttp.FormData()
        form.add_field("file", raw, filename="pack.zip", content_type="application/zip")
        async with http_session.post(
            f"{t1.base}/api/pack/import", data=form, headers={"Authorization": f"Bearer {t1.token}"}
        ) as resp:
            assert resp.status == 201
            draft = await resp.json()
    assert draft["files"] == files and draft["problems"] == []


async def test_console_page_and_modules_are_served(
    trainer_service: Running, http_session: aiohttp.ClientSession
) -> None:
    base = f"http://127.0.0.1:{trainer_service.http_port}"
    async with http_session.get(f"{base}/console/trainer") as resp:
        assert resp.status == 200 and "话术包培训台" in await resp.text()
    async with http_session.get(f"{base}/console/trainer/app.js") as resp:
        assert resp.status == 200 and resp.content_type == "text/javascript"
    async with http_session.get(f"{base}/console/trainer/__init__.py") as resp:
        assert resp.status == 404
    async with http_session.get(f"{base}/console/shared/dom.js") as resp:  # what both consoles import
        assert resp.status == 200 and resp.content_type == "text/javascript"
        assert "export function h(" in await resp.text()
    for path in ("/console/shared/__init__.py", "/console/shared/..%2Ftrainer%2Fapp.js", "/console/shared"):
        async with http_session.get(base + path) as resp:
            assert resp.status == 404, path


async def test_deleting_the_samples_a_change_breaks_does_not_get_it_past_the_gate(
    trainer_service: Running, http_session: aiohttp.ClientSession
) -> None:
    t1 = await as_user(trainer_service, http_session, "t1", "trainer")
    did = (await t1.call("POST", "/api/pack/drafts", {}, expect=201))["id"]
    # Break outage detection (its first rule's keywords become one nonsense word) and delete every sample.
    await t1.call(
        "PATCH", f"/api/pack/drafts/{did}", {"edits": [{"file": "rules.yaml", "path": list(OUTAGE), "value": ["zzzz"]}]}
    )
    emptied = await t1.call("PUT", f"/api/pack/drafts/{did}/files", {"files": {"samples.jsonl": ""}})
    # Without samples the learned model cannot be trained: the draft says so, naming each category...
    assert any("'system_outage' has 0 sample call(s)" in p["message"] for p in emptied["problems"])
    # ...and with the model switched off, the published samples still judge the change.
    await t1.call("PUT", f"/api/pack/drafts/{did}/files", {"files": {"model.yaml": "enabled: false\n"}})
    job = await wait_job(t1, await t1.call("POST", f"/api/pack/drafts/{did}/samples", expect=202))
    assert job["result"]["total"] == len(trainer_service.hub.desk.pack.samples), "the published samples still run"
    assert not job["result"]["passed"]
