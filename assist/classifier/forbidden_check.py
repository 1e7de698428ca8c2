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
from bisect import bisect_left, bisect_right
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
_SENTENCE_MARKS = "。！？!?；;\n"
_CLAUSE_MARKS = "，,。！？!?；;\n"
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

    __slots__ = ("_automaton", "_internal", "_rules", "_terms_empty", "operations")

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
        self.operations = 0
        """Inner steps taken by `check` so far (words found, candidates weighed): a work counter for
        tests and benchmarks, so that bounds on the work are asserted without a clock."""

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
            out[r.id] = [
                part.strip()
                for texts in r.examples.values()
                for ex in texts
                for part in ex.split(" / ")
                if part.strip()
            ]
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
        """The forbidden phrases in `text`, left to right, with spans into `text`.

        `media` says the call is a media call (interview or live broadcast); without it the
        media rule applies only to lines that show media context themselves. At most
        `MAX_HITS_PER_RULE` warnings per rule and `MAX_HITS_PER_LINE` in all, the leftmost: the
        agent needs to know which phrases to drop, not every repetition of one. The cost is
        linear in the length of the line (one pass per rule over its candidates, each checked
        with binary searches over positions found once per line).
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
            hits.extend((a, b, ri) for a, b in self._rule_hits(rule, f, ctx))
        hits.sort()
        out: list[ForbiddenHit] = []
        for a, b, ri in hits[:MAX_HITS_PER_LINE]:
            rule = self._rules[ri]
            out.append(ForbiddenHit(rule.id, text[a:b], (a, b), _lang_text(rule.alternative, lang)))
        return out

    # -- internals

    def _scan(self, norm: Normalized) -> dict[int, _Found]:
        out: dict[int, _Found] = {}
        if self._terms_empty or not norm.text:
            return out
        nt = norm.text
        original = norm.original
        for end, term in self._automaton.iter(nt):
            self.operations += 1
            start = end - term.length + 1
            if term.ascii_start or term.ascii_end:
                a, b = norm.span(start, end + 1)
                if term.ascii_start and a > 0 and is_ascii_word_char(original[a - 1]):
                    continue
                if term.ascii_end and b < len(original) and is_ascii_word_char(original[b]):
                    continue
            span = (start, end + 1)
            for ri, role, k in term.uses:
                f = out.get(ri)
                if f is None:
                    f = out[ri] = _Found()
                spans = f.by_role.get((role, k))
                if spans is None:
                    f.by_role[(role, k)] = [span]
                else:
                    spans.append(span)
        # Drop occurrences that sit inside an `unless` phrase of the same rule.
        for f in out.values():
            unless = f.by_role.get((ROLE_UNLESS, 0))
            if not unless:
                continue
            cover = _Cover(unless)
            for key, spans in f.by_role.items():
                if key[0] in (ROLE_UNLESS, ROLE_MEDIA, ROLE_UNLESS_CLAUSE):
                    continue
                self.operations += len(spans)
                f.by_role[key] = [s for s in spans if not cover.covers(s)]
        return out

    def _rule_hits(self, rule: RuleSpec, f: _Found, ctx: _Line) -> list[Span]:
        """The first `MAX_HITS_PER_RULE` original-text stretches where `rule` matches, after its
        exclusions; overlapping matches of the rule are one stretch."""
        norm = ctx.norm
        unless = _Cover(f.get(ROLE_UNLESS)) if rule.patterns and f.get(ROLE_UNLESS) else None
        negations = f.get(ROLE_NEGATION)
        candidates: list[Span] = list(f.get(ROLE_PHRASE))
        if f.get(ROLE_MEDIA):
            # The line names the media itself: any assertion in it is a statement to the media.
            candidates.extend(f.get(ROLE_ASSERTION))
        for pat in rule.patterns:
            for m in pat.finditer(norm.text):
                self.operations += 1
                if m.end() > m.start() and not (unless is not None and unless.covers((m.start(), m.end()))):
                    candidates.append((m.start(), m.end()))
        for k, pair in enumerate(rule.pairs):
            candidates.extend(self._pair_hits(pair, f.get(ROLE_FIRST, k), f.get(ROLE_THEN, k), negations, ctx))
        # (original start, original end, normalised start or -1 for a number, which is already checked)
        todo = [(*norm.span(s, e), s) for s, e in candidates]
        if rule.numbers is not None:
            todo.extend((a, b, -1) for a, b in self._number_hits(rule.numbers, f, ctx))
        if not todo:
            return []
        todo.sort()
        excluder = _Exclusions(rule, f, ctx)
        neg_ends = [e for _, e in negations]
        merged: list[list[int]] = []  # [start, end], in order of start
        first_open = 0  # merged[:first_open] end before every later candidate starts
        for a, b, s in todo:
            self.operations += 1
            if s >= 0:
                if negations and _negated_before(s, a, negations, neg_ends, rule.negation_reach, ctx):
                    continue
                if excluder.excluded(a, b, s):
                    continue
            # Candidates come by start, so the first stretch this one overlaps is the first
            # that ends after it starts; stretches before that never overlap a later one.
            while first_open < len(merged) and merged[first_open][1] <= a:
                first_open += 1
            if first_open < len(merged):
                stretch = merged[first_open]
                stretch[1] = max(stretch[1], b)
                continue
            if len(merged) == MAX_HITS_PER_RULE:
                break  # every later candidate starts after the stretches kept: they are final
            merged.append([a, b])
        return [(a, b) for a, b in merged]

    def _pair_hits(
        self, pair: PairSpec, firsts: list[Span], thens: list[Span], negations: list[Span], ctx: _Line
    ) -> list[Span]:
        """`first` words followed, in the same sentence and without a negation between, by a `then`
        word at most `within` tokens later: for each first word, only the nearest then word counts."""
        if not firsts or not thens:
            return []
        out: list[Span] = []
        norm = ctx.norm
        then_ends = [e for _, e in thens]  # thens come in order of their end
        longest: dict[int, int] = {}  # the longest then word starting at each place: 宕机 rather than 宕
        for ts, te in thens:
            longest[ts] = max(te, longest.get(ts, te))
        neg_starts = sorted(ns for ns, _ in negations)
        for fs, fe in firsts:
            self.operations += 1
            # the first then word (in their order) that starts at or after the first word's end
            j = bisect_right(then_ends, fe)
            while j < len(thens) and thens[j][0] < fe:
                self.operations += 1
                j += 1
            if j == len(thens):
                continue
            ts = thens[j][0]
            a = norm.offsets[fe - 1] + 1
            b = norm.offsets[ts]
            if ctx.tokens_between(a, b) > pair.within:
                continue
            if ctx.sentence_ends.any_in(a, b):
                continue
            k = bisect_left(neg_starts, fe)
            if k < len(neg_starts) and neg_starts[k] < ts:
                continue
            out.append((fs, longest[ts]))
        return out

    def _number_hits(self, spec: NumberSpec, f: _Found, ctx: _Line) -> list[Span]:
        runs = ctx.runs()
        if not runs:
            return []
        out: list[Span] = []
        near = _Near(f.get(ROLE_NEAR), ctx) if f.get(ROLE_NEAR) else None
        internal = self._internal if spec.directory else ()
        for run in runs:
            self.operations += 1
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
            if near is None or len(run.digits) < SHORT_MIN_DIGITS or skipped:
                continue
            if spec.public and any(p.fullmatch(run.digits) for p in spec.public):
                continue
            if short and not any(w in before[-_SHORT_LOOKBEHIND:] for w in spec.short_after):
                continue
            if near.department_near(run.start, run.end, spec.within):
                out.append((run.start, run.end))
        return out


MAX_HITS_PER_RULE = 8
"""At most this many warnings per rule on one line (the leftmost): a phrase said once or fifty
times needs the same correction. The default pack's samples never have more than 6."""
MAX_HITS_PER_LINE = 20
"""At most this many warnings on one line, all rules together (the leftmost)."""


