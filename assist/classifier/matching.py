"""Find every keyword of a rule set in one normalised text: exact, by sound, and fuzzy.

Cheap by construction, since every line of every live call is scanned:
- one Aho-Corasick automaton holds all keywords, look-alikes, excluded idioms and
  negation cues (one C pass); a second one the character bigrams of the fuzzy keywords,
  counted in C;
- a second automaton over sound codes (pinyin.py) finds homophone typos (头诉 -> 投诉);
- rapidfuzz only scores keywords a bigram or first-letters prefilter proposed.
Exclusions (急死, 投资, 记着呢) veto any keyword hit they overlap.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import chain
from operator import itemgetter
from typing import Generic, NamedTuple, TypeVar

import ahocorasick
from rapidfuzz import fuzz

from assist.classifier.model import Match
from assist.classifier.negation import crosses_clause, is_negated
from assist.classifier.normalize import Normalized
from assist.classifier.pinyin import is_cjk_word, sound_key
from assist.classifier.ruleset import RuleSet

V = TypeVar("V")

_TERM, _NOT, _EXCLUDE, _CUE_BEFORE, _CUE_AFTER, _CORRECTION = range(6)
_LATIN_TOKEN = re.compile(r"[A-Za-z]{5,}")
_MIN_FUZZY_CJK = 6
_MIN_FUZZY_LATIN = 6
_second = itemgetter(1)


class TermHit(NamedTuple):
    """A keyword found at [start, end) of the normalised text (a tuple: made by the thousand per call)."""

    term: int
    start: int
    end: int
    how: Match
    negated: bool


class Matcher:
    """Compiled automata for one RuleSet; `find` is pure and thread-safe."""

    def __init__(self, rules: RuleSet) -> None:
        self._terms = rules.terms
        self._window = rules.negation.window
        self._cutoff = rules.fuzzy_cutoff
        entries: dict[str, list[tuple[int, int]]] = defaultdict(list)
        sounds: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._fuzzy_cjk: set[int] = set()
        grams: dict[str, list[int]] = defaultdict(list)
        self._grams_needed: dict[int, int] = {}
        self._latin_buckets: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(rules.terms):
            entries[t.norm].append((_TERM, i))
            for w in t.not_words:
                entries[w].append((_NOT, i))
            if t.sound:
                sounds[sound_key(t.norm)].append((_TERM, i))
                for w in t.not_words:  # 头诉你们 must veto a sound match of 头诉你 too
                    if is_cjk_word(w):
                        sounds[sound_key(w)].append((_NOT, i))
            if t.fuzzy and len(t.norm) >= _MIN_FUZZY_CJK and is_cjk_word(t.norm):
                self._fuzzy_cjk.add(i)
                # one wrong character spoils at most two of a keyword's bigrams
                self._grams_needed[i] = len(t.norm) - 3
                for k in range(len(t.norm) - 1):
                    grams[t.norm[k : k + 2]].append(i)
            if t.fuzzy and t.word and len(t.norm) >= _MIN_FUZZY_LATIN and t.norm.isalpha():
                self._latin_buckets["^" + t.norm[:2]].append(i)
                self._latin_buckets["$" + t.norm[-2:]].append(i)
        for w in rules.exclude:
            entries[w].append((_EXCLUDE, -1))
        for w in rules.negation.before:
            entries[w].append((_CUE_BEFORE, -1))
        for w in rules.negation.after:
            entries[w].append((_CUE_AFTER, -1))
        for w in rules.negation.corrections:
            entries[w].append((_CORRECTION, -1))
        self._exact = _Automaton({k: tuple(v) for k, v in entries.items()})
        self._sound = _Automaton({k: tuple(v) for k, v in sounds.items()}) if sounds else None
        # The bigrams of long keywords only propose fuzzy candidates; they are counted in C.
        self._grams = _GramCounter({k: tuple(v) for k, v in grams.items()})
        self._lengths = tuple(len(t.norm) for t in rules.terms)
        self._plain = tuple(not t.word for t in rules.terms)

    def find(self, n: Normalized) -> list[TermHit]:
        """Every keyword hit in `n`, vetoed by look-alikes and flagged when negated."""
        text = n.text
        if not text:
            return []
        lengths = self._lengths
        raw: list[tuple[int, int, int, Match]] = []  # term, start, end, how
        nots: list[tuple[int, int, int]] = []
        excl: list[tuple[int, int]] = []
        before: list[tuple[int, int]] = []
        after: list[tuple[int, int]] = []
        corrections: list[tuple[int, int]] = []
        exact_terms: set[int] = set()
        for end_idx, (key, values) in self._exact.iter(text):
            end = end_idx + 1
            for kind, ref in values:
                if kind == _TERM:
                    raw.append((ref, end - lengths[ref], end, "exact"))
                    exact_terms.add(ref)
                else:
                    span = (end - len(key), end)
                    if kind == _NOT:
                        nots.append((ref, *span))
                    elif kind == _EXCLUDE:
                        excl.append(span)
                    elif kind == _CUE_BEFORE:
                        before.append(span)
                    elif kind == _CORRECTION:
                        corrections.append(span)
                    else:
                        after.append(span)
        if self._sound is not None:
            raw.extend(self._sound_hits(text, nots))
        if self._grams_needed:
            counts = self._grams.count(text)
            needed = self._grams_needed
            for ref, count in counts.items():
                if count >= needed[ref] and ref not in exact_terms:
                    raw.extend(self._fuzzy_cjk_hits(ref, text))
        if self._latin_buckets and _LATIN_TOKEN.search(n.original) is not None:
            raw.extend(self._fuzzy_latin_hits(n, exact_terms))
        if not raw:
            return []
        if before or after:  # a cue inside a keyword (不想 in 不想活) negates nothing
            spans = [(s, e) for _, s, e, how in raw if how == "exact"]
            before = [c for c in before if not _inside_any(c, spans) and not _a_not_a(text, c)]
            after = [c for c in after if not _inside_any(c, spans)]
        cues = bool(before or after)
        window = self._window
        plain = self._plain
        out: list[TermHit] = []
        seen: set[tuple[int, int, int]] = set()
        for ref, start, end, how in raw:
            where = (ref, start, end)
            if where in seen:
                continue
            seen.add(where)
            if not plain[ref] and not _whole_word(n, start, end, self._terms[ref].prefix):
                continue
            if excl and any(s < end and start < e for s, e in excl):
                continue
            if nots and any(r == ref and s < end and start < e for r, s, e in nots):
                continue
            negated = (cues and is_negated(n, start, end, before, after, window)) or \
                (bool(corrections) and any(0 <= c_start - end <= window for c_start, _ in corrections))
            out.append(TermHit(ref, start, end, how, negated))
        return _chain_negation(n, out) if any(h.negated for h in out) else out

    def _sound_hits(self, text: str, nots: list[tuple[int, int, int]]) -> list[tuple[int, int, int, Match]]:
        """Keywords that sound like a piece of text which shares at least half their characters."""
        assert self._sound is not None
        key = sound_key(text)
        hits: list[tuple[int, int, int, Match]] = []
        for end_idx, (code, refs) in self._sound.iter(key):
            end = end_idx + 1
            for kind, ref in refs:
                if kind == _NOT:
                    nots.append((ref, end - len(code), end))
                    continue
                norm = self._terms[ref].norm
                start = end - len(norm)
                piece = text[start:end]
                if piece == norm:
                    continue
                same = sum(1 for a, b in zip(piece, norm, strict=True) if a == b)
                if same * 2 >= len(norm):  # keep at least half the characters: 记着 yes, 季哲 no
                    hits.append((ref, start, end, "sound"))
        return hits

    def _fuzzy_cjk_hits(self, ref: int, text: str) -> list[tuple[int, int, int, Match]]:
        """One wrong, missing or extra character in a long keyword (系统繁忙 / 系统烦忙中)."""
        norm = self._terms[ref].norm
        size = len(norm)
        cutoff = 100.0 * (size - 1) / size - 0.01
        hits: list[tuple[int, int, int, Match]] = []
        pos = 0
        for k in range(size - 1):
            pos = text.find(norm[k : k + 2])
            if pos >= 0:
                pos -= k
                break
        lo = max(0, pos - 1)
        for length in (size, size - 1, size + 1):
            for start in range(lo, min(len(text) - length, pos + 1) + 1):
                piece = text[start : start + length]
                if fuzz.ratio(norm, piece, score_cutoff=cutoff):
                    hits.append((ref, start, start + length, "fuzzy"))
                    return hits
        return hits

    def _fuzzy_latin_hits(self, n: Normalized, exact_terms: set[int]) -> list[tuple[int, int, int, Match]]:
        """English typos ("jounalist"), scored only against words sharing first or last letters."""
        hits: list[tuple[int, int, int, Match]] = []
        for m in _LATIN_TOKEN.finditer(n.original):
            token = m.group().lower()
            cands = set(self._latin_buckets.get("^" + token[:2], ())) | set(
                self._latin_buckets.get("$" + token[-2:], ())
            )
            for ref in cands - exact_terms:
                term = self._terms[ref]
                probe = token[: len(term.norm) + 1] if term.prefix else token
                if probe == term.norm or not fuzz.ratio(term.norm, probe, score_cutoff=self._cutoff):
                    continue
                start = bisect_left(n.offsets, m.start())
                end = bisect_left(n.offsets, m.end())
                if start < end:
                    hits.append((ref, start, end, "fuzzy"))
        return hits


class _Automaton(Generic[V]):
    """Aho-Corasick over many keys; `iter` yields (end_index, key, values) for every occurrence."""

    def __init__(self, entries: dict[str, tuple[V, ...]]) -> None:
        self._a = ahocorasick.Automaton()
        for key, values in entries.items():
            self._a.add_word(key, (key, values))
        self._empty = not entries
        if entries:
            self._a.make_automaton()

    def iter(self, text: str) -> Iterator[tuple[int, tuple[str, tuple[V, ...]]]]:
        """(end_index, (key, values)) for every occurrence, straight from the C automaton."""
        if self._empty:
            return iter(())
        return self._a.iter(text)  # type: ignore[no-any-return]


class _GramCounter:
    """Aho-Corasick over bigrams; `count` says how many bigram occurrences each keyword has, in C."""

    def __init__(self, entries: dict[str, tuple[int, ...]]) -> None:
        self._a = ahocorasick.Automaton()
        for key, refs in entries.items():
            self._a.add_word(key, refs)
        if entries:
            self._a.make_automaton()

    def count(self, text: str) -> Counter[int]:
        """keyword -> occurrences of its bigrams in `text` (a bigram the keyword has twice counts twice)."""
        return Counter(chain.from_iterable(map(_second, self._a.iter(text))))


def _a_not_a(text: str, cue: tuple[int, int]) -> bool:
    """The cue is the middle of an A-not-A question (是不是, 会不会, 有没有): it asks, it does not negate."""
    start, end = cue
    return (start > 0 and end - start >= 2 and text[start] in "不没"
            and text[start - 1] == text[start + 1])


CHAIN_GAP = 2
"""A keyword at most this many characters after a negated keyword, in the same clause, is negated too."""


def _chain_negation(n: Normalized, hits: list[TermHit]) -> list[TermHit]:
    """Negation covers the phrase it governs: in "不是说要去12378投诉你们" the cue negates 12378
    and, through it, 投诉 right after; "不是第一次打电话投诉" has no negated keyword in between."""
    out = sorted(hits, key=lambda h: (h.start, h.end))
    for i, h in enumerate(out):
        if h.negated:
            continue
        for prev in out[:i]:
            if prev.negated and prev.end <= h.start and h.start - prev.end <= CHAIN_GAP \
                    and not crosses_clause(n, prev.end, h.start):
                out[i] = h._replace(negated=True)
                break
    return out


def _inside_any(cue: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """True if the cue lies within a longer keyword hit."""
    a, b = cue
    return any(s <= a and b <= e and e - s > b - a for s, e in spans)


def _whole_word(n: Normalized, start: int, end: int, prefix: bool) -> bool:
    """An ASCII keyword must not be glued to other ASCII letters in the original text."""
    a, b = n.span(start, end)
    orig = n.original
    if a > 0 and orig[a - 1].isascii() and orig[a - 1].isalnum():
        return False
    return prefix or b >= len(orig) or not (orig[b].isascii() and orig[b].isalnum())
