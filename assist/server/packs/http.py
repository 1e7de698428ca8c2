"""The trainer console's HTTP side: the page at /console/trainer and its JSON API under /api/pack/.

Every API call needs a `trainer` token (admin passes): `require_role` gives 401 without a
token and 403 for another role. Errors are `assist.errors` and leave as the JSON error body.
The page itself is static (no secrets in it); it asks for a token and keeps it in
sessionStorage. The API reference is docs/trainer.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import zipfile
from collections.abc import AsyncIterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web

from assist.errors import InvalidFormat, NotFound
from assist.scripts import lifecycle as lc
from assist.scripts.pack_edit import Edit, EditError
from assist.scripts.render import compile_template
from assist.server.packs.service import ALLOWED_FILES, PackService, PackWorkers, check_files
from assist.server.packs.training import ModelTrainer
from assist.server.routing.http import SERVICE_KEY as ROUTING_KEY
from assist.server.web.auth import json_body, require_role
from assist.server.web.console_pages import add_console_page, json_response
from assist.session import Principal

log = logging.getLogger(__name__)

SERVICE_KEY: web.AppKey[PackService] = web.AppKey("pack_service", PackService)
ROLES = ("trainer",)
WARM_AFTER = 5.0
"""Seconds after a start before the previous pack version is loaded ahead of a rollback: after a restart's
reconnections, not among them."""
CENTER_ZONE = "Asia/Shanghai"
"""The center's time zone when no routing file says otherwise (routing `schedule.timezone`)."""
PREVIEW_CONTEXT = {"customer_name": "张先生", "caller_number": "13800001234", "queue": "retail", "call_id": "preview-1"}


def policy_from(settings: Any) -> lc.Policy:
    """Settings `pack_approvals`, `pack_min_accuracy`, `pack_allow_regressions` when the lead adds them."""
    return lc.Policy(
        approvals_required=settings.pack_approvals,
        min_accuracy=settings.pack_min_accuracy or None,
        allow_regressions=settings.pack_allow_regressions,
    )


def add_trainer_routes(
    app: web.Application,
    hub: Any,
    policy: lc.Policy | None = None,
    trainer: ModelTrainer | None = None,
    workers: PackWorkers | None = None,
) -> None:
    service = PackService(
        hub.store,
        hub,
        policy or policy_from(hub.settings),
        clock=hub.clock,
        trainer=trainer,
        try_timeout=hub.settings.try_timeout,
        workers=workers,
    )
    app[SERVICE_KEY] = service

    async def close_worker(_app: web.Application) -> None:
        if service.owns_workers:
            service.workers.close()

    app.on_cleanup.append(close_worker)
    app.cleanup_ctx.append(partial(_warming, service))
    if getattr(getattr(hub, "bus", None), "shared", False):  # instances sharing the database: follow their publishes
        service.listen()
        app.cleanup_ctx.append(partial(_following, service))
    r = app.router
    add_console_page(app, "trainer")
    r.add_get("/api/pack/me", me)
    r.add_get("/api/pack/current", current)
    r.add_post("/api/pack/try", try_published)
    r.add_post("/api/pack/preview", preview)
    r.add_get("/api/pack/versions", versions)
    r.add_get("/api/pack/versions/{version}", version_files)
    r.add_post("/api/pack/versions/{version}/rollback", rollback)
    r.add_get("/api/pack/drafts", drafts)
    r.add_post("/api/pack/drafts", create_draft)
    r.add_get("/api/pack/drafts/{id}", get_draft)
    r.add_put("/api/pack/drafts/{id}/files", put_files)
    r.add_patch("/api/pack/drafts/{id}", patch_draft)
    r.add_post("/api/pack/drafts/{id}/validate", validate)
    r.add_post("/api/pack/drafts/{id}/try", try_draft)
    r.add_post("/api/pack/drafts/{id}/samples", run_samples)
    r.add_get("/api/pack/drafts/{id}/diff", diff)
    r.add_get("/api/pack/drafts/{id}/readiness", readiness)
    for action in ("submit", "approve", "publish", "discard", "rebase"):
        r.add_post(f"/api/pack/drafts/{{id}}/{action}", lifecycle_action)
    r.add_get("/api/pack/jobs/{job}", job)
    r.add_get("/api/pack/audit", audit)
    r.add_post("/api/pack/import", import_pack)
    r.add_get("/api/pack/export", export_pack)


