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
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from itertools import accumulate, chain
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
SEPARATOR = "\n"
"""Joins a call's normalised segments for the call-wide searches: normalised text never holds it, so no
keyword, sound code or bigram spans two segments."""
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
        # Each key's payload is ready to use: (its length, the keywords it is, anything else it is):
        # most occurrences are keywords only, turned into hits without looking at kinds.
        self._exact = _Automaton(
            {
                k: (
                    len(k),
                    tuple(ref for kind, ref in v if kind == _TERM),
                    tuple((kind, ref) for kind, ref in v if kind != _TERM),
                )
                for k, v in entries.items()
            }
        )
        # Sound payloads carry each entry's own text: an occurrence that reads exactly as written is the
        # exact automaton's (the same keyword, the same look-alike), so a call whose every sound occurrence
        # does is not searched by sound segment by segment (`find_call`).
        self._sound = _Automaton({k: tuple(v) for k, v in sounds.items()}) if sounds else None
        # The bigrams of long keywords only propose fuzzy candidates; they are counted in C.
        self._grams = _GramCounter({k: tuple(v) for k, v in grams.items()})
        self._least_needed = min(self._grams_needed.values(), default=0)
        # a near miss is at most one character shorter than its keyword: no shorter text holds one
        self._least_window = min((len(rules.terms[i].norm) - 1 for i in self._fuzzy_cjk), default=0)
        self._lengths = tuple(len(t.norm) for t in rules.terms)
        self._plain = tuple(not t.word for t in rules.terms)

    def find_call(self, ns: Sequence[Normalized], wanted: Sequence[bool]) -> list[list[TermHit]]:
        """`find` for each of a call's segments that is `wanted` ([] for the others), with the sound and
        fuzzy searches done once over the whole call first: most calls have neither a homophone nor a
        near-miss, and then no segment pays for looking."""
        texts = [n.text if w else "" for n, w in zip(ns, wanted, strict=True)]
        joined = SEPARATOR.join(texts)
        if not joined.strip(SEPARATOR):
            return [[] for _ in ns]
        sound = self._sounds_in(joined, texts) if self._sound is not None else set()
        fuzzy = bool(self._grams_needed) and self._near_misses_in(joined)
        latin = (
            bool(self._latin_buckets)
            and _LATIN_TOKEN.search(SEPARATOR.join(n.original for n, t in zip(ns, texts, strict=True) if t)) is not None
        )
        return [
            self._find(n, k in sound, fuzzy, latin) if t else [] for k, (n, t) in enumerate(zip(ns, texts, strict=True))
        ]

    def _sounds_in(self, text: str, parts: Sequence[str]) -> set[int]:
        """The parts (joined in `text`) that hold something that sounds like an entry without being
        written as it: only those are searched by sound."""
        assert self._sound is not None
        found: set[int] = set()
        starts: list[int] | None = None
        for end_idx, entries in self._sound.iter(sound_key(text)):
            for _, _, word in entries:
                if text[end_idx + 1 - len(word) : end_idx + 1] != word:
                    if starts is None:
                        starts = list(accumulate((len(p) + 1 for p in parts[:-1]), initial=0))
                    found.add(bisect_right(starts, end_idx) - 1)
                    break
        return found

    def _near_misses_in(self, text: str) -> bool:
        """Whether some long keyword may be a fuzzy candidate in one of the segments joined in `text`.

        A segment proposes a keyword when it holds enough of the keyword's bigrams and not the keyword
        itself. The bigrams of all segments together are at least those of any one of them, less those
        of the segments that hold the keyword: each of its (non-overlapping) occurrences brings all of
        its own bigrams, and a segment holding it proposes nothing.
        """
        needed, lengths, terms = self._grams_needed, self._lengths, self._terms
        for ref, count in self._grams.count(text).items():
            if count >= needed[ref] and count - text.count(terms[ref].norm) * (lengths[ref] - 1) >= needed[ref]:
                return True
        return False

    def find(self, n: Normalized) -> list[TermHit]:
        """Every keyword hit in `n`, vetoed by look-alikes and flagged when negated."""
        return self._find(n, True, True, True)

    def _find(self, n: Normalized, sound: bool, fuzzy: bool, latin: bool) -> list[TermHit]:
        """`find`; `sound`, `fuzzy`, `latin` False when the call has been seen to hold no sound-alike,
        no near miss of a long keyword, no word of Latin letters."""
        text = n.text
        if not text:
            return []
        raw: list[TermHit] = []
        others: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
        for end_idx, (size, terms, other) in self._exact.iter(text):
            end = end_idx + 1
            for ref in terms:
                raw.append(TermHit(ref, end - size, end, "exact", False))
            if other:
                others.append((end - size, end, other))
        exact = len(raw)
        nots: list[tuple[int, int, int]] = []
        if sound and self._sound is not None:
            raw.extend(self._sound_hits(text, nots))
        if fuzzy and self._grams_needed and len(text) >= self._least_window:
            needed = self._grams_needed
            exact_terms = {h.term for h in raw[:exact]}
            for ref, count in self._grams.count(text, self._least_needed).items():
                if count >= needed[ref] and ref not in exact_terms:
                    raw.extend(self._fuzzy_cjk_hits(ref, text))
        if latin and self._latin_buckets and _LATIN_TOKEN.search(n.original) is not None:
            raw.extend(self._fuzzy_latin_hits(n, {h.term for h in raw[:exact]}))
        if not raw:
            return []
        plain = self._plain
        if not others and not nots and len(raw) == exact and all(plain[h.term] for h in raw):
            return raw  # nothing to veto or negate: every exact occurrence is a hit (the common case)
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
                else:
                    after.append((start, end))
        if before or after:  # a cue inside a keyword (不想 in 不想活) negates nothing
            spans = [(h.start, h.end) for h in raw[:exact]]
            before = [c for c in before if not _inside_any(c, spans) and not _a_not_a(text, c)]
            after = [c for c in after if not _inside_any(c, spans)]
        cues = bool(before or after)
        window = self._window
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
            out.append(h._replace(negated=True) if negated else h)
        return _chain_negation(n, out) if any(h.negated for h in out) else out

    def _sound_hits(self, text: str, nots: list[tuple[int, int, int]]) -> list[TermHit]:
        """Keywords that sound like a piece of text which shares at least half their characters."""
        assert self._sound is not None
        hits: list[TermHit] = []
        for end_idx, entries in self._sound.iter(sound_key(text)):
            end = end_idx + 1
            for kind, ref, norm in entries:
                start = end - len(norm)
                if kind == _NOT:
                    nots.append((ref, start, end))
                    continue
                piece = text[start:end]
                if piece == norm:
                    continue
                same = sum(1 for a, b in zip(piece, norm, strict=True) if a == b)
                if same * 2 >= len(norm):  # keep at least half the characters: 记着 yes, 季哲 no
                    hits.append(TermHit(ref, start, end, "sound", False))
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
        for length in (size, size - 1, size + 1):
            for start in range(lo, min(len(text) - length, pos + 1) + 1):
                piece = text[start : start + length]
                if fuzz.ratio(norm, piece, score_cutoff=cutoff):
                    hits.append(TermHit(ref, start, start + length, "fuzzy", False))
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
                    hits.append(TermHit(ref, start, end, "fuzzy", False))
        return hits


class _Automaton(Generic[V]):
    """Aho-Corasick over many keys; `iter` yields (end_index, payload) for every occurrence."""

    def __init__(self, entries: dict[str, V]) -> None:
        self._a = ahocorasick.Automaton()
        for key, payload in entries.items():
            self._a.add_word(key, payload)
        self._empty = not entries
        if entries:
            self._a.make_automaton()

    def iter(self, text: str) -> Iterator[tuple[int, V]]:
        """(end_index, payload) for every occurrence, straight from the C automaton."""
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
    out = sorted(hits, key=lambda h: (h.start, h.end))
    for i, h in enumerate(out):
        if h.negated:
            continue
        for prev in out[:i]:
            if (
                prev.negated
                and prev.end <= h.start
                and h.start - prev.end <= CHAIN_GAP
                and not crosses_clause(n, prev.end, h.start)
            ):
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
