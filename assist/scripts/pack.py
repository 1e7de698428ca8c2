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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml.error import MarkedYAMLError

from assist.classifier.agent_lines import LineChecker
from assist.classifier.categorize import Classifier
from assist.classifier.forbidden_compile import compile_forbidden
from assist.classifier.model import CATEGORY_IDS, NONE
from assist.classifier.model_config import ModelConfig, compile_model_config
from assist.classifier.rules import compile_rules
from assist.classifier.training import TooFewExamples, cross_validate
from assist.problems import PackError, Problem
from assist.scripts.category_scripts import CategoryScript, compile_scripts
from assist.scripts.file_cache import FileCache
from assist.scripts.firing import FIRING_FILE, FiringPolicy, compile_firing
from assist.scripts.pack_model import (
    LINES_FILE,
    SAMPLES_FILE,
    Models,
    call_examples,
    read_models,
    sample_calls,
    train_models,
)
from assist.scripts.synonyms import SYNONYMS_FILE, Groups, parse_synonyms
from assist.scripts.yamlfile import locate, plain

PACK_FILES = ("pack.yaml", "rules.yaml", "forbidden.yaml", "scripts.yaml")
MODEL_FILE = "model.yaml"
OPTIONAL_FILES = (MODEL_FILE, SAMPLES_FILE, LINES_FILE, SYNONYMS_FILE, FIRING_FILE)
ALL_FILES = (*PACK_FILES, *OPTIONAL_FILES)


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
    forbidden: LineChecker
    files: Mapping[str, str] = field(repr=False)
    samples: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    agent_lines: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    model_config: ModelConfig = field(default_factory=ModelConfig, repr=False)
    firing: FiringPolicy = field(default_factory=FiringPolicy, repr=False)
    """How often a warning or a category's prompt may draw the agent's attention (`firing.yaml`)."""
    synonyms: Groups = ()
    """Synonym/abbreviation groups (`synonyms.txt`): compiled into the rules and phrases (a keyword matches its
    group); fault linking expands a system name with `scripts.synonyms.expand_keywords`."""
    model_problem: str | None = None
    """Why the learned models are not in use although the pack enables them (None: in use, or disabled)."""

    @property
    def has_model(self) -> bool:
        return self.classifier.model is not None

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
    for name in ALL_FILES:
        p = path / name
        if p.is_file():
            files[name] = p.read_text(encoding="utf-8")
    return files


def load_pack_dir(path: Path) -> Pack:
    if not path.is_dir():
        raise PackError([Problem((), f"pack directory not found: {path}")])
    return load_pack(read_pack_dir(path))


def load_pack(
    files: Mapping[str, str],
    *,
    extra_internal_numbers: Sequence[str] = (),
    models: bytes | None = None,
    cache: FileCache | None = None,
) -> Pack:
    """Validate every file and build the pack; raise PackError listing all problems.

    `models` is the artifact `train_pack_models` made for these files (stored with the pack
    version). Without it, or when it cannot be used, the pack classifies with its rules alone
    and `model_problem` says why. With a `cache`, a file whose text it has seen is not parsed
    or compiled again (compiling is a pure function of the file's text and the pack's metadata).
    """
    p = _compiled(files, extra_internal_numbers, cache if cache is not None else FileCache())
    config: ModelConfig = p["config"]
    found, model_problem = _models(config, models, files)
    meta = p["meta"]
    return Pack(
        id=meta["id"],
        version=meta["version"],
        title=meta["title"],
        languages=tuple(meta["languages"]),
        priority=tuple(meta["priority"]),
        category_names=meta["categories"],
        internal_contacts=tuple(meta["internal_contacts"]),
        scripts=p["scripts"],
        classifier=Classifier(p["rules"], found.calls, config.calls),
        forbidden=LineChecker(p["forbidden"], found.lines, config.lines),
        files=dict(files),
        samples=tuple(p["samples"]),
        agent_lines=tuple(p["lines"]),
        model_config=config,
        firing=p["firing"],
        synonyms=p["synonyms"],
        model_problem=model_problem,
    )


def check_pack(
    files: Mapping[str, str], *, extra_internal_numbers: Sequence[str] = (), cache: FileCache | None = None
) -> list[Problem]:
    """The problems `load_pack` would raise (empty: it loads), without building the matchers a live pack needs."""
    try:
        _compiled(files, extra_internal_numbers, cache if cache is not None else FileCache())
    except PackError as exc:
        return exc.problems
    return []