async def _following(service: PackService, _app: web.Application) -> AsyncIterator[None]:
    """The periodic check that the version in force is the store's, while the app runs."""
    task = asyncio.create_task(service.keep_following(), name="packs-follow")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _warming(service: PackService, _app: web.Application) -> AsyncIterator[None]:
    """The previous version loaded in the background a little after the start (`PackService.warm_previous`)."""

    async def warm() -> None:
        await asyncio.sleep(WARM_AFTER)
        try:
            await service.warm_previous()
        except Exception:
            log.exception("packs: could not load the previous version ahead of a rollback")

    task = asyncio.create_task(warm(), name="packs-warm")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# -- helpers ----------------------------------------------------------------------------------------


async def _auth(request: web.Request) -> tuple[PackService, Principal]:
    service = request.app[SERVICE_KEY]
    return service, await require_role(request, service.store, ROLES)


MAX_ID = 2**63 - 1
"""The largest id SQLite stores; a bigger one names nothing."""


def _id(raw: str, name: str) -> int:
    """A version or draft id from a path or query: digits only, and within what the store can hold."""
    raw = raw.lstrip("v")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        raise NotFound(f"no {name} {raw[:20]!r}")
    return int(raw)


def _int(request: web.Request, name: str) -> int:
    return _id(request.match_info[name], name)


async def _draft_json(
    service: PackService, draft: lc.Draft, status: int = 200, extra: Mapping[str, Any] | None = None
) -> web.Response:
    """The draft as the console redraws it: its fields, files, structured data and problems."""
    view = await service.view(draft.files)
    fields = {
        **draft.to_json(),
        "problems": view["problems"],
        "digest": view["digest"],
        "approvals_required": service.policy.approvals_required,
        **(extra or {}),
    }
    return await _with_files(service, fields, draft.files, view["structured"], status)