class _Breaks:
    """Where sentences (or clauses) end in a text, found once, so any stretch is asked in O(log n).

    Answers exactly what `pattern.search(text, lo, hi)` would for a pattern of the shape
    `[marks]|\\.(?:\\s|$)`: a mark, or a full stop before white space or at the end of the stretch.
    """

    __slots__ = ("_at", "_text")

    def __init__(self, text: str, marks: str) -> None:
        self._text = text
        self._at = [m.start() for m in re.finditer(f"[{re.escape(marks)}]|\\.(?=\\s)", text)]

    def any_in(self, lo: int, hi: int) -> bool:
        """A sentence end starts in text[lo:hi] (read as a whole text: a final full stop counts)."""
        return self.marks_in(lo, hi) or _dot_before_end(self._text, lo, hi)

    def marks_in(self, lo: int, hi: int) -> bool:
        """A mark, or a full stop before white space, in text[lo:hi] (no final full stop)."""
        k = bisect_left(self._at, lo)
        return k < len(self._at) and self._at[k] < hi

    def first_from(self, pos: int) -> int:
        """Where the first sentence end at or after `pos` starts, or -1."""
        k = bisect_left(self._at, pos)
        if k < len(self._at):
            return self._at[k]
        last = len(self._text) - 1
        return last if last >= pos and self._text[last] == "." else -1

    def first_mark_from(self, pos: int) -> int:
        """Where the first mark (or full stop before white space) at or after `pos` is, or -1."""
        k = bisect_left(self._at, pos)
        return self._at[k] if k < len(self._at) else -1


