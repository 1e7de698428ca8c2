"""Load and validate a script pack into one immutable `Pack`.

A pack is a handful of files (see packs/default/pack.yaml). It can come from a
directory (the default pack, `assist pack check DIR`) or from the store (versions a
trainer published), so loading works on a {filename: text} mapping. Every problem of
every file is reported at once, each with file, line and field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assist.classifier.categorize import Classifier
from assist.classifier.forbidden import ForbiddenChecker, compile_forbidden
from assist.classifier.model import CATEGORY_IDS, NONE
from assist.classifier.rules import compile_rules
from assist.scripts.category_scripts import CategoryScript, compile_scripts
from assist.scripts.problems import PackError, Problem
from assist.scripts.yamlfile import locate, parse_yaml, plain

PACK_FILES = ("pack.yaml", "rules.yaml", "forbidden.yaml", "scripts.yaml")
SAMPLES_FILE = "samples.jsonl"


@dataclass(frozen=True)
class InternalContact:
    name: str
    number: str


@dataclass(frozen=True)
class Pack:
    id: str
    version: str
    title: Mapping[str, str]
    languages: tuple[str, ...]
    priority: tuple[str, ...]
    category_names: Mapping[str, Mapping[str, str]]
    internal_contacts: tuple[InternalContact, ...]
    scripts: Mapping[str, CategoryScript]
    classifier: Classifier
    forbidden: ForbiddenChecker
    files: Mapping[str, str] = field(repr=False)
    samples: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def digest(self) -> str:
        """Content hash of the pack's files: two packs with the same digest behave the same."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return h.hexdigest()[:12]

    def category_name(self, category: str, lang: str) -> str:
        names = self.category_names.get(category, {})
        return names.get(lang) or names.get(self.default_language) or category


def read_pack_dir(path: Path) -> dict[str, str]:
    """The pack's files as text; missing required files are reported by `load_pack`."""
    files: dict[str, str] = {}
    for name in (*PACK_FILES, SAMPLES_FILE):
        p = path / name
        if p.is_file():
            files[name] = p.read_text(encoding="utf-8")
    return files


def load_pack_dir(path: Path) -> Pack:
    if not path.is_dir():
        raise PackError([Problem((), f"pack directory not found: {path}")])
    return load_pack(read_pack_dir(path))


def load_pack(files: Mapping[str, str], *, extra_internal_numbers: Sequence[str] = ()) -> Pack:
    """Validate every file and build the pack; raise PackError listing all problems."""
    problems: list[Problem] = []
    for name in PACK_FILES:
        if name not in files:
            problems.append(Problem((), "required file is missing", name))
    if problems:
        raise PackError(problems)

    docs: dict[str, Any] = {}
    for name in PACK_FILES:
        try:
            docs[name] = parse_yaml(files[name], name)
        except PackError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PackError(problems)

    meta = _meta(docs["pack.yaml"], problems)
    priority = meta["priority"]
    languages = meta["languages"]

    def compile_file(name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(plain(docs[name]), *args, **kwargs)
        except PackError as exc:
            problems.extend(locate(exc.problems, docs[name], name))
            return None

    numbers = [c.number for c in meta["internal_contacts"]] + list(extra_internal_numbers)
    rules = compile_file("rules.yaml", compile_rules, priority=priority)
    forbidden = compile_file("forbidden.yaml", compile_forbidden, internal_numbers=numbers)
    scripts = compile_file("scripts.yaml", compile_scripts, categories=priority, languages=languages)
    samples = _samples(files.get(SAMPLES_FILE, ""), problems)
    if problems:
        raise PackError(problems)
    return Pack(
        id=meta["id"],
        version=meta["version"],
        title=meta["title"],
        languages=tuple(languages),
        priority=tuple(priority),
        category_names=meta["categories"],
        internal_contacts=tuple(meta["internal_contacts"]),
        scripts=scripts,
        classifier=Classifier(rules),
        forbidden=forbidden,
        files=dict(files),
        samples=tuple(samples),
    )


def _meta(doc: Any, problems: list[Problem]) -> dict[str, Any]:
    """Validate pack.yaml; problems are located here since we hold its document."""
    found: list[Problem] = []
    out: dict[str, Any] = {
        "id": "pack", "version": "0", "title": {}, "languages": ["zh-CN", "en"],
        "priority": list(CATEGORY_IDS), "categories": {}, "internal_contacts": [],
    }
    if not isinstance(doc, Mapping):
        problems.append(Problem((), "pack.yaml must be a mapping", "pack.yaml", 1))
        return out
    for key in ("id", "version"):
        value = doc.get(key)
        if not isinstance(value, (str, int, float)) or not str(value).strip():
            found.append(Problem((key,), f"{key} is required (text)"))
        else:
            out[key] = str(value)
    langs = doc.get("languages")
    if not isinstance(langs, Sequence) or isinstance(langs, str) or not langs or \
            not all(isinstance(x, str) for x in langs):
        found.append(Problem(("languages",), "languages: a list such as [zh-CN, en]; the first is the default"))
    else:
        out["languages"] = list(langs)
    title = doc.get("title", {})
    out["title"] = dict(title) if isinstance(title, Mapping) else {}
    prio = doc.get("priority")
    if not isinstance(prio, Sequence) or isinstance(prio, str):
        found.append(Problem(("priority",), "priority: the list of category ids, most serious first"))
    else:
        ids = [str(x) for x in prio]
        for i, cid in enumerate(ids):
            if cid not in CATEGORY_IDS:
                found.append(Problem(("priority", i), f"unknown category {cid!r}; known: {', '.join(CATEGORY_IDS)}"))
        for cid in CATEGORY_IDS:
            if cid not in ids:
                found.append(Problem(("priority",), f"category {cid!r} is missing from priority"))
        if len(set(ids)) != len(ids):
            found.append(Problem(("priority",), "a category is listed twice"))
        if ids and ids[-1] != NONE:
            found.append(Problem(("priority",), "'none' must come last"))
        out["priority"] = ids
    cats = doc.get("categories", {})
    if not isinstance(cats, Mapping):
        found.append(Problem(("categories",), "categories: a name per language for each category id"))
    else:
        for cid, names in cats.items():
            if cid not in CATEGORY_IDS:
                found.append(Problem(("categories", cid), f"unknown category {cid!r}"))
            elif not isinstance(names, Mapping):
                found.append(Problem(("categories", cid), "expected a name per language"))
            else:
                out["categories"][cid] = {str(k): str(v) for k, v in names.items()}
    contacts = doc.get("internal_contacts", [])
    if not isinstance(contacts, Sequence) or isinstance(contacts, str):
        found.append(Problem(("internal_contacts",), "internal_contacts: a list of {name, number}"))
    else:
        for i, item in enumerate(contacts):
            if not isinstance(item, Mapping) or not str(item.get("number", "")).strip() or \
                    not any(ch.isdigit() for ch in str(item.get("number", ""))):
                found.append(Problem(("internal_contacts", i), "each internal contact needs a name and a number"))
            else:
                out["internal_contacts"].append(InternalContact(str(item.get("name", "")), str(item["number"])))
    problems.extend(locate(found, doc, "pack.yaml"))
    return out


def _samples(text: str, problems: list[Problem]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem((), f"not valid JSON: {exc.msg}", SAMPLES_FILE, n))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("labels"), list) or not item["labels"]:
            problems.append(Problem((), "a sample needs id, notes, transcript and labels", SAMPLES_FILE, n))
            continue
        out.append(item)
    return out
