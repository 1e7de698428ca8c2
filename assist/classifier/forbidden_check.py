"""Forbidden phrases: checking one agent line against the compiled rules of the pack's forbidden.yaml.

The plan forbids three things (see docs/forbidden.md): blaming the bank's system, giving
out an internal technical contact, and stating policy to the media. Each is a rule in the
pack's ``forbidden.yaml`` that a trainer edits: word lists, regular expressions, "this word
near that word" pairs, exclusions, and the approved wording to say instead. This module is
the checker and the compiled form it reads; ``forbidden_compile`` turns the YAML into it.

Matching runs on every agent line in real time, so everything is compiled up front: all
words of all rules go into one Aho-Corasick automaton over the normalised text (width,
case, traditional characters, spaces and punctuation folded away), and each line is
normalised and scanned once. Spans are mapped back to the original text for highlighting.
Phone numbers are found on the original text (see `phone_numbers`). Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assist.classifier.model import ForbiddenHit
from assist.classifier.normalize import Normalized, normalize
from assist.classifier.phone_numbers import DigitRun, digit_runs, digits_of, same_number

LANGS: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANG = "zh-CN"

# Where sentences and clauses end in the original text. Pairs of words and a number with
# its department must be in the same sentence; reported speech ("客户称…") covers a clause.
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?:\s|$)")
_CLAUSE_END = re.compile(r"[，,。！？!?；;\n]|\.(?:\s|$)")
_QUESTION_MARKS = "？?"
_QUOTE_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "＂": "＂", '"': '"'}
_QUOTE_OPENERS = frozenset(_QUOTE_PAIRS)
# For "within": a CJK character or an ASCII word each count as one.
_TOKEN = re.compile(r"[A-Za-z0-9]+|[^\W_]")

ROLE_PHRASE = 0
ROLE_FIRST = 1
ROLE_THEN = 2
ROLE_UNLESS = 3
ROLE_NEGATION = 4
ROLE_REPORTED = 5
ROLE_MEDIA = 6
ROLE_NEAR = 7
ROLE_UNLESS_CLAUSE = 8
ROLE_ASSERTION = 9

SHORT_MIN_DIGITS = 3
_LOOKBEHIND = 12
_SHORT_LOOKBEHIND = 12
"""How many normalised characters before a number `short_after`/`skip_after` words may end."""


# --------------------------------------------------------------------------- compiled form


@dataclass(frozen=True, slots=True)
class PairSpec:
    within: int


@dataclass(frozen=True, slots=True)
class NumberSpec:
    directory: bool
    within: int
    min_digits: int
    short_after: tuple[str, ...]
    public: tuple[re.Pattern[str], ...]
    skip_after: tuple[str, ...]
    skip_before: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: str
    title: Mapping[str, str]
    alternative: Mapping[str, str]
    examples: Mapping[str, tuple[str, ...]]
    categories: frozenset[str] | None
    media_only: bool
    patterns: tuple[re.Pattern[str], ...]
    pairs: tuple[PairSpec, ...]
    negation_reach: int
    skip_quoted: bool
    skip_questions: bool
    numbers: NumberSpec | None


@dataclass(frozen=True, slots=True)
class TermUses:
    """One normalised word of the automaton and every (rule, role, pair) that uses it."""

    length: int
    ascii_start: bool
    ascii_end: bool
    uses: tuple[tuple[int, int, int], ...]


Span = tuple[int, int]


@dataclass(slots=True)
class _Found:
    """Occurrences of one rule's words in one line, by role (normalised spans)."""

    by_role: dict[tuple[int, int], list[Span]] = field(default_factory=dict)

    def get(self, role: int, k: int = 0) -> list[Span]:
        return self.by_role.get((role, k), [])