class _Cover:
    """Spans, asked whether one of them contains a given span, in O(log n)."""

    __slots__ = ("_reach", "_starts")

    def __init__(self, spans: list[Span]) -> None:
        ordered = sorted(spans)
        self._starts = [s for s, _ in ordered]
        self._reach: list[int] = []  # the furthest end among spans starting up to here
        best = -1
        for _, e in ordered:
            best = max(best, e)
            self._reach.append(best)

    def covers(self, span: Span) -> bool:
        s, e = span
        k = bisect_right(self._starts, s)
        return k > 0 and self._reach[k - 1] >= e


class _Exclusions:
    """One rule's exclusions on one line (quotes, questions, reported speech, clause-wide vetoes)."""

    __slots__ = ("_ctx", "_rep_cuts", "_rep_ends", "_rule", "_uc", "_uc_after", "_uc_by_end", "_uc_reach")

    def __init__(self, rule: RuleSpec, f: _Found, ctx: _Line) -> None:
        self._rule = rule
        self._ctx = ctx
        reported = f.get(ROLE_REPORTED)
        self._rep_ends = sorted(e for _, e in reported) if reported else []
        self._rep_cuts = [ctx.norm.offsets[e - 1] + 1 for e in self._rep_ends]
        # unless_clause words in the original text: by start (with the furthest end so far), by end
        clause_words = f.get(ROLE_UNLESS_CLAUSE)
        uc = sorted(ctx.norm.span(s, e) for s, e in clause_words) if clause_words else []
        self._uc = [a for a, _ in uc]
        self._uc_reach: list[int] = []
        best = -1
        for _, b in uc:
            best = max(best, b)
            self._uc_reach.append(best)
        self._uc_by_end = sorted(b for _, b in uc)
        # those after which a clause break may still start right before them (not after a full stop)
        self._uc_after = [a for a in self._uc if a == 0 or ctx.text[a - 1] != "."]

    def excluded(self, a: int, b: int, s: int) -> bool:
        rule, ctx = self._rule, self._ctx
        if rule.skip_quoted and ctx.quoted(a, b):
            return True
        if rule.skip_questions and ctx.in_question(b):
            return True
        if self._rep_ends:
            # reported speech ("客户称…") before the phrase, in the same clause: the nearest cue decides,
            # as the stretch from any earlier cue holds the nearest one's
            k = bisect_right(self._rep_ends, s)
            if k and not ctx.clause_ends.any_in(self._rep_cuts[k - 1], a):
                return True
        return bool(self._uc) and self._clause_vetoed(a, b)

    def _clause_vetoed(self, a: int, b: int) -> bool:
        """An `unless_clause` word in the same clause as the phrase at [a, b) (or overlapping it)."""
        breaks = self._ctx.clause_ends
        k = bisect_left(self._uc, b)  # words starting before the phrase ends...
        if k and self._uc_reach[k - 1] > a:  # ...one of which ends after it starts: they overlap
            return True
        # before: the nearest word decides (the stretch from an earlier one holds the nearest one's)
        k = bisect_right(self._uc_by_end, a)
        if k:
            ub = self._uc_by_end[k - 1]
            if ub == a or not breaks.any_in(ub, a):
                return True
        # after: a word starting at b, or one no break separates (a full stop right before a word
        # ends the stretch there, so counts as a break, but not for words further on)
        k = bisect_left(self._uc, b)
        if k < len(self._uc) and self._uc[k] == b:
            return True
        first_break = breaks.first_mark_from(b)
        k = bisect_right(self._uc_after, b)
        return k < len(self._uc_after) and (first_break < 0 or self._uc_after[k] <= first_break)


def _dot_before_end(text: str, lo: int, hi: int) -> bool:
    return hi > lo and text[hi - 1] == "."


