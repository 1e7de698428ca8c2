"""What changed between two packs' files, in a trainer's terms and as a plain unified diff.

YAML files are compared as data: lists of items with an `id` (rules, talking points,
checklist fields, forbidden rules) are matched by id, word lists report the words added
and removed, so a reviewer reads "system_outage › rules › app_broken › any: +转圈圈" instead
of a wall of YAML. Samples are matched by id. Everything else falls back to the text diff.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.error import YAMLError

from assist.scripts.file_cache import FileCache

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ItemChange:
    file: str
    path: Key
    change: str
    """added | removed | changed"""
    before: Any = None
    after: Any = None
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "path": list(self.path), "change": self.change}
        if self.added or self.removed:
            out["added"], out["removed"] = list(self.added), list(self.removed)
        else:
            out["before"], out["after"] = self.before, self.after
        return out

    def summary(self) -> str:
        where = f"{self.file} " + " › ".join(self.path)
        if self.added or self.removed:
            words = [f"+{w}" for w in self.added] + [f"-{w}" for w in self.removed]
            return f"{where}: {' '.join(str(w) for w in words)}"
        return f"{where}: {self.change}"


@dataclass(frozen=True, slots=True)
class FileDiff:
    file: str
    status: str
    """added | removed | changed"""
    unified: str
    items: tuple[ItemChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "unified": self.unified,
            "items": [i.to_json() for i in self.items],
        }


def diff_packs(
    before: Mapping[str, str], after: Mapping[str, str], cache: FileCache | None = None, *, unified: bool = True
) -> list[FileDiff]:
    """Only files whose text differs are read (each once per text with a `cache`); without `unified`
    the text diff is left out (the audit trail needs only the items)."""
    cache = cache if cache is not None else FileCache()
    out: list[FileDiff] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        text = (
            "".join(
                difflib.unified_diff(
                    (old or "").splitlines(keepends=True),
                    (new or "").splitlines(keepends=True),
                    f"a/{name}",
                    f"b/{name}",
                    n=2,
                )
            )
            if unified
            else ""
        )
        out.append(FileDiff(name, status, text, tuple(item_changes(name, old, new, cache))))
    return out


def summary(diffs: list[FileDiff], limit: int = 20) -> list[str]:
    """Short lines for the audit trail."""
    lines: list[str] = []
    for d in diffs:
        lines.extend(i.summary() for i in d.items) if d.items else lines.append(f"{d.file}: {d.status}")
    return lines[:limit] + ([f"… {len(lines) - limit} more"] if len(lines) > limit else [])


def item_changes(name: str, old: str | None, new: str | None, cache: FileCache | None = None) -> list[ItemChange]:
    cache = cache if cache is not None else FileCache()
    a, b = _data(name, old, cache), _data(name, new, cache)
    if a is _UNREADABLE or b is _UNREADABLE:
        return []
    fa: dict[Key, Any]
    fb: dict[Key, Any]
    if name.endswith(".jsonl"):
        fa, fb = {(k,): v for k, v in a.items()}, {(k,): v for k, v in b.items()}
    else:
        fa, fb = _flatten(a, ()), _flatten(b, ())
    out: list[ItemChange] = []
    position = {k: i for i, k in enumerate([*fa, *(k for k in fb if k not in fa)])}
    for key in sorted(position, key=position.__getitem__):
        x, y = fa.get(key, _MISSING), fb.get(key, _MISSING)
        if x == y:
            continue
        if x is _MISSING:
            out.append(ItemChange(name, key, "added", after=y))
        elif y is _MISSING:
            out.append(ItemChange(name, key, "removed", before=x))
        elif _words(x) and _words(y):
            xs, ys = [_k(v) for v in x], [_k(v) for v in y]
            out.append(
                ItemChange(
                    name,
                    key,
                    "changed",
                    before=x,
                    after=y,
                    added=tuple(v for v, k in zip(y, ys, strict=True) if k not in xs),
                    removed=tuple(v for v, k in zip(x, xs, strict=True) if k not in ys),
                )
            )
        else:
            out.append(ItemChange(name, key, "changed", before=x, after=y))
    return out


_MISSING: Any = object()
_UNREADABLE: Any = object()


def _data(name: str, text: str | None, cache: FileCache) -> Any:
    if text is None:
        return {}
    if name.endswith(".jsonl"):
        return cache.memo(("jsonl by id", text), lambda: _jsonl(text))
    try:
        return cache.data(text)
    except YAMLError:
        return _UNREADABLE


def _jsonl(text: str) -> Any:
    """A JSONL file's objects by id (or line), or _UNREADABLE when a line is not JSON."""
    items: dict[str, Any] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                return _UNREADABLE
            items[str(item.get("id", f"line {n}")) if isinstance(item, dict) else f"line {n}"] = item
    return items


def _flatten(data: Any, prefix: Key) -> dict[Key, Any]:
    """Leaves by path; id'd lists become keyed maps; word lists and talking points are leaves."""
    if isinstance(data, dict) and data and not _is_text(data):
        out: dict[Key, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, (*prefix, str(k))))
        return out
    if isinstance(data, list) and data and all(isinstance(v, dict) and "id" in v for v in data):
        out = {}
        for v in data:
            out.update(_flatten({k: x for k, x in v.items() if k != "id"} or {"id": v["id"]}, (*prefix, str(v["id"]))))
        return out
    if isinstance(data, list) and data and not _words(data):
        out = {}
        for i, v in enumerate(data):
            out.update(_flatten(v, (*prefix, str(i))))
        return out
    return {prefix: data}


def _is_text(data: dict[str, Any]) -> bool:
    """A text per language ({zh-CN, en}) is one value, not two."""
    return (
        bool(data)
        and all(isinstance(k, str) and k[:2].isalpha() and len(k) <= 5 and isinstance(v, str) for k, v in data.items())
        and "zh-CN" in data
    )


def _words(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(v, list) for v in value)


def _k(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