def _lang_text(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get(DEFAULT_LANG) or next(iter(texts.values()), "")


def is_ascii_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


# --------------------------------------------------------------------------- the checker


class ForbiddenChecker:
    """Finds forbidden phrases in one agent line. Immutable; build with `compile_forbidden`."""

    __slots__ = ("_automaton", "_internal", "_rules", "_terms_empty")

    def __init__(
        self,
        rules: tuple[RuleSpec, ...],
        automaton: Any,
        internal: tuple[str, ...],
        terms_empty: bool,
    ) -> None:
        self._rules = rules
        self._automaton = automaton
        self._internal = internal
        self._terms_empty = terms_empty

    # -- public API

    def with_internal_numbers(self, numbers: Sequence[str]) -> ForbiddenChecker:
        """A checker that forbids exactly these internal numbers (the contact directory's list).

        Replaces the numbers given at compile time: the directory is the source of truth.
        Entries with fewer than 3 digits are ignored.
        """
        return ForbiddenChecker(self._rules, self._automaton, internal_digits(numbers), self._terms_empty)

    @property
    def internal_numbers(self) -> tuple[str, ...]:
        """The internal numbers this checker forbids, as digits."""
        return self._internal

    def rule_ids(self) -> list[str]:
        return [r.id for r in self._rules]

    def alternative(self, rule_id: str, lang: str = DEFAULT_LANG) -> str:
        """The approved wording to use instead of what `rule_id` forbids."""
        return next((_lang_text(r.alternative, lang) for r in self._rules if r.id == rule_id), "")

    def is_media_only(self, rule_id: str) -> bool:
        return any(r.media_only for r in self._rules if r.id == rule_id)

    def examples(self) -> dict[str, list[str]]:
        """rule id -> its example sentences in every language ("a / b" lists split), for training."""
        out: dict[str, list[str]] = {}
        for r in self._rules:
            out[r.id] = [part.strip() for texts in r.examples.values() for ex in texts
                         for part in ex.split(" / ") if part.strip()]
        return out

    def phrases(self, category: str, lang: str = DEFAULT_LANG) -> list[dict[str, object]]:
        """What the sidebar lists as forbidden on a call of `category`, in `lang`."""
        out: list[dict[str, object]] = []
        for rule in self._rules:
            if rule.categories is not None and not _category_matches(category, rule.categories):
                continue
            examples = rule.examples.get(lang) or rule.examples.get(DEFAULT_LANG) or ()
            out.append(
                {
                    "rule": rule.id,
                    "title": _lang_text(rule.title, lang),
                    "examples": list(examples),
                    "alternative": _lang_text(rule.alternative, lang),
                }
            )
        return out

    def check(self, text: str, *, media: bool = False, lang: str = DEFAULT_LANG) -> list[ForbiddenHit]:
        """Every forbidden phrase in `text`, left to right, with spans into `text`.

        `media` says the call is a media call (interview or live broadcast); without it the
        media rule applies only to lines that show media context themselves.
        """
        if not text or not text.strip():
            return []
        norm = normalize(text)
        found = self._scan(norm)
        ctx = _Line(text, norm)
        hits: list[tuple[int, int, int]] = []  # (start, end, rule index) in the original
        for ri, rule in enumerate(self._rules):
            f = found.get(ri)
            if rule.numbers is None and f is None and not rule.patterns:
                continue
            f = f or _Found()
            if rule.media_only and not media and not f.get(ROLE_MEDIA):
                continue
            for a, b in self._rule_hits(rule, f, ctx):
                hits.append((a, b, ri))
        return self._merge(hits, text, lang)

    # -- internals

    def _scan(self, norm: Normalized) -> dict[int, _Found]:
        out: dict[int, _Found] = {}
        if self._terms_empty or not norm.text:
            return out
        nt = norm.text
        original = norm.original
        for end, term in self._automaton.iter(nt):
            start = end - term.length + 1
            if term.ascii_start or term.ascii_end:
                a, b = norm.span(start, end + 1)
                if term.ascii_start and a > 0 and is_ascii_word_char(original[a - 1]):
                    continue
                if term.ascii_end and b < len(original) and is_ascii_word_char(original[b]):
                    continue
            for ri, role, k in term.uses:
                out.setdefault(ri, _Found()).by_role.setdefault((role, k), []).append((start, end + 1))
        # Drop occurrences that sit inside an `unless` phrase of the same rule.
        for f in out.values():
            unless = f.by_role.get((ROLE_UNLESS, 0))
            if not unless:
                continue
            for key, spans in f.by_role.items():
                if key[0] in (ROLE_UNLESS, ROLE_MEDIA, ROLE_UNLESS_CLAUSE):
                    continue
                f.by_role[key] = [s for s in spans if not _inside_any(s, unless)]
        return out

    def _rule_hits(self, rule: RuleSpec, f: _Found, ctx: _Line) -> list[Span]:
        """Original-text spans where `rule` matches, after its exclusions."""
        norm = ctx.norm
        unless = f.get(ROLE_UNLESS)
        negations = f.get(ROLE_NEGATION)
        candidates: list[Span] = list(f.get(ROLE_PHRASE))
        if f.get(ROLE_MEDIA):
            # The line names the media itself: any assertion in it is a statement to the media.
            candidates.extend(f.get(ROLE_ASSERTION))
        for pat in rule.patterns:
            for m in pat.finditer(norm.text):
                if m.end() > m.start() and not _inside_any((m.start(), m.end()), unless):
                    candidates.append((m.start(), m.end()))
        for k, pair in enumerate(rule.pairs):
            candidates.extend(self._pair_hits(pair, f.get(ROLE_FIRST, k), f.get(ROLE_THEN, k), negations, ctx))
        out: list[Span] = []
        for s, e in candidates:
            a, b = norm.span(s, e)
            if negations and _negated_before(s, a, negations, rule.negation_reach, ctx):
                continue
            if self._excluded(rule, a, b, s, f, ctx):
                continue
            out.append((a, b))
        if rule.numbers is not None:
            out.extend(self._number_hits(rule.numbers, f, ctx))
        return out

    @staticmethod
    def _pair_hits(pair: PairSpec, firsts: list[Span], thens: list[Span], negations: list[Span],
                   ctx: _Line) -> list[Span]:
        if not firsts or not thens:
            return []
        out: list[Span] = []
        norm, text = ctx.norm, ctx.text
        for fs, fe in firsts:
            for ts, _ in thens:
                if ts < fe:
                    continue
                a = norm.offsets[fe - 1] + 1
                b = norm.offsets[ts]
                if len(_TOKEN.findall(text, a, b)) > pair.within:
                    break  # thens are in order: later ones are further away
                if _SENTENCE_END.search(text, a, b):
                    break
                if any(fe <= ns < ts for ns, _ in negations):
                    break
                # the longest failure word starting there: 宕机 rather than 宕, so the whole phrase is marked
                out.append((fs, max(e for s, e in thens if s == ts)))
                break
        return out

    def _excluded(self, rule: RuleSpec, a: int, b: int, s: int, f: _Found, ctx: _Line) -> bool:
        if rule.skip_quoted and ctx.quoted(a, b):
            return True
        if rule.skip_questions and ctx.in_question(b):
            return True
        for _rs, re_ in f.get(ROLE_REPORTED):
            if re_ <= s:
                end_of_cue = ctx.norm.offsets[re_ - 1] + 1
                if not _CLAUSE_END.search(ctx.text, end_of_cue, a):
                    return True
        for us, ue in f.get(ROLE_UNLESS_CLAUSE):
            ua, ub = ctx.norm.span(us, ue)
            lo, hi = (ub, a) if ub <= a else (b, ua) if ua >= b else (a, a)
            if not _CLAUSE_END.search(ctx.text, lo, hi):
                return True
        return False

    def _number_hits(self, spec: NumberSpec, f: _Found, ctx: _Line) -> list[Span]:
        runs = ctx.runs()
        if not runs:
            return []
        out: list[Span] = []
        near = f.get(ROLE_NEAR)
        internal = self._internal if spec.directory else ()
        for run in runs:
            before = ctx.norm_before(run.start, _LOOKBEHIND)
            after = ctx.text[run.end : run.end + 4].lstrip()
            skipped = any(w in before for w in spec.skip_after) or any(after.startswith(w) for w in spec.skip_before)
            short = len(run.digits) < spec.min_digits
            if internal and any(same_number(run.digits, n) for n in internal):
                # A listed number always counts, except a short one that is plainly something else
                # (an extension 6688 read back as the last digits of a card number).
                if not (short and skipped):
                    out.append((run.start, run.end))
                continue
            if not near or len(run.digits) < SHORT_MIN_DIGITS or skipped:
                continue
            if spec.public and any(p.fullmatch(run.digits) for p in spec.public):
                continue
            if short and not any(w in before[-_SHORT_LOOKBEHIND:] for w in spec.short_after):
                continue
            if self._department_near(run.start, run.end, near, spec.within, ctx):
                out.append((run.start, run.end))
        return out

    @staticmethod
    def _department_near(a: int, b: int, near: list[Span], within: int, ctx: _Line) -> bool:
        text, norm = ctx.text, ctx.norm
        for s, e in near:
            da, db = norm.span(s, e)
            lo, hi = (db, a) if db <= a else (b, da)
            if da < b and db > a:
                return True  # the word overlaps the number (can't really happen; be safe)
            if hi < lo:
                continue
            if len(_TOKEN.findall(text, lo, hi)) > within:
                continue
            if _SENTENCE_END.search(text, lo, hi):
                continue
            return True
        return False

    def _merge(self, hits: list[tuple[int, int, int]], text: str, lang: str) -> list[ForbiddenHit]:
        """One hit per overlapping stretch of the same rule, left to right."""
        if not hits:
            return []
        hits.sort()
        merged: list[list[int]] = []
        for a, b, ri in hits:
            for m in merged:
                if m[2] == ri and a < m[1] and b > m[0]:
                    m[0], m[1] = min(m[0], a), max(m[1], b)
                    break
            else:
                merged.append([a, b, ri])
        merged.sort()
        out: list[ForbiddenHit] = []
        for a, b, ri in merged:
            rule = self._rules[ri]
            out.append(ForbiddenHit(rule.id, text[a:b], (a, b), _lang_text(rule.alternative, lang)))
        return out


class _Line:
    """Lazily computed facts about one line (quotes, numbers), shared by all rules."""

    __slots__ = ("_quotes", "_runs", "norm", "text")

    def __init__(self, text: str, norm: Normalized) -> None:
        self.text = text
        self.norm = norm
        self._quotes: list[Span] | None = None
        self._runs: list[DigitRun] | None = None

    def quoted(self, a: int, b: int) -> bool:
        """Whether the span starts or ends inside quotation marks (someone else's words)."""
        if self._quotes is None:
            self._quotes = _quoted_ranges(self.text)
        return any(qa <= a < qb or qa < b <= qb for qa, qb in self._quotes)

    def in_question(self, b: int) -> bool:
        m = _SENTENCE_END.search(self.text, b)
        return m is not None and m.group()[0] in _QUESTION_MARKS

    def runs(self) -> list[DigitRun]:
        if self._runs is None:
            self._runs = digit_runs(self.text)
        return self._runs

    def norm_before(self, a: int, n: int) -> str:
        """Up to `n` normalised characters that come from the original text before index `a`."""
        offs = self.norm.offsets
        lo, hi = 0, len(offs)
        while lo < hi:
            mid = (lo + hi) // 2
            if offs[mid] < a:
                lo = mid + 1
            else:
                hi = mid
        return self.norm.text[max(0, lo - n) : lo]


def _quoted_ranges(text: str) -> list[Span]:
    """Spans inside quotation marks: the customer's words or an error message, not the agent's."""
    if not any(ch in _QUOTE_OPENERS for ch in text):
        return []
    out: list[Span] = []
    i, n = 0, len(text)
    while i < n:
        closer = _QUOTE_PAIRS.get(text[i])
        if closer is None:
            i += 1
            continue
        j = text.find(closer, i + 1)
        if j < 0:
            j = n
        out.append((i + 1, j))
        i = j + 1
    return out


def _inside_any(span: Span, others: list[Span]) -> bool:
    s, e = span
    return any(os <= s and e <= oe for os, oe in others)


def _negated_before(s: int, a: int, negations: list[Span], reach: int, ctx: _Line) -> bool:
    """A negation ending at most `reach` characters before normalised index `s`, same clause."""
    for _ns, ne in negations:
        if ne <= s and s - ne <= reach:
            cut = ctx.norm.offsets[ne - 1] + 1
            if not _CLAUSE_END.search(ctx.text, cut, a):
                return True
    return False


def _category_matches(category: str, wanted: frozenset[str]) -> bool:
    return category in wanted or category.split(".", 1)[0] in wanted


def internal_digits(numbers: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for n in numbers:
        d = digits_of(str(n))
        if len(d) >= SHORT_MIN_DIGITS and d not in out:
            out.append(d)
    return tuple(out)


__all__ = ["DEFAULT_LANG", "LANGS", "ForbiddenChecker"]