def _compiled(files: Mapping[str, str], extra_internal_numbers: Sequence[str], cache: FileCache) -> dict[str, Any]:
    """Every file validated and compiled: the parts of a Pack; raise PackError listing all problems."""
    problems: list[Problem] = []
    for name in PACK_FILES:
        if name not in files:
            problems.append(Problem((), "required file is missing", name))
    if problems:
        raise PackError(problems)

    data: dict[str, Any] = {}
    for name in (*PACK_FILES, MODEL_FILE, FIRING_FILE):
        if name not in files:
            continue
        try:
            data[name] = cache.data(files[name])
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problems.append(
                Problem(
                    (), f"YAML syntax error: {exc.problem or exc}", name, mark.line + 1 if mark is not None else None
                )
            )
    if problems:
        raise PackError(problems)

    def doc(name: str) -> Any:
        """The round-trip document, with line numbers: parsed only when a problem needs its line."""
        return cache.doc(files[name])

    meta = _meta(doc("pack.yaml"), problems)
    priority = meta["priority"]
    languages = meta["languages"]

    def compile_file(name: str, fn: Any, **kwargs: Any) -> Any:
        def make() -> tuple[Any, list[Problem]]:
            try:
                return fn(plain(data[name]), **kwargs), []  # plain(): a copy, the compiler owns its input
            except PackError as exc:
                return None, locate(exc.problems, doc(name), name)

        key = (
            "compiled",
            name,
            files[name],
            fn.__module__,
            fn.__qualname__,
            tuple(sorted((k, _frozen(v)) for k, v in kwargs.items())),
        )
        result, found = cache.memo(key, make)
        problems.extend(found)
        return result

    # The synonym groups are part of the rules' and phrases' compile key: editing synonyms.txt recompiles them.
    synonyms, synonym_problems = cache.memo(
        ("synonyms", files.get(SYNONYMS_FILE, "")), lambda: parse_synonyms(files.get(SYNONYMS_FILE, ""))
    )
    problems.extend(synonym_problems)
    numbers = [c.number for c in meta["internal_contacts"]] + list(extra_internal_numbers)
    rules = compile_file("rules.yaml", compile_rules, priority=priority, synonyms=synonyms)
    forbidden = compile_file("forbidden.yaml", compile_forbidden, internal_numbers=numbers, synonyms=synonyms)
    scripts = compile_file("scripts.yaml", compile_scripts, categories=priority, languages=languages)
    config = ModelConfig()
    if MODEL_FILE in data:
        config = (
            compile_file(
                MODEL_FILE,
                compile_model_config,
                priority=priority,
                rule_ids=forbidden.rule_ids() if forbidden is not None else (),
            )
            or config
        )
    firing = FiringPolicy()
    if FIRING_FILE in data:
        firing = (
            compile_file(
                FIRING_FILE,
                compile_firing,
                categories=priority,
                rule_ids=forbidden.rule_ids() if forbidden is not None else (),
            )
            or firing
        )
    samples = _cached(cache, _samples, files.get(SAMPLES_FILE, ""), problems)
    lines = _cached(cache, _lines, files.get(LINES_FILE, ""), problems)
    if config.calls.enabled:
        minimum = config.calls.minimum_samples
        problems.extend(
            cache.memo(
                ("too few", files.get(SAMPLES_FILE, ""), tuple(priority), minimum),
                lambda: _too_few(samples, priority, minimum),
            )
        )
    if problems:
        raise PackError(problems)
    return {
        "meta": meta,
        "rules": rules,
        "forbidden": forbidden,
        "scripts": scripts,
        "config": config,
        "samples": samples,
        "lines": lines,
        "synonyms": synonyms,
        "firing": firing,
    }


