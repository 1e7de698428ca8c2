"""What the sidebar shows for a call: a pure function of the pack, the labels and the context.

Talking points, steps, checklist and forbidden phrases are gathered for every label,
primary first, so an agent on a call that is both a complaint and an outage sees both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assist import messages
from assist.classifier.model import Classification
from assist.scripts.category_scripts import TalkingPoint
from assist.scripts.pack import Pack
from assist.scripts.render import unknown_variables

MAX_SHOWN = 512
"""Label sets (with a language) whose guidance a `Guidance` keeps; a pack has a few dozen in practice."""


def template_context(call_id: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Values a talking point may use: the call's context keys, plus call_id."""
    values = {k: v for k, v in context.items() if isinstance(k, str)}
    values["call_id"] = call_id
    return values


@dataclass(frozen=True, slots=True)
class _Shown:
    """What a set of labels shows in one language, the call's values apart. `points` holds a talking point's
    message when its template reads no value of the call, else (label, the talking point) to render per call."""

    lang: str
    points: tuple[dict[str, Any] | tuple[str, TalkingPoint], ...]
    body: dict[str, Any]
    """category_name, label_names, steps, checklist, forbidden_phrases, route: the same for every call."""


class Guidance:
    """The `assist.update` push (docs/protocol.md) for the calls of one pack, with what depends on the labels
    and the language alone built once per label set: steps, checklist, route, forbidden phrases, names, and
    every talking point whose template reads no value of the call (34 of the default pack's 38). An update
    then costs the call's own talking points and evidence: a new pack's first update to thousands of
    sidebars, and a note that changed a call's labels. The messages of calls with the same labels share
    those parts (they are only encoded, never changed)."""

    __slots__ = ("_shown", "_variables", "pack")

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self._shown: dict[tuple[str, tuple[str, ...], str], _Shown] = {}
        self._variables: dict[int, bool] = {}

    def update(
        self, pack_version: str, call_id: str, context: Mapping[str, Any], result: Classification, lang: str
    ) -> dict[str, Any]:
        """The `assist.update` push for a call (see docs/protocol.md)."""
        key = (result.category, result.labels, lang)
        shown = self._shown.get(key)
        if shown is None:
            if len(self._shown) >= MAX_SHOWN:
                self._shown.clear()
            shown = self._shown[key] = self._gather(result.category, result.labels, lang)
        fallback = self.pack.default_language
        values: dict[str, Any] | None = None
        talking_points: list[dict[str, Any]] = []
        for point in shown.points:
            if isinstance(point, dict):
                talking_points.append(point)
                continue
            label, tp = point
            if values is None:
                values = template_context(call_id, context)
            talking_points.append({"id": tp.id, "category": label, "text": tp.render(shown.lang, values, fallback)})
        body = shown.body
        return messages.assist_update(
            call_id,
            {
                "category": result.category,
                "category_name": body["category_name"],
                "labels": list(result.labels),
                "label_names": body["label_names"],
                "evidence": [e.to_json() for e in result.evidence],
                "decided_by": result.decided_by,
                "talking_points": talking_points,
                "steps": body["steps"],
                "checklist": body["checklist"],
                "forbidden_phrases": body["forbidden_phrases"],
                "route": body["route"],
                "pack_version": pack_version,
            },
        )

    def _reads_values(self, tp: TalkingPoint, lang: str) -> bool:
        """Whether the template `tp` renders in `lang` reads any value (a constant one renders the same for
        every call: with the call's values or, when those fail, without any)."""
        template = tp.templates.get(lang) or tp.templates[self.pack.default_language]
        reads = self._variables.get(id(template))
        if reads is None:
            reads = self._variables[id(template)] = bool(unknown_variables(template.source, ()))
        return reads

    def _gather(self, category: str, labels: tuple[str, ...], lang: str) -> _Shown:
        pack = self.pack
        fallback = pack.default_language
        lang = lang if lang in pack.languages else fallback
        points: list[dict[str, Any] | tuple[str, TalkingPoint]] = []
        steps: list[dict[str, Any]] = []
        checklist: list[dict[str, Any]] = []
        seen_fields: dict[str, dict[str, Any]] = {}
        forbidden: list[dict[str, Any]] = []
        seen_rules: set[str] = set()
        route: list[str] = []
        for label in labels:
            script = pack.scripts.get(label)
            if script is None:
                continue
            for tp in script.talking_points:
                if self._reads_values(tp, lang):
                    points.append((label, tp))
                else:
                    points.append({"id": tp.id, "category": label, "text": tp.render(lang, {}, fallback)})
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
        return _Shown(
            lang,
            tuple(points),
            {
                "category_name": pack.category_name(category, lang),
                "label_names": [pack.category_name(c, lang) for c in labels],
                "steps": steps,
                "checklist": checklist,
                "forbidden_phrases": forbidden,
                "route": route,
            },
        )
