"""Read pack YAML keeping line numbers, so every problem can name its line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from assist.problems import PathPart, Problem


def parse_yaml(text: str, file: str) -> Any:
    """Parse round-trip YAML; a syntax error becomes a located Problem."""
    from assist.problems import PackError

    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PackError([Problem((), f"YAML syntax error: {exc.problem or exc}", file, line)]) from None


def plain(node: Any) -> Any:
    """Round-trip YAML nodes as plain dict/list/str/int/float/bool, so compiled packs hold no ruamel types."""
    if isinstance(node, dict):
        return {plain(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def line_of(data: Any, path: Iterable[PathPart]) -> int | None:
    """1-based line of the deepest node on `path` that the document still has."""
    line: int | None = None
    node = data
    for part in path:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    if line is None and isinstance(data, (CommentedMap, CommentedSeq)):
        line = data.lc.line + 1
    return line


def locate(problems: Iterable[Problem], data: Any, file: str) -> list[Problem]:
    return [p.located(file, p.line if p.line is not None else line_of(data, p.path)) for p in problems]