async def _with_files(
    service: PackService,
    fields: Mapping[str, Any],
    files: Mapping[str, str],
    structured: Mapping[str, Any],
    status: int = 200,
) -> web.Response:
    """`fields` plus `files` and `structured` as one JSON object, each file's part encoded once per text.

    The answer carries the whole pack twice (text and data, ~4 MB with the samples); encoding all of
    it for every save took ~100 ms of the event loop. Unchanged files reuse their encoded text, and
    the rest is joined in a worker thread.
    """

    def body() -> bytes:
        memo = service.files.memo
        parts = [_dumps(k) + b":" + _dumps(v) for k, v in fields.items()]
        parts.append(
            b'"files":{'
            + b",".join(
                _dumps(name) + b":" + memo(("json", text), partial(_dumps, text)) for name, text in files.items()
            )
            + b"}"
        )
        parts.append(
            b'"structured":{'
            + b",".join(
                _dumps(name) + b":" + memo(("json structured", name, files.get(name)), partial(_dumps, value))
                for name, value in structured.items()
            )
            + b"}"
        )
        return b"{" + b",".join(parts) + b"}"

    return web.Response(
        body=await asyncio.to_thread(body), status=status, content_type="application/json", charset="utf-8"
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


# -- handlers ---------------------------------------------------------------------------------------


async def me(request: web.Request) -> web.Response:
    service, who = await _auth(request)
    p = service.policy
    routing = request.app.get(ROUTING_KEY)
    zone = routing.config.schedule.timezone if routing is not None else CENTER_ZONE
    return json_response(
        {
            "user": who.user,
            "role": who.role,
            "lang": who.lang,
            "timezone": zone,
            "policy": {
                "approvals_required": p.approvals_required,
                "min_accuracy": p.min_accuracy,
                "allow_regressions": p.allow_regressions,
            },
        }
    )


async def current(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    version, files = await service.published()
    view = await service.view(files)
    service.worker.warm(files)  # the console opens: drafts start from these files, edits follow
    samples = view["structured"].get("samples.jsonl", [])
    contexts = [{"id": "default", "context": PREVIEW_CONTEXT}] + [
        {"id": s.get("id"), "context": {**s["context"], "call_id": s.get("id")}}
        for s in samples[:30]
        if isinstance(s, dict) and isinstance(s.get("context"), dict)
    ]
    fields = {
        "version": version,
        "in_force": service.hub.desk.pack_version,
        "problems": view["problems"],
        "digest": view["digest"],
        "contexts": contexts,
    }
    return await _with_files(service, fields, files, view["structured"])


async def try_published(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    return json_response(await service.try_published((await json_body(request)).get("call")))


async def preview(request: web.Request) -> web.Response:
    """Render one talking-point template against a context, as the sidebar would."""
    await _auth(request)
    body = await json_body(request)
    template, context = body.get("template"), body.get("context") or PREVIEW_CONTEXT
    if not isinstance(template, str) or not isinstance(context, dict):
        raise InvalidFormat("send {template: text, context: {name: value}}")
    try:
        text = compile_template(template).render_strict(context)
    except ValueError as exc:
        return json_response({"text": None, "error": str(exc)})
    except Exception as exc:  # a template error at render time (sandbox refusal, bad filter)
        return json_response({"text": None, "error": f"template error: {exc}"})
    return json_response({"text": text, "error": None})


async def versions(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    return json_response({"versions": await service.versions()})


async def version_files(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    v = _int(request, "version")
    return json_response({"version": v, "files": await service.version_files(v)})


async def rollback(request: web.Request) -> web.Response:
    service, who = await _auth(request)
    version = await service.rollback(_int(request, "version"), who.user)
    return json_response({"version": version, "pack_version": f"v{version}"})


async def drafts(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    return json_response({"drafts": [d.to_json() for d in await service.drafts()]})


async def create_draft(request: web.Request) -> web.Response:
    service, who = await _auth(request)
    body = await json_body(request)
    files = check_files(body["files"]) if "files" in body else None
    note = str(body.get("note", ""))[:500]
    draft = await service.create_draft(who.user, files, source="upload" if files else "published", note=note)
    return await _draft_json(service, draft, 201)


async def get_draft(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    draft = await service.draft(_int(request, "id"))
    service.worker.warm(draft.files)  # the console opens a draft to edit it: the edit worker reads it meanwhile
    return await _draft_json(service, draft)


async def put_files(request: web.Request) -> web.Response:
    service, who = await _auth(request)
    files = check_files((await json_body(request)).get("files"))
    draft = await service.edit(_int(request, "id"), who.user, files=files)
    return await _draft_json(service, draft)


async def patch_draft(request: web.Request) -> web.Response:
    service, who = await _auth(request)
    raw = (await json_body(request)).get("edits")
    if not isinstance(raw, list) or not raw:
        raise InvalidFormat("edits: a list of {file, path, op, value}")
    try:
        edits = [Edit.from_json(e) for e in raw]
    except EditError as exc:
        raise InvalidFormat(str(exc)) from None
    draft = await service.edit(_int(request, "id"), who.user, edits=edits)
    return await _draft_json(service, draft)


async def validate(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    draft = await service.draft(_int(request, "id"))
    problems = await service.problems(draft.files)
    return json_response({"valid": not problems, "problems": problems})


async def try_draft(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    draft = await service.draft(_int(request, "id"))
    return json_response(await service.try_call(draft.files, (await json_body(request)).get("call")))


async def run_samples(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    draft = await service.draft(_int(request, "id"))
    await service.valid(draft.files)
    return json_response(service.start_samples(draft.id, draft.files).to_json(), status=202)


async def job(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    return json_response(service.job(request.match_info["job"]).to_json())


async def diff(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    draft = await service.draft(_int(request, "id"))
    version, published = await service.published()
    diffs = await service.diff(published, draft.files)
    return json_response({"against": version, "files": [d.to_json() for d in diffs]})


async def readiness(request: web.Request) -> web.Response:
    """What still blocks publishing (runs the samples, so it is a separate call)."""
    service, _ = await _auth(request)
    draft = await service.draft(_int(request, "id"))
    blockers, samples = await service.blockers(draft)
    return json_response(
        {"ready": not blockers, "blockers": blockers, "samples": samples.to_json() if samples else None}
    )


async def lifecycle_action(request: web.Request) -> web.Response:
    service, who = await _auth(request)
    draft_id = _int(request, "id")
    action = request.path.rsplit("/", 1)[-1]
    out: dict[str, Any] = {}
    if action == "publish":
        draft, version = await service.publish(draft_id, who.user)
        out = {"version": version, "pack_version": f"v{version}"}
    else:
        draft = await getattr(service, action)(draft_id, who.user)
    return await _draft_json(service, draft, extra=out)


async def audit(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    raw = request.query.get("draft")
    return json_response({"audit": await service.audit(draft_id=_id(raw, "draft") if raw else None)})


async def import_pack(request: web.Request) -> web.Response:
    """Upload pack files as a new draft: JSON {files}, a multipart form of files, or a zip body."""
    service, who = await _auth(request)
    files: dict[str, str] = {}
    kind = request.content_type
    if kind == "application/json":
        files = check_files((await json_body(request)).get("files"))
    elif kind.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            name = getattr(part, "filename", None) or getattr(part, "name", None)
            data = await part.read() if hasattr(part, "read") else b""  # type: ignore[union-attr]
            if name and name.endswith(".zip"):
                files.update(_unzip(bytes(data)))
            elif name:
                files[Path(name).name] = bytes(data).decode("utf-8")
        files = check_files(files)
    elif kind in ("application/zip", "application/octet-stream"):
        files = check_files(_unzip(await request.read()))
    else:
        raise InvalidFormat("send JSON {files: {name: text}}, a multipart form of files, or a zip")
    draft = await service.create_draft(who.user, files, source="import", note="import")
    return await _draft_json(service, draft, 201)


MAX_UNZIPPED = 8 * 1024 * 1024
"""Largest total size of the pack files inside an imported zip (the default pack is ~100 KB)."""


def _unzip(data: bytes) -> dict[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            wanted = [i for i in z.infolist() if Path(i.filename).name in ALLOWED_FILES]
            if sum(i.file_size for i in wanted) > MAX_UNZIPPED:
                raise InvalidFormat(f"the pack files in this zip are over {MAX_UNZIPPED // 1024 // 1024} MB")
            return {Path(i.filename).name: z.read(i).decode("utf-8") for i in wanted}
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise InvalidFormat(f"not a zip of UTF-8 pack files: {exc}") from None


async def export_pack(request: web.Request) -> web.StreamResponse:
    """Files of a version (default: the published one) or a draft, as JSON or a zip `assist pack check` reads."""
    service, _ = await _auth(request)
    q = request.query
    if "draft" in q:
        files, name = dict((await service.draft(_id(q["draft"], "draft"))).files), f"pack-draft-{q['draft']}"
    elif "version" in q:
        v = _id(q["version"], "version")
        files, name = await service.version_files(v), f"pack-v{v}"
    else:
        v, files = await service.published()
        name = f"pack-v{v}"
    if q.get("format") == "json":
        return json_response({"name": name, "files": files})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for fname, text in sorted(files.items()):
            z.writestr(f"{name}/{fname}", text)
    return web.Response(
        body=buf.getvalue(),
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )
