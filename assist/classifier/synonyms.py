"""Synonym groups as the compilers use them: a term's group, found by the term's compared form.

A pack's `synonyms.txt` (parsed in `scripts.synonyms`) lists groups of terms that mean the same
thing (`网银 = 网上银行 = 网上银行系统`). The rule and forbidden-phrase compilers turn a keyword that
belongs to a group into one alternative per term of its group, so matching a call stays the same
work per character (one automaton, more keys) and nothing is looked up per call. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assist.classifier.normalize import normalize_text

Groups = Sequence[Sequence[str]]


def group_index(groups: Groups, key: Callable[[str], str] = normalize_text) -> dict[str, tuple[str, ...]]:
    """`key(term)` -> the whole group of that term (as written, in file order); the first group wins a
    term two groups share under `key` (the parser reports terms shared under its own, laxer fold)."""
    index: dict[str, tuple[str, ...]] = {}
    for group in groups:
        whole = tuple(group)
        for term in whole:
            k = key(term)
            if k:
                index.setdefault(k, whole)
    return index


def other_forms(word: str, index: dict[str, tuple[str, ...]]) -> list[str]:
    """The normalised forms of the other terms of a normalised word's group, in group order, without
    the word itself or repeats ([] for a word in no group)."""
    out: dict[str, None] = {}
    for term in index.get(word, ()):
        norm = normalize_text(term)
        if norm and norm != word:
            out[norm] = None
    return list(out)


def expand_words(words: Sequence[str], index: dict[str, tuple[str, ...]]) -> list[str]:
    """Normalised words, each followed in place by the other forms of its group; order kept, no repeats."""
    if not index:
        return list(words)
    out: dict[str, None] = {}
    for w in words:
        out[w] = None
        for alt in other_forms(w, index):
            out[alt] = None
    return list(out)
