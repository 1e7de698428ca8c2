"""Structured edits of pack YAML that rewrite only the edited text, so comments and layout survive.

Trainers change a keyword list or a talking point through a form; the console sends
`Edit(file, path, op, value)`. A full round-trip re-dump would re-wrap every long flow list
in the file (hundreds of diff lines for one keyword), so the edit is spliced into the text at
the node's own position. The result is always re-parsed and compared with the intended data;
if the splice cannot express the change, the whole file is re-dumped by ruamel instead
(comments kept, layout possibly changed), and if even that disagrees the edit is refused.
"""

from __future__ import annotations

import copy
import io
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import StreamMark, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from assist.problems import PathPart
from assist.scripts.file_cache import FileCache, YamlFile, parse

Op = Literal["set", "delete", "append"]
YAML_FILES = ("pack.yaml", "rules.yaml", "forbidden.yaml", "scripts.yaml")
FLOW_WIDTH = 118


class EditError(ValueError):
    """An edit that cannot be applied (bad path, unparsable file); the message is for a trainer."""


@dataclass(frozen=True, slots=True)
class Edit:
    file: str
    path: tuple[PathPart, ...]
    op: Op = "set"
    value: Any = None

    @staticmethod
    def from_json(raw: Any) -> Edit:
        if not isinstance(raw, Mapping):
            raise EditError("each edit is {file, path, op, value}")
        file, path, op = raw.get("file"), raw.get("path"), raw.get("op", "set")
        if file not in YAML_FILES:
            raise EditError(f"structured edits work on {', '.join(YAML_FILES)}; use the file editor for {file!r}")
        if not isinstance(path, list) or not all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in path):
            raise EditError('path: a list of keys and list positions, e.g. ["categories", "none"]')
        if op not in ("set", "delete", "append"):
            raise EditError("op: set, delete or append")
        return Edit(str(file), tuple(path), op, raw.get("value"))


def structured(files: Mapping[str, str], cache: FileCache | None = None) -> dict[str, Any]:
    """Each YAML file as plain data (None when it does not parse), and the samples as a list.

    With a `cache`, only files whose text it has not seen are parsed; the values are shared
    with the cache (read-only).
    """
    cache = cache if cache is not None else FileCache()
    out: dict[str, Any] = {}
    for name in YAML_FILES:
        try:
            out[name] = cache.data(files[name]) if name in files else None
        except YAMLError:
            out[name] = None
    text = files.get("samples.jsonl", "")
    out["samples.jsonl"] = cache.memo(("samples list", text), lambda: _samples(text))
    return out


def _samples(text: str) -> list[Any]:
    samples: list[Any] = []
    for line in text.splitlines():
        if line.strip():
            try:
                samples.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return samples


def apply_edits(files: Mapping[str, str], edits: Sequence[Edit], cache: FileCache | None = None) -> dict[str, str]:
    """The files with the edits applied; only the files they address are read (through `cache`, if given:
    the edited file's new text is parsed once, to check it, and that parse stays in the cache)."""
    cache = cache if cache is not None else FileCache()
    out = dict(files)
    for edit in edits:
        if edit.file not in out:
            raise EditError(f"{edit.file} is not in the pack")
        out[edit.file] = apply_edit(out[edit.file], edit, cache)
    return out


def apply_edit(text: str, edit: Edit, cache: FileCache | None = None) -> str:
    """The file's new text; only the edited node's text changes when that is possible."""
    cache = cache if cache is not None else FileCache()
    parsed = cache.yaml(text)
    if parsed.error is not None:
        raise EditError(f"the file has a YAML error; fix it in the file editor first ({parsed.error})")
    before = parsed.data
    expected = _apply_plain(copy.deepcopy(before), edit)
    try:
        spliced = _splice(text, edit, before, parsed.node)
    except (EditError, YAMLError, LookupError, TypeError, ValueError):
        spliced = None
    if spliced is not None:
        local = _reread(text, spliced, edit, parsed, cache)
        if local is not None:
            cache.put(spliced, local)
            return spliced
        if _same(spliced, expected, cache):
            return spliced
    dumped = _redump(text, edit)
    if _same(dumped, expected, cache):
        return dumped
    raise EditError(f"{edit.file}: this change cannot be written safely; use the file editor")


# -- intended result on plain data ------------------------------------------------------------------


