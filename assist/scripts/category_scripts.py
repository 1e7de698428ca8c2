"""scripts.yaml: per category, the talking points, steps, checklist and route.

Compiled once on load (templates included), so a live update only renders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assist.problems import PackError, PathPart, Problem
from assist.scripts.render import CALL_CONTEXT, Template, compile_template, unknown_variables
from assist.scripts.yamlfile import locate, parse_yaml, plain

FIELD_KINDS = ("text", "phone", "account", "datetime", "number", "choice")
ROLES = (
    "agent",
    "seat_admin",
    "shift_leader",
    "acting_shift_leader",
    "back_office_duty",
    "center_manager",
    "department_leader",
    "it_support",
    "ebanking_dept",
    "provincial_dept",
    "branch",
    "emergency_contact",
    "trainer",
)
"""Role ids of the operating plan (shared/plan/README.md)."""


@dataclass(frozen=True, slots=True)
class TalkingPoint:
    id: str
    templates: Mapping[str, Template]

    def render(self, lang: str, context: Mapping[str, Any], fallback: str) -> str:
        tpl = self.templates.get(lang) or self.templates[fallback]
        return tpl.render(context)


@dataclass(frozen=True, slots=True)
class ChecklistField:
    id: str
    label: Mapping[str, str]
    kind: str
    required: bool
    options: tuple[str, ...] = ()

    def to_json(self, lang: str, fallback: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "label": self.label.get(lang) or self.label[fallback],
            "kind": self.kind,
            "required": self.required,
        }
        if self.options:
            out["options"] = list(self.options)
        return out


@dataclass(frozen=True, slots=True)
class CategoryScript:
    category: str
    talking_points: tuple[TalkingPoint, ...]
    steps: Mapping[str, tuple[str, ...]]
    checklist: tuple[ChecklistField, ...]
    route: tuple[str, ...]


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: tuple[PathPart, ...], message: str) -> None:
        self.problems.append(Problem(path, message))

    def text(self, value: Any, path: tuple[PathPart, ...], what: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.add(path, f"{what} must be non-empty text")
            return None
        return value

    def localized(self, value: Any, path: tuple[PathPart, ...], languages: Sequence[str]) -> dict[str, str]:
        if not isinstance(value, Mapping):
            self.add(path, f"expected one text per language ({', '.join(languages)})")
            return {}
        out: dict[str, str] = {}
        for key in value:
            if key not in languages:
                self.add(
                    (*path, str(key)),
                    f"unknown language {key!r}: use {', '.join(languages)} "
                    "(text with commas inside {…} needs quotes)",
                )
        for lang in languages:
            text = self.text(value.get(lang), (*path, lang), f"the {lang} text")
            if text is not None:
                out[lang] = text
        return out


SAMPLE_CONTEXT = {"customer_name": "张先生", "caller_number": "13800001234", "queue": "retail", "call_id": "c-1"}


def compile_scripts(raw: object, *, categories: Sequence[str], languages: Sequence[str]) -> dict[str, CategoryScript]:
    """Validate scripts.yaml against the pack's categories and languages; raise PackError with every problem."""
    c = _Collector()
    out: dict[str, CategoryScript] = {}
    cats = raw.get("categories") if isinstance(raw, Mapping) else None
    if not isinstance(cats, Mapping):
        raise PackError([Problem(("categories",), "scripts.yaml needs a 'categories' mapping")])
    for cat in cats:
        if cat not in categories:
            c.add(("categories", str(cat)), f"unknown category {cat!r}; known: {', '.join(categories)}")
    for cat in categories:
        if cat not in cats:
            c.add(("categories",), f"category {cat!r} has no scripts")
            continue
        script = _compile_category(c, cat, cats[cat], languages)
        if script is not None:
            out[cat] = script
    if c.problems:
        raise PackError(c.problems)
    return out