def _frozen(value: Any) -> Any:
    """A compile argument as part of a cache key (lists become tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _cached(cache: FileCache, read: Any, text: str, problems: list[Problem]) -> list[Mapping[str, Any]]:
    """`read(text, problems)` once per text: its items and problems."""

    def make() -> tuple[list[Mapping[str, Any]], list[Problem]]:
        found: list[Problem] = []
        return read(text, found), found

    items, found = cache.memo(("read", read.__qualname__, text), make)
    problems.extend(found)
    return list(items)


def with_models(pack: Pack, models: bytes | None) -> Pack:
    """The same compiled pack with these models (no recompiling of rules, phrases or scripts)."""
    config = pack.model_config
    found, problem = _models(config, models, pack.files)
    return replace(
        pack,
        classifier=Classifier(pack.classifier.rules, found.calls, config.calls),
        forbidden=LineChecker(pack.forbidden.rules, found.lines, config.lines),
        model_problem=problem,
    )


def _models(config: ModelConfig, models: bytes | None, files: Mapping[str, str]) -> tuple[Models, str | None]:
    """The models to use and, when the pack enables them but they cannot be used, why not."""
    if not (config.calls.enabled or config.lines.enabled):
        return Models(None, None), None
    if models is None:
        return Models(None, None), "no trained model is stored with this pack version"
    try:
        return read_models(models, files), None
    except ValueError as exc:
        return Models(None, None), str(exc)


def train_pack_models(files: Mapping[str, str]) -> bytes:
    """Train the models of a valid pack's files; the artifact to store with its version.

    CPU-heavy (seconds for thousands of samples): shells run it in a worker process.
    Raises PackError when the files are invalid.
    """
    pack = load_pack(files)
    try:
        config = pack.model_config
        return train_models(
            files,
            pack.samples,
            pack.agent_lines,
            pack.forbidden.rules,
            list(pack.priority),
            config.calls.minimum_samples,
            calls=config.calls.enabled,
            agent_lines=config.lines.enabled,
        )
    except TooFewExamples as exc:
        raise PackError([Problem((), str(exc), SAMPLES_FILE)]) from None


def cross_validate_pack(files: Mapping[str, str], folds: int = 5) -> dict[str, dict[str, float]]:
    """Held-out call-model scores for every sample call, by sample id (k folds; CPU-heavy: a worker's job).

    A score on samples the model was trained on is not a score: each sample here is scored by a
    model trained on the other folds.
    """
    pack = load_pack(files)
    calls = [c for c in sample_calls(pack.samples) if c.get("labels")]
    scores = cross_validate(call_examples(calls), list(pack.priority), folds=folds)
    return {str(c.get("id")): s for c, s in zip(calls, scores, strict=True) if s}


def _too_few(samples: Sequence[Mapping[str, Any]], priority: Sequence[str], minimum: int) -> list[Problem]:
    """Every category with too few sample calls for the model to learn it, named."""
    counts = dict.fromkeys(priority, 0)
    for s in samples:
        if s.get("kind", "call") != "call":
            continue
        for label in set(s.get("labels") or ()):
            if label in counts:
                counts[label] += 1
    return [
        Problem(
            (),
            f"category {c!r} has {n} sample call(s); the learned model needs at least {minimum} "
            f"(add samples, or lower minimum_samples / set enabled: false in model.yaml)",
            SAMPLES_FILE,
        )
        for c, n in counts.items()
        if n < minimum
    ]


def _meta(doc: Any, problems: list[Problem]) -> dict[str, Any]:
    """Validate pack.yaml; problems are located here since we hold its document."""
    found: list[Problem] = []
    out: dict[str, Any] = {
        "id": "pack",
        "version": "0",
        "title": {},
        "languages": ["zh-CN", "en"],
        "priority": list(CATEGORY_IDS),
        "categories": {},
        "internal_contacts": [],
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
    if (
        not isinstance(langs, Sequence)
        or isinstance(langs, str)
        or not langs
        or not all(isinstance(x, str) for x in langs)
    ):
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
            if (
                not isinstance(item, Mapping)
                or not str(item.get("number", "")).strip()
                or not any(ch.isdigit() for ch in str(item.get("number", "")))
            ):
                found.append(Problem(("internal_contacts", i), "each internal contact needs a name and a number"))
            else:
                out["internal_contacts"].append(InternalContact(str(item.get("name", "")), str(item["number"])))
    problems.extend(locate(found, doc, "pack.yaml"))
    return out


def _jsonl(text: str, file: str, problems: list[Problem]) -> list[tuple[int, Any]]:
    """(line number, object) of each non-blank line; a line that is not JSON is a problem at its number."""
    out: list[tuple[int, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(Problem((), f"not valid JSON: {exc.msg}", file, n))
    return out


def _samples(text: str, problems: list[Problem]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for n, item in _jsonl(text, SAMPLES_FILE, problems):
        if isinstance(item, dict) and item.get("kind") == "agent_line":
            if not isinstance(item.get("text"), str) or not isinstance(item.get("forbidden"), bool):
                problems.append(
                    Problem((), "an agent-line sample needs text and forbidden (true/false)", SAMPLES_FILE, n)
                )
                continue
            out.append(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("labels"), list) or not item["labels"]:
            problems.append(Problem((), "a sample needs id, notes, transcript and labels", SAMPLES_FILE, n))
            continue
        unknown = [x for x in item["labels"] if x not in CATEGORY_IDS]
        if unknown:
            problems.append(Problem((), f"unknown category {unknown[0]!r} in labels", SAMPLES_FILE, n))
            continue
        out.append(item)
    return out


def _lines(text: str, problems: list[Problem]) -> list[Mapping[str, Any]]:
    """agent_lines.jsonl: one {"text", "forbidden", "which"} object per line."""
    out: list[Mapping[str, Any]] = []
    for n, item in _jsonl(text, LINES_FILE, problems):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("text"), str)
            or not isinstance(item.get("forbidden"), bool)
        ):
            problems.append(
                Problem((), 'each line needs {"text": "...", "forbidden": true|false, "which": rule id}', LINES_FILE, n)
            )
            continue
        out.append(item)
    return out