def _apply_plain(data: Any, edit: Edit) -> Any:
    if not edit.path:
        if edit.op != "set":
            raise EditError("cannot delete or append to a whole file")
        return edit.value
    parent = data
    for part in edit.path[:-1]:
        parent = _child(parent, part, edit)
    last = edit.path[-1]
    if edit.op == "append":
        target = _child(parent, last, edit)
        if not isinstance(target, list):
            raise EditError(f"{_where(edit)} is not a list")
        target.append(edit.value)
    elif edit.op == "delete":
        _child(parent, last, edit)
        del parent[last]
    elif isinstance(parent, dict) or (isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent)):
        parent[last] = edit.value  # type: ignore[index]
    else:
        raise EditError(f"{_where(edit)} does not exist")
    return data


def _child(node: Any, part: PathPart, edit: Edit) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    raise EditError(f"{_where(edit)} does not exist (at {part!r})")


def _where(edit: Edit) -> str:
    return f"{edit.file} {'.'.join(str(p) for p in edit.path)}"


def _same(text: str, expected: Any, cache: FileCache) -> bool:
    parsed = cache.yaml(text)
    return parsed.error is None and bool(parsed.data == expected)


# -- checking a splice by re-reading only its part -------------------------------------------------
#
# Re-parsing the whole file to check one spliced keyword costs ~150 ms of CPU for the default
# rules.yaml. The splice changes text inside one block entry (a rule in its list, a key of a
# block mapping) that starts at a line of its own and ends at a line's end; its indentation and
# everything before and after it are unchanged. Such an entry parses the same on its own as in
# the file, so it is parsed alone and must give exactly the intended data; the file's data is
# the old data with that entry replaced. Its nodes, moved to their places in the file, and the
# unchanged nodes (shifted past the new text) are the composed tree the next edit splices into.
# Files with anchors or directives, flow containers and anything unexpected take the whole-file
# check instead.


def _reread(old: str, new: str, edit: Edit, parsed: YamlFile, cache: FileCache) -> YamlFile | None:
    """The new text's parse, from re-reading only the edited entry; None when that is not certain."""
    root = parsed.node
    if root is None or len(edit.path) < 2 or _has_anchor(root, cache, old) or _has_directive(old):
        return None
    di = len(new) - len(old)
    dl = new.count("\n") - old.count("\n")
    for depth in range(len(edit.path) - 1, 0, -1):
        found = _block_entry(old, root, edit.path[:depth])
        if found is None:
            continue
        chain, start, end = found
        new_end = end + di
        if new_end < start or new[:start] != old[:start] or new[new_end:] != old[end:]:
            continue
        region = parse(new[start:new_end])
        if region.error is not None or region.node is None or _has_anchor(region.node):
            return None
        container = chain[-1][0]
        value = _single(region, container, old, start)
        if value is _NOTHING:
            continue
        expected = _apply_plain(copy.deepcopy(_at(parsed.data, edit.path[:depth])), _relative(edit, depth))
        if value != expected:
            return None
        line = old.count("\n", 0, start)
        moved = _shifted(region.node, start, line)
        node = _graft(root, chain, 0, moved.value[0], di, dl)
        return YamlFile(node, None, _replaced(parsed.data, edit.path[:depth], value))
    return None


_NOTHING: Any = object()


def _relative(edit: Edit, depth: int) -> Edit:
    return Edit(edit.file, edit.path[depth:], edit.op, edit.value)


def _block_entry(text: str, root: Node, path: Sequence[PathPart]) -> tuple[list[tuple[Node, int]], int, int] | None:
    """The block entry holding the node at `path`: the containers down to it (with the index taken in
    each) and the entry's text span, from its line's start to its last line's end."""
    chain: list[tuple[Node, int]] = []
    node = root
    for part in path:
        index = _index(node, part)
        if index is None:
            return None
        chain.append((node, index))
        node = node.value[index][1] if isinstance(node, MappingNode) else node.value[index]
    container, index = chain[-1]
    if _is_flow(container) or not isinstance(container, (MappingNode, SequenceNode)):
        return None
    if isinstance(container, MappingNode):
        first = container.value[index][0].start_mark.index
    else:
        item_start = node.start_mark.index
        first = text.rfind("-", 0, item_start)
        if first < 0 or text[first + 1 : item_start].strip():
            return None
    start = text.rfind("\n", 0, first) + 1
    if text[start:first].strip(" "):
        return None
    end = _end(text, node)
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    rest = text[end:line_end].strip()
    if rest and not rest.startswith("#"):
        return None
    return chain, start, line_end


def _index(node: Node, part: PathPart) -> int | None:
    if isinstance(node, MappingNode):
        for i, (k, _v) in enumerate(node.value):
            if isinstance(k, ScalarNode) and (k.value == part or (isinstance(part, int) and k.value == str(part))):
                return i
        return None
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return part
    return None


