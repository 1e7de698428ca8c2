"""Pack files parsed and compiled once per content, so a change to one file re-reads only that file.

Parsing the pack's YAML with line numbers is the slow part of every pack operation (ruamel's
round-trip parser: ~150 ms of CPU for the default `rules.yaml` alone), and a trainer's save
changes one file of eight. Everything kept here is a pure function of a file's text (and of the
compile arguments in its key: the compiled rules and phrases are keyed on the pack's synonym groups
too, so an edit of `synonyms.txt` recompiles them), so memoising by content is safe. The cache is an object its owner
(the pack service, a tool) creates and passes in: two services share nothing. Values are shared
between callers and must be treated as read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node

from assist.scripts.yamlfile import plain

T = TypeVar("T")
KEEP = 48
"""Entries kept (each a parsed file or a compiled part): a few drafts' worth of files and their versions."""


@dataclass(frozen=True, slots=True)
class YamlFile:
    """One YAML text, parsed once: the composed nodes (text positions, for splicing edits into the text),
    the round-trip document (line numbers, for problems) and its plain data (shared: read-only)."""

    node: Node | None
    doc: Any
    """None when the data came from re-reading only the edited part (`FileCache.doc` parses it then)."""
    data: Any
    error: YAMLError | None = None


class FileCache:
    """Parsed YAML files and other pure results, keyed by content; least recently used go first."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()  # used from worker threads: compile and view may run at once
        self.hits = 0
        self.misses = 0

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()` once per key; `key` must hold everything the result depends on (texts, arguments)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]  # type: ignore[no-any-return]
            self.misses += 1
        value = make()  # outside the lock: two threads may both make it; the result is the same
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return value

    def yaml(self, text: str) -> YamlFile:
        """The text parsed once (composed and constructed from the same nodes)."""
        return self.memo(("yaml", text), lambda: parse(text))

    def put(self, text: str, parsed: YamlFile) -> None:
        """Remember a text's parse that was made without reading the whole text (an edit's local re-read)."""
        self.memo(("yaml", text), lambda: parsed)

    def doc(self, text: str) -> Any:
        """The round-trip document (line numbers for problems); the whole text is parsed if need be."""
        parsed = self.yaml(text)
        if parsed.doc is not None or parsed.error is not None or parsed.node is None:
            return parsed.doc
        return self.memo(("doc", text), lambda: parse(text).doc)

    def data(self, text: str) -> Any:
        """The text's plain data (shared: read-only); raises the YAMLError when it does not parse.

        Data learnt from elsewhere (`learn`: a worker process parsed the text) or a round-trip parse already
        made is used as it is. Otherwise the data alone is loaded (`load_data`: a sixth of the round-trip
        parse's time, which a service start pays for every file), and a text that load rejects is parsed
        round-trip, so its error names the line as before.
        """
        with self._lock:
            for key in (("data", text), ("yaml", text)):
                if key in self._items:
                    self._items.move_to_end(key)
                    self.hits += 1
                    found = self._items[key]
                    break
            else:
                found = None
        if isinstance(found, YamlFile):
            if found.error is not None:
                raise found.error
            return found.data
        if found is not None:
            return found
        try:
            return self.memo(("data", text), lambda: load_data(text))
        except YAMLError:
            parsed = self.yaml(text)
            if parsed.error is not None:
                raise parsed.error from None
            return parsed.data

    def learn(self, text: str, data: Any) -> None:
        """Remember the plain data of a YAML text that was parsed somewhere else (it must parse to it)."""
        self.memo(("data", text), lambda: data)


def load_data(text: str) -> Any:
    """The text's plain data without the round-trip document: ruamel's safe loader, on its C parser where
    ruamel.yaml.clib is installed. Equal to `parse(text).data` (tests/packs/test_file_cache.py); a text
    with a merge key (`<<`) is parsed round-trip, whose merged keys come in another order, and a text the safe
    loader refuses (an unknown tag) raises, for the caller to parse it round-trip."""
    if "<<" in text:
        parsed = parse(text)
        if parsed.error is not None:
            raise parsed.error
        return parsed.data
    return YAML(typ="safe").load(text)


def parse(text: str) -> YamlFile:
    y = YAML(typ="rt")
    try:
        node = y.compose(text)
        doc = y.constructor.construct_document(node) if node is not None else None
    except YAMLError as exc:
        return YamlFile(None, None, None, exc)
    return YamlFile(node, doc, plain(doc))
