"""Find every keyword of a rule set in one normalised text: exact, by sound, and fuzzy.

Cheap by construction, since every line of every live call is scanned:
- one Aho-Corasick automaton holds all keywords, look-alikes, excluded idioms and
  negation cues (one C pass); a second one the character bigrams of the fuzzy keywords,
  counted in C for one line, with array operations for a whole call (`find_call`);
- a third automaton over sound codes (pinyin.py) finds homophone typos (头诉 -> 投诉),
  once per call on the cold path;
- rapidfuzz only scores keywords a bigram or first-letters prefilter proposed, and only
  windows of text that can hold a near miss.
Exclusions (急死, 投资, 记着呢) veto any keyword hit they overlap.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from itertools import accumulate, chain
from operator import itemgetter
from typing import Generic, TypeVar

import ahocorasick
import ahocorasick_rs
import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from assist.classifier.model import Match
from assist.classifier.negation import crosses_clause, is_negated
from assist.classifier.normalize import Normalized
from assist.classifier.pinyin import is_cjk_word, sound_key, sound_key_of, sound_table
from assist.classifier.ruleset import RuleSet

V = TypeVar("V")

_TERM, _NOT, _EXCLUDE, _CUE_BEFORE, _CUE_AFTER, _CORRECTION, _WORD = range(7)
SEPARATOR = "\n"
"""Joins a call's normalised segments for the call-wide searches: normalised text never holds it, so no
keyword, sound code or bigram spans two segments."""
_LATIN_TOKEN = re.compile(r"[A-Za-z]{5,}")
_MIN_FUZZY_CJK = 6
_MIN_FUZZY_LATIN = 6
_second = itemgetter(1)
_SPAN = itemgetter(1, 2)
_PAIR_SHIFT = 21
_SHIFT = np.uint64(_PAIR_SHIFT)
"""A character pair as one integer: the first code point above the second (code points fit in 21 bits)."""
Ints = npt.NDArray[np.int64] | npt.NDArray[np.uint64]


TermHit = tuple[int, int, int, Match, bool]
"""A keyword found at [start, end) of the normalised text: (keyword id, start, end, how, negated). A plain
tuple, read by index: made by the thousand per call, and a named tuple's constructor is Python code."""
Found = tuple[Sequence[TermHit], bool]
"""A segment's keyword hits, and whether they are every exact occurrence as the automaton gave them (nothing
vetoed, negated, heard or guessed): then keywords found at one place are already in the order first found."""
NOTHING: Found = ((), True)


FUNCTION_CHARS = frozenset("了你我他她它们的地得是在就也都吗吧呢啊呀哦嘛着过个这那一不有和与或还又再很太把被给让要会")
"""Characters too common to carry a match by sound: a piece of text that reads like a keyword must share with it
at least one character outside these. 在了你 (现在了你就…) sounds like 宰了你 but agrees with it only on 了 and 你."""


def sounds_like(piece: str, norm: str) -> bool:
    """Whether `piece`, which reads like keyword `norm` (same length, same sound codes), is taken for it: it keeps
    at least half the keyword's characters (记着 yes, 季哲 no), and one of those it keeps carries meaning."""
    kept = [a for a, b in zip(piece, norm, strict=True) if a == b]
    return len(kept) * 2 >= len(norm) and any(a not in FUNCTION_CHARS for a in kept)