def _single(region: YamlFile, container: Node, old: str, start: int) -> Any:
    """The value of the one entry the region holds, if it is one block entry of the container's kind
    at the container's indentation; else _NOTHING."""
    node, data = region.node, region.data
    if node is None or _is_flow(node) or len(node.value) != 1 or type(node) is not type(container):
        return _NOTHING
    column = node.value[0][0].start_mark.column if isinstance(node, MappingNode) else node.start_mark.column
    first = container.value[0][0] if isinstance(container, MappingNode) else container
    want = first.start_mark.column
    if isinstance(container, SequenceNode):
        want = old.rfind("-", 0, container.value[0].start_mark.index)
        want -= old.rfind("\n", 0, want) + 1
    if column != want:
        return _NOTHING
    if isinstance(node, MappingNode):
        return next(iter(data.values())) if isinstance(data, dict) and len(data) == 1 else _NOTHING
    return data[0] if isinstance(data, list) and len(data) == 1 else _NOTHING


def _has_anchor(root: Node, cache: FileCache | None = None, text: str | None = None) -> bool:
    def walk() -> bool:
        stack = [root]
        while stack:
            node = stack.pop()
            if getattr(node, "anchor", None) or getattr(node, "merge", None):
                return True
            if isinstance(node, MappingNode):
                for k, v in node.value:
                    stack += (k, v)
            elif isinstance(node, SequenceNode):
                stack += node.value
        return False

    return cache.memo(("anchors", text), walk) if cache is not None and text is not None else walk()


def _has_directive(text: str) -> bool:
    return text.startswith(("%", "---")) or "\n%" in text or "\n---" in text or "\n..." in text


def _shifted(node: Node, index: int, line: int) -> Node:
    """A copy of the node and everything under it, its marks moved by `index` characters and `line` lines
    (columns stay: what moves is whole lines)."""
    out = _clone(node)
    out.start_mark = _mark(node.start_mark, index, line)
    out.end_mark = _mark(node.end_mark, index, line)
    if isinstance(node, MappingNode):
        out.value = [(_shifted(k, index, line), _shifted(v, index, line)) for k, v in node.value]
    elif isinstance(node, SequenceNode):
        out.value = [_shifted(v, index, line) for v in node.value]
    return out


_SLOTS: dict[type, tuple[str, ...]] = {
    cls: tuple(dict.fromkeys(s for c in cls.__mro__ for s in getattr(c, "__slots__", ())))
    for cls in (ScalarNode, SequenceNode, MappingNode)
}


def _clone(node: Node) -> Node:
    """A shallow copy (copy.copy of a slotted node is several times slower, and there are thousands)."""
    slots = _SLOTS.get(type(node))
    if slots is None:
        return copy.copy(node)
    out: Node = object.__new__(type(node))
    for name in slots:
        object.__setattr__(out, name, getattr(node, name))
    return out


def _mark(mark: Any, index: int, line: int) -> StreamMark:
    return StreamMark(mark.name, mark.index + index, mark.line + line, mark.column)


def _graft(node: Node, chain: list[tuple[Node, int]], level: int, replacement: Any, di: int, dl: int) -> Node:
    """`node` (an ancestor of the edited entry) with the entry replaced: what comes before is shared, what
    comes after is shifted by the new text's length, and the ancestors end later."""
    container, index = chain[level]
    assert container is node
    out = _clone(node)
    out.end_mark = _mark(node.end_mark, di, dl)
    items: list[Any] = list(node.value[:index])
    if level == len(chain) - 1:
        items.append(replacement)
    elif isinstance(node, MappingNode):
        key, value = node.value[index]
        items.append((key, _graft(value, chain, level + 1, replacement, di, dl)))
    else:
        items.append(_graft(node.value[index], chain, level + 1, replacement, di, dl))
    for item in node.value[index + 1 :]:
        items.append(
            (_shifted(item[0], di, dl), _shifted(item[1], di, dl))
            if isinstance(item, tuple)
            else _shifted(item, di, dl)
        )
    out.value = items
    return out