class _Near:
    """Department words (技术部, 开发) near a number: the nearest before and after decide."""

    __slots__ = ("_ctx", "_ends", "_reach", "_starts")

    def __init__(self, spans: list[Span], ctx: _Line) -> None:
        self._ctx = ctx
        words = sorted(ctx.norm.span(s, e) for s, e in spans)
        self._starts = [a for a, _ in words]
        self._reach: list[int] = []
        best = -1
        for _, b in words:
            best = max(best, b)
            self._reach.append(best)
        self._ends = sorted(b for _, b in words)

    def department_near(self, a: int, b: int, within: int) -> bool:
        """A department word overlaps the number at [a, b), or is at most `within` tokens before or
        after it in the same sentence."""
        ctx = self._ctx
        k = bisect_left(self._starts, b)
        if k and self._reach[k - 1] > a:
            return True  # the word overlaps the number (can't really happen; be safe)
        k = bisect_right(self._ends, a)
        if k:  # the nearest word ending before the number: an earlier one is further away
            db = self._ends[k - 1]
            if ctx.tokens_between(db, a) <= within and not ctx.sentence_ends.any_in(db, a):
                return True
        # after: nearest first; stop at the first too far or past a sentence end. A full stop right
        # before a word ends the stretch there (a break for that word only).
        k = bisect_left(self._starts, b)
        while k < len(self._starts):
            da = self._starts[k]
            if ctx.tokens_between(b, da) > within or ctx.sentence_ends.marks_in(b, da):
                return False
            if not _dot_before_end(ctx.text, b, da):
                return True
            k += 1
        return False


class _Line:
    """Lazily computed facts about one line (quotes, numbers, sentence ends), shared by all rules."""

    __slots__ = ("_clauses", "_quotes", "_runs", "_sentences", "_token_ends", "_token_starts", "norm", "text")

    def __init__(self, text: str, norm: Normalized) -> None:
        self.text = text
        self.norm = norm
        self._quotes: list[Span] | None = None
        self._runs: list[DigitRun] | None = None
        self._sentences: _Breaks | None = None
        self._clauses: _Breaks | None = None
        self._token_starts: list[int] = []
        self._token_ends: list[int] | None = None

    @property
    def sentence_ends(self) -> _Breaks:
        if self._sentences is None:
            self._sentences = _Breaks(self.text, _SENTENCE_MARKS)
        return self._sentences

    @property
    def clause_ends(self) -> _Breaks:
        if self._clauses is None:
            self._clauses = _Breaks(self.text, _CLAUSE_MARKS)
        return self._clauses

    def tokens_between(self, a: int, b: int) -> int:
        """`len(_TOKEN.findall(text, a, b))`: the tokens that overlap [a, b), counted in O(log n)."""
        if b <= a:
            return 0
        if self._token_ends is None:
            tokens = [m.span() for m in _TOKEN.finditer(self.text)]
            self._token_starts = [s for s, _ in tokens]
            self._token_ends = [e for _, e in tokens]
        return bisect_left(self._token_starts, b) - bisect_right(self._token_ends, a)

    def quoted(self, a: int, b: int) -> bool:
        """Whether the span starts or ends inside quotation marks (someone else's words)."""
        if self._quotes is None:
            self._quotes = _quoted_ranges(self.text)
        quotes = self._quotes
        if not quotes:
            return False
        k = bisect_right(quotes, (a, _INFINITY)) - 1  # the last range opening at or before a
        if k >= 0 and quotes[k][0] <= a < quotes[k][1]:
            return True
        k = bisect_left(quotes, (b, -1)) - 1  # the last range opening before b
        return k >= 0 and quotes[k][0] < b <= quotes[k][1]

    def in_question(self, b: int) -> bool:
        at = self.sentence_ends.first_from(b)
        return at >= 0 and self.text[at] in _QUESTION_MARKS

    def runs(self) -> list[DigitRun]:
        if self._runs is None:
            self._runs = digit_runs(self.text)
        return self._runs

    def norm_before(self, a: int, n: int) -> str:
        """Up to `n` normalised characters that come from the original text before index `a`."""
        lo = bisect_left(self.norm.offsets, a)
        return self.norm.text[max(0, lo - n) : lo]


_INFINITY = 1 << 62


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


def _negated_before(s: int, a: int, negations: list[Span], ends: list[int], reach: int, ctx: _Line) -> bool:
    """A negation ending at most `reach` characters before normalised index `s`, same clause.

    `negations` come in order of their end (`ends`), so only those ending in [s - reach, s] are read.
    """
    k = bisect_left(ends, s - reach)
    while k < len(ends) and ends[k] <= s:
        ne = ends[k]
        cut = ctx.norm.offsets[ne - 1] + 1
        if not ctx.clause_ends.any_in(cut, a):
            return True
        k += 1
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
