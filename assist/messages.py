"""Every message the server sends, built in one place (inbound shapes are `protocol.py`).

A `result` answers each command by its `id`; pushes carry no `id`. docs/protocol.md documents
each type (a test checks that every push type here is documented there).
"""

from __future__ import annotations

from typing import Any

import msgspec

Message = dict[str, Any]

PUSH_TYPES: tuple[str, ...] = (
    "assist.update",
    "assist.warning",
    "call.ended",
    "escalation.event",
    "fault.event",
    "assist.notice",
    "calls.delta",
    "call.escalation",
)


def result(cid: int, payload: dict[str, Any] | None = None) -> Message:
    return {"id": cid, "type": "result", "success": True, **(payload or {})}


def error(cid: int | None, err: dict[str, Any]) -> Message:
    return {"id": cid, "type": "result", "success": False, "error": err}


def auth_ok(user: str, role: str, lang: str) -> Message:
    return {"type": "auth_ok", "user": user, "role": role, "lang": lang}


def auth_invalid(message: str) -> Message:
    return {"type": "auth_invalid", "message": message}


def assist_update(call_id: str, body: dict[str, Any]) -> Message:
    """What the sidebar shows for a call (`live/guidance.py` decides the body)."""
    return {"type": "assist.update", "call_id": call_id, **body}


def assist_warning(call_id: str, index: int, hit: dict[str, Any]) -> Message:
    """A forbidden phrase in the agent's line `index` (`hit`: rule, phrase, span, alternative, by)."""
    return {"type": "assist.warning", "call_id": call_id, "index": index, **hit}


def call_ended(call_id: str) -> Message:
    return {"type": "call.ended", "call_id": call_id}


def escalation_event(event: str, at: float, by: str, **fields: Any) -> Message:
    """A change a shift leader's board shows (a new escalation, a step fired, a report, a notification)."""
    return {"type": "escalation.event", "event": event, "at": at, "by": by, **fields}


def call_escalation(call_id: str, event: str, at: float, by: str, escalation: dict[str, Any]) -> Message:
    """An escalation of a call was filed or changed, by anyone (the agent's sidebar, the softphone, a leader):
    to the call's watchers, so the sidebar shows 已上报 and where it stands. `escalation` is its
    `to_json()`; the agent gets what it is and where it stands, not the leaders' notes or recipients."""
    summary = {
        k: escalation.get(k)
        for k in ("escalation_id", "kind", "title", "status", "opened_at", "opened_by", "resolved_at", "resolved_by")
    }
    summary["acked_by"] = [a["user"] for a in escalation.get("acks") or ()]
    return {"type": "call.escalation", "call_id": call_id, "event": event, "at": at, "by": by, "escalation": summary}


def escalation_notify(key: str, escalation_id: str, step: str, text: str) -> Message:
    """A notification for a person whose channel is the console (the outbox's `console` notifier)."""
    return {
        "type": "escalation.event",
        "event": "notify",
        "key": key,
        "escalation_id": escalation_id,
        "step": step,
        "text": text,
    }


def fault_event(event: str, at: float, by: str, **fields: Any) -> Message:
    """A declared fault changed (opened, recovered, linked, …): to the leaders' consoles."""
    return {"type": "fault.event", "event": event, "at": at, "by": by, **fields}


def calls_delta(subscription: int, now: float, total: int, calls: list[dict[str, Any]], gone: list[str]) -> Message:
    """Live calls that started or changed (`calls`: their rows) and ended (`gone`), to a leader's subscription."""
    return {
        "type": "calls.delta",
        "subscription": subscription,
        "now": now,
        "total": total,
        "calls": calls,
        "gone": gone,
    }


def assist_notice(notice: str, **fields: Any) -> Message:
    """A notice to live sidebars that is not about one call's category (an open fault, an incident)."""
    return {"type": "assist.notice", "notice": notice, **fields}


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, str):  # str subclasses (e.g. from YAML) encode as plain text
        return str(obj)
    raise TypeError(f"cannot encode {type(obj).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)


def encode(message: Message) -> str:
    return _ENCODER.encode(message).decode()
