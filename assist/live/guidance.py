"""What the sidebar shows for a call: a pure function of the pack, the labels and the context.

Talking points, steps, checklist and forbidden phrases are gathered for every label,
primary first, so an agent on a call that is both a complaint and an outage sees both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assist import messages
from assist.classifier.model import Classification
from assist.scripts.pack import Pack


def template_context(call_id: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Values a talking point may use: the call's context keys, plus call_id."""
    values = {k: v for k, v in context.items() if isinstance(k, str)}
    values["call_id"] = call_id
    return values


def assist_update(
    pack: Pack, pack_version: str, call_id: str, context: Mapping[str, Any], result: Classification, lang: str
) -> dict[str, Any]:
    """The `assist.update` push for a call (see docs/protocol.md)."""
    fallback = pack.default_language
    lang = lang if lang in pack.languages else fallback
    values = template_context(call_id, context)
    talking_points: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    checklist: list[dict[str, Any]] = []
    seen_fields: dict[str, dict[str, Any]] = {}
    forbidden: list[dict[str, Any]] = []
    seen_rules: set[str] = set()
    route: list[str] = []
    for label in result.labels:
        script = pack.scripts.get(label)
        if script is None:
            continue
        for tp in script.talking_points:
            talking_points.append({"id": tp.id, "category": label, "text": tp.render(lang, values, fallback)})
        for step in script.steps.get(lang) or script.steps.get(fallback, ()):
            steps.append({"category": label, "text": step})
        for f in script.checklist:
            shown = seen_fields.get(f.id)
            if shown is None:  # a field several categories ask for is shown once, under the first
                shown = seen_fields[f.id] = {
                    **f.to_json(lang, fallback),
                    "category": label,
                    "forms": [],
                    "required_in": [],
                }
                checklist.append(shown)
            shown["forms"].append(label)
            if f.required:  # `required` is the first category's: another may require the field, or not
                shown["required_in"].append(label)
        for role in script.route:
            if role not in route:
                route.append(role)
        for phrase in pack.forbidden.phrases(label, lang):
            rule = str(phrase.get("rule"))
            if rule not in seen_rules:
                seen_rules.add(rule)
                forbidden.append(phrase)
    return messages.assist_update(
        call_id,
        {
            "category": result.category,
            "category_name": pack.category_name(result.category, lang),
            "labels": list(result.labels),
            "label_names": [pack.category_name(c, lang) for c in result.labels],
            "evidence": [e.to_json() for e in result.evidence],
            "decided_by": result.decided_by,
            "talking_points": talking_points,
            "steps": steps,
            "checklist": checklist,
            "forbidden_phrases": forbidden,
            "route": route,
            "pack_version": pack_version,
        },
    )