def _compile_category(c: _Collector, cat: str, body: Any, languages: Sequence[str]) -> CategoryScript | None:
    base: tuple[PathPart, ...] = ("categories", cat)
    if not isinstance(body, Mapping):
        c.add(base, "expected a mapping with talking_points, steps, checklist and route")
        return None
    points: list[TalkingPoint] = []
    seen: set[str] = set()
    for i, tp in enumerate(_seq(c, body.get("talking_points", []), (*base, "talking_points"))):
        path = (*base, "talking_points", i)
        if not isinstance(tp, Mapping):
            c.add(path, "a talking point needs an id and one text per language")
            continue
        tp_id = c.text(tp.get("id"), (*path, "id"), "id")
        if tp_id in seen:
            c.add((*path, "id"), f"duplicate talking point id {tp_id!r}")
        templates: dict[str, Template] = {}
        for lang in languages:
            src = c.text(tp.get(lang), (*path, lang), f"the {lang} text")
            if src is None:
                continue
            try:
                templates[lang] = compile_template(src)
                templates[lang].render_strict(SAMPLE_CONTEXT)
            except ValueError as exc:
                c.add((*path, lang), str(exc))
            except Exception as exc:
                c.add((*path, lang), f"template fails on a sample call: {exc}")
        if tp_id is not None:
            seen.add(tp_id)
            if len(templates) == len(languages):
                points.append(TalkingPoint(tp_id, templates))
    steps_raw = body.get("steps", {})
    steps: dict[str, tuple[str, ...]] = {}
    if not isinstance(steps_raw, Mapping):
        c.add((*base, "steps"), "steps: expected a list of steps per language")
    else:
        for lang in languages:
            items = _seq(c, steps_raw.get(lang, []), (*base, "steps", lang))
            steps[lang] = tuple(
                s for j, s in enumerate(items) if c.text(s, (*base, "steps", lang, j), "a step") is not None
            )
    checklist: list[ChecklistField] = []
    ids: set[str] = set()
    for i, f in enumerate(_seq(c, body.get("checklist", []), (*base, "checklist"))):
        path = (*base, "checklist", i)
        if not isinstance(f, Mapping):
            c.add(path, "a checklist field needs id, label, kind and required")
            continue
        fid = c.text(f.get("id"), (*path, "id"), "id")
        if fid in ids:
            c.add((*path, "id"), f"duplicate checklist field {fid!r}")
        label = c.localized(f.get("label"), (*path, "label"), languages)
        kind = f.get("kind", "text")
        if kind not in FIELD_KINDS:
            c.add((*path, "kind"), f"unknown kind {kind!r}; use one of {', '.join(FIELD_KINDS)}")
        required = f.get("required", False)
        if not isinstance(required, bool):
            c.add((*path, "required"), "required must be true or false")
        options = tuple(str(o) for o in _seq(c, f.get("options", []), (*path, "options")))
        if kind == "choice" and not options:
            c.add((*path, "options"), "a choice field needs options")
        if fid is not None:
            ids.add(fid)
            if len(label) == len(languages):
                checklist.append(ChecklistField(fid, label, str(kind), bool(required), options))
    route: list[str] = []
    for i, role in enumerate(_seq(c, body.get("route", []), (*base, "route"))):
        if role not in ROLES:
            c.add((*base, "route", i), f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        else:
            route.append(role)
    return CategoryScript(cat, tuple(points), steps, tuple(checklist), tuple(route))


def _seq(c: _Collector, value: Any, path: tuple[PathPart, ...]) -> Sequence[Any]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        c.add(path, "expected a list")
        return []
    return value


SCRIPTS_FILE = "scripts.yaml"


def template_warnings(text: str, known: Sequence[str] = CALL_CONTEXT) -> list[Problem]:
    """Warnings (not problems: the pack stays valid) for talking points that read a value the call context never
    provides, located by file and line in scripts.yaml's `text`. A file that does not parse gives none (its
    problems are reported by the pack check)."""
    try:
        doc = parse_yaml(text, SCRIPTS_FILE)
    except PackError:
        return []
    raw = plain(doc)
    cats = raw.get("categories") if isinstance(raw, Mapping) else None
    found: list[Problem] = []
    for cat, body in cats.items() if isinstance(cats, Mapping) else ():
        points = body.get("talking_points") if isinstance(body, Mapping) else None
        for i, tp in enumerate(points if isinstance(points, list) else ()):
            for lang, src in tp.items() if isinstance(tp, Mapping) else ():
                if lang == "id" or not isinstance(src, str):
                    continue
                names = unknown_variables(src, known)
                if names:
                    found.append(
                        Problem(
                            ("categories", cat, "talking_points", i, lang),
                            f"the call context never provides {', '.join(names)} (it renders empty); "
                            f"known: {', '.join(known)}",
                        )
                    )
    return locate(found, doc, SCRIPTS_FILE)
