"""The trainers' feedback queue over HTTP, under /api/feedback/ (role `trainer`; admin passes).

No or an invalid token: 401 `auth_required`; another role: 403 `unauthorized`; a body that is not
JSON: 400 `invalid_json`; a wrong field: 400 `invalid_format` or `validation_failed`; an unknown
item: 404 `not_found`; an item already decided: 409 `conflict`. The reference is docs/trainer.md.
"""

from __future__ import annotations

from aiohttp import web

from assist.errors import InvalidFormat
from assist.feedback.agreement import MAX_DAYS
from assist.feedback.items import KINDS, STATUSES
from assist.server.feedback.service import FeedbackService
from assist.server.packs.http import SERVICE_KEY
from assist.server.web.auth import json_body, require_role
from assist.server.web.console_pages import json_response
from assist.session import Principal

FEEDBACK_KEY: web.AppKey[FeedbackService] = web.AppKey("feedback_service", FeedbackService)
ROLES = ("trainer",)
MAX_LIMIT = 500


def add_feedback_routes(app: web.Application, feedback: FeedbackService) -> None:
    app[FEEDBACK_KEY] = feedback
    r = app.router
    r.add_get("/api/feedback/items", list_items)
    r.add_get("/api/feedback/items/{id}", get_item)
    r.add_post("/api/feedback/items/{id}/accept", accept)
    r.add_post("/api/feedback/items/{id}/reject", reject)
    r.add_get("/api/feedback/agreement", agreement)


async def _auth(request: web.Request) -> tuple[FeedbackService, Principal]:
    service = request.app[FEEDBACK_KEY]
    return service, await require_role(request, service.hub.store, ROLES)


def _choice(request: web.Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query.get(name, default)
    if value not in allowed:
        raise InvalidFormat(f"{name} must be one of {', '.join(allowed)}")
    return value


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidFormat(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


async def list_items(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    status = _choice(request, "status", (*STATUSES, "all"), "open")
    kind = _choice(request, "kind", (*KINDS, "all"), "all")
    found, open_count = await service.items(status, kind, _int(request, "limit", 100, 1, MAX_LIMIT))
    return json_response({"items": [i.summary() for i in found], "open": open_count})


async def get_item(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    return json_response((await service.item(request.match_info["id"])).to_json())


async def accept(request: web.Request) -> web.Response:
    service, who = await _auth(request)
    body = await json_body(request)
    labels = body.get("labels")
    if "label" in body:
        labels = [body["label"]]
    if labels is not None and (not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)):
        raise InvalidFormat("labels: a list of category ids (or label: one category id)")
    note = body.get("note", "")
    draft_id = body.get("draft_id")
    if not isinstance(note, str):
        raise InvalidFormat("note: text")
    if draft_id is not None and (not isinstance(draft_id, int) or isinstance(draft_id, bool)):
        raise InvalidFormat("draft_id: a draft number")
    item, draft, file = await service.accept(
        request.match_info["id"],
        who.user,
        request.app[SERVICE_KEY],
        service.hub.clock(),
        labels=labels,
        note=note,
        draft_id=draft_id,
    )
    return json_response({"item": item.to_json(), "draft": draft.to_json(), "file": file, "sample_id": item.sample_id})


async def reject(request: web.Request) -> web.Response:
    service, who = await _auth(request)
    reason = (await json_body(request)).get("reason", "")
    if not isinstance(reason, str):
        raise InvalidFormat("reason: text")
    item = await service.reject(request.match_info["id"], who.user, reason, service.hub.clock())
    return json_response({"item": item.to_json()})


async def agreement(request: web.Request) -> web.Response:
    service, _ = await _auth(request)
    days = _int(request, "days", 30, 1, MAX_DAYS)
    return json_response(await service.agreement(days, service.hub.clock()))