def _replaced(data: Any, path: Sequence[PathPart], value: Any) -> Any:
    """`data` with the value at `path` replaced, copying only the containers on the path."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: _replaced(data[head], rest, value)}
    out = list(data)
    out[head] = _replaced(data[head], rest, value)  # type: ignore[index]
    return out


# -- splicing ---------------------------------------------------------------------------------------


def _splice(text: str, edit: Edit, data: Any, root: Node | None) -> str | None:
    """`data` is the file's current plain data, for the value being replaced; `root` its composed nodes."""
    if root is None or not edit.path:
        return None
    parent: Node = root
    key_col = 0
    for part in edit.path[:-1]:
        parent, key_col = _node_child(parent, part, key_col)
    last = edit.path[-1]
    if edit.op == "set":
        if isinstance(parent, MappingNode) and not any(k.value == last for k, _ in parent.value):
            return _insert_key(text, parent, str(last), edit.value)
        node, col = _node_child(parent, last, key_col)
        return _replace(text, node, edit.value, col, _at(data, edit.path))
    if edit.op == "append":
        node, col = _node_child(parent, last, key_col)
        if isinstance(node, SequenceNode) and not _is_flow(node) and node.value:
            at = _end(text, node)
            indent = node.value[0].start_mark.column - 2
            return str(text[:at] + "\n" + " " * indent + "- " + _block_item(edit.value, indent + 2) + text[at:])
        current = _at(data, edit.path)
        return _replace(text, node, [*current, edit.value], col, current) if isinstance(current, list) else None
    # delete
    node, _ = _node_child(parent, last, key_col)
    if _is_flow(parent):
        return None
    start_index = node.start_mark.index
    if isinstance(parent, MappingNode):
        start_index = next(k for k, v in parent.value if v is node).start_mark.index
    line_start = text.rfind("\n", 0, start_index) + 1
    lead = text[line_start:start_index]
    if lead.strip() not in ("", "-"):
        return None
    end = _end(text, node)
    end = end + 1 if text[end : end + 1] == "\n" else end
    return text[:line_start] + text[end:]


def _is_flow(node: Node) -> bool:
    return bool(getattr(node, "flow_style", False))


def _at(data: Any, path: Sequence[PathPart]) -> Any:
    for part in path:
        data = data[part]
    return data


def _node_child(node: Node, part: PathPart, key_col: int) -> tuple[Node, int]:
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if k.value == part or (isinstance(part, int) and k.value == str(part)):
                return v, k.start_mark.column
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item.start_mark.column
    raise EditError(f"no {part!r} here")


def _end(text: str, node: Node) -> int:
    """End of the node's own text: trailing blank lines and comment lines belong to what follows."""
    end = int(node.end_mark.index)
    if isinstance(node, ScalarNode) or _is_flow(node):
        return end
    chunk = text[node.start_mark.index : end]
    lines = chunk.split("\n")
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].strip().startswith("#")):
        lines.pop()
    return int(node.start_mark.index) + len("\n".join(lines).rstrip())


def _replace(text: str, node: Node, value: Any, key_col: int, old: Any) -> str:
    start, end = node.start_mark.index, _end(text, node)
    col = node.start_mark.column
    block_node = isinstance(node, (MappingNode, SequenceNode)) and not _is_flow(node)
    if isinstance(node, ScalarNode) and node.style in ("|", ">", '"') and isinstance(value, str):
        return text[:start] + json.dumps(value, ensure_ascii=False) + text[end:]
    if (
        isinstance(node, SequenceNode)
        and node.value
        and isinstance(value, list)
        and value
        and isinstance(old, list)
        and len(old) == len(node.value)
    ):
        start, body = _merge_seq(text, node, value, old)
        return text[:start] + body + text[end:]
    if block_node and isinstance(node, MappingNode) and isinstance(value, dict) and value:
        return text[:start] + _block_map(value, col) + text[end:]
    if isinstance(value, (dict, list)) and not _flat(value) and not block_node:
        if _in_flow(text, start):
            return text[:start] + _flow(value, col) + text[end:]
        indent = key_col + 2
        if isinstance(value, list):
            lines = [" " * indent + "- " + _block_item(v, indent + 2) for v in value]
        else:
            lines = [" " * indent + _block_map(value, indent)]
        return text[:start].rstrip(" ") + "\n" + "\n".join(lines) + text[end:]
    return text[:start] + _flow(value, col) + text[end:]


def _merge_seq(text: str, node: SequenceNode, value: list[Any], old: list[Any]) -> tuple[int, str]:
    """Where the sequence's text starts and its new text, copying unchanged runs of items verbatim."""
    key = [json.dumps(v, sort_keys=True) for v in old]
    new_key = [json.dumps(v, sort_keys=True) for v in value]
    flow = _is_flow(node)
    items = node.value
    starts = [n.start_mark.index if flow else text.rfind("-", 0, n.start_mark.index) for n in items]
    indent = items[0].start_mark.column if flow else starts[0] - text.rfind("\n", 0, starts[0]) - 1
    pieces: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=key, b=new_key, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(text[starts[i1] : _end(text, items[i2 - 1])])
        else:
            pieces.extend(_flow(v, indent) if flow else "- " + _block_item(v, indent + 2) for v in value[j1:j2])
    if not flow:
        return starts[0], ("\n" + " " * indent).join(pieces)
    line_start = text.rfind("\n", 0, node.start_mark.index) + 1
    return node.start_mark.index, "[" + _join_flow(pieces, indent, _width(text[line_start : starts[0]])) + "]"