class Matcher:
    """Compiled automata for one RuleSet; `find` is pure and thread-safe."""

    def __init__(self, rules: RuleSet) -> None:
        self._terms = rules.terms
        sound_table()  # built once per process, here rather than on the first call searched
        self._window = rules.negation.window
        self._cutoff = rules.fuzzy_cutoff
        entries: dict[str, list[tuple[int, int]]] = defaultdict(list)
        sounds: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        self._fuzzy_cjk: set[int] = set()
        grams: dict[str, list[int]] = defaultdict(list)
        self._grams_needed: dict[int, int] = {}
        self._latin_buckets: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(rules.terms):
            entries[t.norm].append((_TERM, i))
            for w in t.not_words:
                entries[w].append((_NOT, i))
            if t.sound:
                sounds[sound_key(t.norm)].append((_TERM, i, t.norm))
                for w in t.not_words:  # 头诉你们 must veto a sound match of 头诉你 too
                    if is_cjk_word(w):
                        sounds[sound_key(w)].append((_NOT, i, w))
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
        # Each key's payload is ready to use: (its length, the keywords it is, anything else it is, with
        # _WORD when one of its keywords must stand as a whole word): most occurrences are plain keywords
        # only, turned into hits without looking at kinds.
        self._exact = _Automaton(
            {
                k: (
                    len(k),
                    tuple(ref for kind, ref in v if kind == _TERM),
                    tuple((kind, ref) for kind, ref in v if kind != _TERM)
                    + (((_WORD, -1),) if any(kind == _TERM and rules.terms[ref].word for kind, ref in v) else ()),
                )
                for k, v in entries.items()
            }
        )
        # Sound payloads carry each entry's own text: an occurrence that reads exactly as written is the
        # exact automaton's (the same keyword, the same look-alike), so a call whose every sound occurrence
        # does is not searched by sound segment by segment (`find_call`).
        # Payload: (length, the one text every entry has or None when they differ, the entries).
        self._sound = _Automaton({k: (len(k), _one_word(v), tuple(v)) for k, v in sounds.items()}) if sounds else None
        # The bigrams of long keywords only propose fuzzy candidates; they are counted in C (one segment, the
        # live path) or with array operations over a whole call (`find_call`).
        self._grams = _GramCounter({k: tuple(v) for k, v in grams.items()})
        self._gram_refs = {k: tuple(v) for k, v in grams.items()}
        self._gram_table = _GramTable.build(grams, self._grams_needed)
        self._least_needed = min(self._grams_needed.values(), default=0)
        # a near miss is at most one character shorter than its keyword: no shorter text holds one
        self._least_window = min((len(rules.terms[i].norm) - 1 for i in self._fuzzy_cjk), default=0)
        self._lengths = tuple(len(t.norm) for t in rules.terms)
        self._plain = tuple(not t.word for t in rules.terms)

    def find_call(self, ns: Sequence[Normalized], wanted: Sequence[bool]) -> list[Found]:
        """`find` for each of a call's segments that is `wanted` ([] for the others), with the sound and
        fuzzy searches done once over the whole call: the sound search gives each segment its hits, and
        the bigrams of long keywords are counted per segment with a few array operations, so a segment
        pays only for what it has (most have neither a homophone nor a near miss)."""
        texts = [n.text if w else "" for n, w in zip(ns, wanted, strict=True)]
        joined = SEPARATOR.join(texts)
        if not joined.strip(SEPARATOR):
            return [NOTHING for _ in ns]
        starts = list(accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4")
        sound = self._sounds_by_segment(joined, codes, starts) if self._sound is not None else {}
        table = self._gram_table
        fuzzy = (
            table.candidates(codes, starts, [len(t) >= self._least_window for t in texts]) if table is not None else {}
        )
        latin = (
            bool(self._latin_buckets)
            and _LATIN_TOKEN.search(SEPARATOR.join(n.original for n, t in zip(ns, texts, strict=True) if t)) is not None
        )
        out: list[Found] = []
        for k, (n, t) in enumerate(zip(ns, texts, strict=True)):
            if not t:
                out.append(NOTHING)
                continue
            found = sound.get(k)
            out.append(self._find(n, found[0] if found else (), found[1] if found else [], fuzzy.get(k, ()), latin))
        return out

    def _sounds_by_segment(
        self, text: str, codes: npt.NDArray[np.uint32], starts: Sequence[int]
    ) -> dict[int, tuple[list[TermHit], list[tuple[int, int, int]]]]:
        """Sound hits and sound look-alikes of each segment joined in `text` (segment -> (hits, nots)), in
        the order `_sound_hits` gives them. An occurrence that reads exactly as every entry of its key is
        written gives nothing: not a hit, and a look-alike the exact search found at the same place."""
        assert self._sound is not None
        found: dict[int, tuple[list[TermHit], list[tuple[int, int, int]]]] = {}
        payloads = self._sound.payloads
        for key, start, end in self._sound.find(sound_key_of(text, codes)):
            _, word, entries = payloads[key]
            piece = text[start:end]
            if piece == word:
                continue
            k = bisect_right(starts, start) - 1
            base = starts[k]
            pair = found.get(k)
            if pair is None:
                pair = found[k] = ([], [])
            hits, nots = pair
            for kind, ref, norm in entries:
                if kind == _NOT:
                    nots.append((ref, start - base, end - base))
                elif piece != norm and sounds_like(piece, norm):
                    hits.append((ref, start - base, end - base, "sound", False))
        return found

    def find(self, n: Normalized) -> Found:
        """Every keyword hit in `n`, vetoed by look-alikes and flagged when negated."""
        text = n.text
        nots: list[tuple[int, int, int]] = []
        sound = self._sound_hits(text, nots) if self._sound is not None and text else []
        fuzzy: list[int] = []
        if self._grams_needed and len(text) >= self._least_window:
            needed = self._grams_needed
            fuzzy = [ref for ref, count in self._grams.count(text, self._least_needed).items() if count >= needed[ref]]
        return self._find(n, sound, nots, fuzzy, True)

    def _find(
        self,
        n: Normalized,
        sound: Sequence[TermHit],
        nots: list[tuple[int, int, int]],
        fuzzy: Sequence[int],
        latin: bool,
    ) -> Found:
        """`find` given the segment's sound hits and sound look-alikes (`nots`), the long keywords whose
        bigrams it holds often enough to be near misses (`fuzzy`, in any order), and
        `latin` False when the call has been seen to hold no word of Latin letters."""
        text = n.text
        if not text:
            return NOTHING
        raw: list[TermHit] = []
        others: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
        payloads = self._exact.payloads
        for key, start, end in self._exact.find(text):
            _, terms, other = payloads[key]
            for ref in terms:
                raw.append((ref, start, end, "exact", False))
            if other:
                others.append((start, end, other))
        exact = len(raw)
        if sound:
            raw.extend(sound)
        if fuzzy:
            exact_terms = {h[0] for h in raw[:exact]}
            near = [
                (ref, found) for ref in fuzzy if ref not in exact_terms and (found := self._fuzzy_cjk_hits(ref, text))
            ]
            if len(near) > 1:  # in the order counting the bigrams meets the keywords
                near.sort(key=lambda pair: self._first_met(pair[0], text))
            for _, found in near:
                raw.extend(found)
        if latin and self._latin_buckets and _LATIN_TOKEN.search(n.original) is not None:
            raw.extend(self._fuzzy_latin_hits(n, {h[0] for h in raw[:exact]}))
        if not raw:
            return NOTHING
        if not others and not nots and len(raw) == exact:
            return raw, True  # nothing to veto or negate: every exact occurrence is a hit (the common case)
        excl: list[tuple[int, int]] = []
        before: list[tuple[int, int]] = []
        after: list[tuple[int, int]] = []
        corrections: list[tuple[int, int]] = []
        for start, end, other in others:
            for kind, ref in other:
                if kind == _NOT:
                    nots.append((ref, start, end))
                elif kind == _EXCLUDE:
                    excl.append((start, end))
                elif kind == _CUE_BEFORE:
                    before.append((start, end))
                elif kind == _CORRECTION:
                    corrections.append((start, end))
                elif kind == _CUE_AFTER:
                    after.append((start, end))
        if before or after:  # a cue inside a keyword (不想 in 不想活) negates nothing
            spans = [(h[1], h[2]) for h in raw[:exact]]
            before = [c for c in before if not _inside_any(c, spans) and not _a_not_a(text, c)]
            after = [c for c in after if not _inside_any(c, spans)]
        cues = bool(before or after)
        window = self._window
        plain = self._plain
        out: list[TermHit] = []
        seen: set[tuple[int, int, int]] | None = set() if len(raw) > exact else None  # exact hits never repeat
        for h in raw:
            ref, start, end, _, _ = h
            if seen is not None:
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
            negated = (cues and is_negated(n, start, end, before, after, window)) or (
                bool(corrections) and any(0 <= c_start - end <= window for c_start, _ in corrections)
            )
            out.append((ref, start, end, h[3], True) if negated else h)
        return (_chain_negation(n, out) if any(h[4] for h in out) else out), False

    def _first_met(self, ref: int, text: str) -> tuple[int, int]:
        """Where a bigram of long keyword `ref` first occurs in `text`, and the keyword's place among that
        bigram's keywords: the order in which counting the bigrams of `text` meets the keywords."""
        norm = self._terms[ref].norm
        at = min(p for p in (text.find(norm[k : k + 2]) for k in range(len(norm) - 1)) if p >= 0)
        return at, self._gram_refs[text[at : at + 2]].index(ref)

    def _sound_hits(self, text: str, nots: list[tuple[int, int, int]]) -> list[TermHit]:
        """Keywords that sound like a piece of text which shares at least half their characters."""
        assert self._sound is not None
        hits: list[TermHit] = []
        payloads = self._sound.payloads
        for key, _, end in self._sound.find(sound_key(text)):
            for kind, ref, norm in payloads[key][2]:
                start = end - len(norm)
                if kind == _NOT:
                    nots.append((ref, start, end))
                    continue
                piece = text[start:end]
                if piece != norm and sounds_like(piece, norm):
                    hits.append((ref, start, end, "sound", False))
        return hits

    def _fuzzy_cjk_hits(self, ref: int, text: str) -> list[TermHit]:
        """One wrong, missing or extra character in a long keyword (系统繁忙 / 系统烦忙中)."""
        norm = self._terms[ref].norm
        size = len(norm)
        cutoff = 100.0 * (size - 1) / size - 0.01
        hits: list[TermHit] = []
        pos = 0
        for k in range(size - 1):
            pos = text.find(norm[k : k + 2])
            if pos >= 0:
                pos -= k
                break
        lo = max(0, pos - 1)
        # Every window below is within one edit of the keyword only if it shares a subsequence of all but one
        # of the keyword's characters with it; so must the text all the windows lie in (one C call, not nine).
        if LCSseq.similarity(norm, text[lo : pos + size + 2]) < size - 1:
            return hits
        for length in (size, size - 1, size + 1):
            for start in range(lo, min(len(text) - length, pos + 1) + 1):
                piece = text[start : start + length]
                if fuzz.ratio(norm, piece, score_cutoff=cutoff):
                    hits.append((ref, start, start + length, "fuzzy", False))
                    return hits
        return hits

    def _fuzzy_latin_hits(self, n: Normalized, exact_terms: set[int]) -> list[TermHit]:
        """English typos ("jounalist"), scored only against words sharing first or last letters."""
        hits: list[TermHit] = []
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
                    hits.append((ref, start, end, "fuzzy", False))
        return hits


class _Automaton(Generic[V]):
    """Aho-Corasick over many keys; `find` gives (key number, start, end) of every occurrence, overlapping ones
    included, ordered by end and, at one end, longest first; `payloads[key number]` is that key's payload.

    The Rust automaton (ahocorasick_rs) hands every occurrence of a text over in one list, in half the time
    pyahocorasick's iterator takes to yield them one by one (docs/performance.md).
    """

    def __init__(self, entries: dict[str, V]) -> None:
        keys = [k for k in entries if k]  # an empty key occurs nowhere
        self.payloads: list[V] = [entries[k] for k in keys]
        self._a = ahocorasick_rs.AhoCorasick(keys, implementation=ahocorasick_rs.Implementation.ContiguousNFA)
        self._empty = not keys

    def find(self, text: str) -> list[tuple[int, int, int]]:
        """(key number, start, end) of every occurrence in `text`."""
        if self._empty:
            return []
        return self._a.find_matches_as_indexes(text, overlapping=True)


class _GramCounter:
    """Aho-Corasick over bigrams; `count` says how many bigram occurrences each keyword has, in C."""

    def __init__(self, entries: dict[str, tuple[int, ...]]) -> None:
        self._a = ahocorasick.Automaton()
        for key, refs in entries.items():
            self._a.add_word(key, refs)
        if entries:
            self._a.make_automaton()

    def count(self, text: str, least: int = 0) -> Counter[int]:
        """keyword -> occurrences of its bigrams in `text` (a bigram the keyword has twice counts twice);
        empty when there are fewer than `least` in all (no keyword can have that many)."""
        found = list(chain.from_iterable(map(_second, self._a.iter(text))))
        return Counter(found) if len(found) >= least else Counter()


def _a_not_a(text: str, cue: tuple[int, int]) -> bool:
    """The cue is the middle of an A-not-A question (是不是, 会不会, 有没有): it asks, it does not negate."""
    start, end = cue
    return start > 0 and end - start >= 2 and text[start] in "不没" and text[start - 1] == text[start + 1]


CHAIN_GAP = 2
"""A keyword at most this many characters after a negated keyword, in the same clause, is negated too."""


def _chain_negation(n: Normalized, hits: list[TermHit]) -> list[TermHit]:
    """Negation covers the phrase it governs: in "不是说要去12378投诉你们" the cue negates 12378
    and, through it, 投诉 right after; "不是第一次打电话投诉" has no negated keyword in between."""
    out = sorted(hits, key=_SPAN)
    for i, h in enumerate(out):
        if h[4]:
            continue
        for prev in out[:i]:
            if prev[4] and prev[2] <= h[1] and h[1] - prev[2] <= CHAIN_GAP and not crosses_clause(n, prev[2], h[1]):
                out[i] = (h[0], h[1], h[2], h[3], True)
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


def _one_word(entries: Sequence[tuple[int, int, str]]) -> str | None:
    """The text every sound entry of a key is written as, None when they are written differently."""
    words = {word for _, _, word in entries}
    return words.pop() if len(words) == 1 else None


class _GramTable:
    """The bigrams of long keywords as sorted integer keys (first code point above the second), to count
    every segment's bigram occurrences per keyword for a whole call with a few array operations."""

    def __init__(self, keys: Ints, refs: Ints, needed: Ints, terms: tuple[int, ...]) -> None:
        self._keys = keys
        """Each bigram's key, sorted, then a sentinel that no pair of code points equals."""
        self._refs = refs
        """Per bigram, one row: its keywords as dense ids (a keyword that has the bigram twice is there twice),
        filled up with the id of no keyword (`width`: a column counted but never a candidate)."""
        self._needed = needed
        """Per dense id: the bigram occurrences that make it a candidate (for the filler: more than any)."""
        self._terms = terms
        """Dense id -> keyword id."""

    @staticmethod
    def build(grams: Mapping[str, Sequence[int]], needed: Mapping[int, int]) -> _GramTable | None:
        if not grams:
            return None
        dense = {ref: i for i, ref in enumerate(sorted(needed))}
        order = sorted(grams, key=_pair_key)
        filler = len(dense)
        most = max(len(grams[g]) for g in order)
        rows = [[dense[ref] for ref in grams[g]] + [filler] * (most - len(grams[g])) for g in order]
        arrays = (
            np.array([*(_pair_key(g) for g in order), np.iinfo(np.uint64).max], dtype=np.uint64),
            np.array([*rows, [filler] * most], dtype=np.int64),
            np.array([*(needed[ref] for ref in sorted(needed)), np.iinfo(np.int64).max], dtype=np.int64),
        )
        for a in arrays:
            a.setflags(write=False)
        return _GramTable(*arrays, tuple(sorted(needed)))

    def candidates(
        self, text: npt.NDArray[np.uint32], starts: Sequence[int], long_enough: Sequence[bool]
    ) -> dict[int, list[int]]:
        """segment -> the keywords whose bigrams it holds at least as often as they need (in no particular
        order), for the segments joined in `text` (code points; a separator no bigram holds between segments)
        that are `long_enough` to hold a near miss. (Array methods rather than numpy functions: the functions'
        Python wrappers cost as much as the work on arrays this small.)"""
        codes = text.astype(np.uint64)
        if codes.size < 2:
            return {}
        pairs = codes[:-1] << _SHIFT
        pairs |= codes[1:]
        keys = self._keys
        at = keys.searchsorted(pairs)  # the sentinel: `at` is always an index
        pos = (keys.take(at) == pairs).nonzero()[0]
        if not pos.size:
            return {}
        width = self._needed.size
        seg = np.array(starts, dtype=np.int64).searchsorted(pos, side="right") - 1
        # every (bigram occurrence, keyword of that bigram), fillers included, as segment * width + dense id
        key = self._refs.take(at.take(pos), axis=0)
        key += (seg * width)[:, None]
        counts = np.bincount(key.ravel(), minlength=len(starts) * width).reshape(len(starts), width)
        segs, dense = (counts >= self._needed).nonzero()
        out: dict[int, list[int]] = {}
        terms = self._terms
        for k, d in zip(segs.tolist(), dense.tolist(), strict=True):
            if long_enough[k]:
                out.setdefault(k, []).append(terms[d])
        return out


def _pair_key(pair: str) -> int:
    return (ord(pair[0]) << _PAIR_SHIFT) | ord(pair[1])