def _join_flow(pieces: list[str], indent: int, width: int) -> str:
    """Join flow items with ", ", breaking the line before it grows past the width."""
    out = ""
    for p in pieces:
        head = p.split("\n", 1)[0]
        if out and width + _width(head) + 2 > FLOW_WIDTH:
            out += ",\n" + " " * indent
            width = indent
        elif out:
            out += ", "
            width += 2
        out += p
        width = _width(p.rsplit("\n", 1)[-1]) + (indent if "\n" in p else width)
    return out


def _width(s: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _in_flow(text: str, index: int) -> bool:
    """Whether `index` sits inside a flow collection (a rough bracket count on its line)."""
    line = text[text.rfind("\n", 0, index) + 1 : index]
    return line.count("[") + line.count("{") > line.count("]") + line.count("}")


def _insert_key(text: str, mapping: MappingNode, key: str, value: Any) -> str | None:
    if _is_flow(mapping) or not mapping.value:
        return None
    col = mapping.value[0][0].start_mark.column
    at = _end(text, mapping)
    return str(text[:at] + "\n" + " " * col + _entry(key, value, col) + text[at:])


def _entry(key: str, value: Any, col: int) -> str:
    if isinstance(value, dict) and value and not _flat(value):
        return f"{_scalar(key)}:\n" + " " * (col + 2) + _block_map(value, col + 2)
    if isinstance(value, list) and value and not _flat(value):
        return f"{_scalar(key)}:\n" + "\n".join(" " * (col + 2) + "- " + _block_item(v, col + 4) for v in value)
    return f"{_scalar(key)}: {_flow(value, col + len(key) + 2)}"


def _block_map(value: Mapping[str, Any], col: int) -> str:
    return ("\n" + " " * col).join(_entry(str(k), v, col) for k, v in value.items())


def _block_item(value: Any, col: int) -> str:
    if isinstance(value, dict) and value and not _flat(value):
        return _block_map(value, col)
    return _flow(value, col)


def _flat(value: Any) -> bool:
    """Short enough and simple enough to write on one line in flow style."""
    if isinstance(value, list):
        return all(not isinstance(v, (dict, list)) or _flat(v) for v in value)
    if isinstance(value, dict):
        return len(_flow(value, 0)) <= FLOW_WIDTH and all(not isinstance(v, dict) or _flat(v) for v in value.values())
    return True


def _flow(value: Any, col: int) -> str:
    if isinstance(value, list):
        parts = [_flow(v, col + 1) for v in value]
        lines: list[str] = []
        line = ""
        for p in parts:
            if line and col + len(line) + len(p) + 2 > FLOW_WIDTH:
                lines.append(line + ",")
                line = p
            else:
                line = f"{line}, {p}" if line else p
        lines.append(line)
        return "[" + ("\n" + " " * (col + 1)).join(lines) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(str(k))}: {_flow(v, col)}" for k, v in value.items()) + "}"
    return _scalar(value)


_SAFE = re.compile(r"^[^\s\"'#:,\[\]{}&*!|>%@`?-][^\"#:,\[\]{}]*$")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    s = str(value)
    if _SAFE.match(s) and s == s.strip():
        try:
            if YAML(typ="safe").load(f"[{s}]") == [s]:
                return s
        except YAMLError:
            pass
    return json.dumps(s, ensure_ascii=False)


# -- fallback: ruamel round trip --------------------------------------------------------------------


def _redump(text: str, edit: Edit) -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(text)
    if not edit.path:
        data = _node(edit.value)
    else:
        parent = data
        for part in edit.path[:-1]:
            parent = parent[part]
        last = edit.path[-1]
        if edit.op == "append":
            parent[last].append(_node(edit.value))
        elif edit.op == "delete":
            del parent[last]
        else:
            parent[last] = _node(edit.value)
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def _node(value: Any) -> Any:
    """Plain data as ruamel nodes; lists of plain words are written in flow style like the packs'."""
    if isinstance(value, dict):
        m = CommentedMap((k, _node(v)) for k, v in value.items())
        if _flat(value) and len(value) <= 6:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_node(v) for v in value)
        if all(not isinstance(v, (dict, list)) for v in value):
            s.fa.set_flow_style()
        return s
    return value
