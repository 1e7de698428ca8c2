"""Forbidden phrases: what the agent must not say or write to a customer.

The plan forbids three things (see docs/forbidden.md): blaming the bank's system, giving
out an internal technical contact, and stating policy to the media. Each is a rule in the
pack's ``forbidden.yaml`` that a trainer edits: word lists, regular expressions, "this word
near that word" pairs, exclusions, and the approved wording to say instead.

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

import ahocorasick

from assist.classifier.model import CATEGORY_IDS, ForbiddenHit
from assist.classifier.normalize import Normalized, normalize, normalize_text
from assist.classifier.phone_numbers import DigitRun, digit_runs, digits_of, same_number
from assist.problems import PackError, PathPart, Problem

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

_ROLE_PHRASE = 0
_ROLE_FIRST = 1
_ROLE_THEN = 2
_ROLE_UNLESS = 3
_ROLE_NEGATION = 4
_ROLE_REPORTED = 5
_ROLE_MEDIA = 6
_ROLE_NEAR = 7
_ROLE_UNLESS_CLAUSE = 8
_ROLE_ASSERTION = 9

_RULE_KEYS = frozenset(
    {
        "id",
        "title",
        "alternative",
        "examples",
        "categories",
        "media_only",
        "media_words",
        "phrases",
        "patterns",
        "pairs",
        "unless",
        "unless_clause",
        "assertions",
        "negations",
        "negation_reach",
        "reported",
        "skip_quoted",
        "skip_questions",
        "numbers",
    }
)
_PAIR_KEYS = frozenset({"first", "then", "within"})
_NUMBER_KEYS = frozenset(
    {"directory", "near", "within", "min_digits", "short_after", "public", "skip_after", "skip_before"}
)
_TOP_KEYS = frozenset({"version", "rules"})

_DEFAULT_WITHIN = 8
_DEFAULT_NEAR_WITHIN = 30
_DEFAULT_MIN_DIGITS = 7
_DEFAULT_NEGATION_REACH = 3
_SHORT_MIN_DIGITS = 3
_LOOKBEHIND = 12
_SHORT_LOOKBEHIND = 12
"""How many normalised characters before a number `short_after`/`skip_after` words may end."""


# --------------------------------------------------------------------------- compiled form


@dataclass(frozen=True, slots=True)
class _Pair:
    within: int


@dataclass(frozen=True, slots=True)
class _Numbers:
    directory: bool
    within: int
    min_digits: int
    short_after: tuple[str, ...]
    public: tuple[re.Pattern[str], ...]
    skip_after: tuple[str, ...]
    skip_before: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    title: Mapping[str, str]
    alternative: Mapping[str, str]
    examples: Mapping[str, tuple[str, ...]]
    categories: frozenset[str] | None
    media_only: bool
    patterns: tuple[re.Pattern[str], ...]
    pairs: tuple[_Pair, ...]
    negation_reach: int
    skip_quoted: bool
    skip_questions: bool
    numbers: _Numbers | None


@dataclass(frozen=True, slots=True)
class _Term:
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


def _is_ascii_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


# --------------------------------------------------------------------------- the checker


class ForbiddenChecker:
    """Finds forbidden phrases in one agent line. Immutable; build with `compile_forbidden`."""

    __slots__ = ("_automaton", "_internal", "_rules", "_terms_empty")

    def __init__(
        self,
        rules: tuple[_Rule, ...],
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
        return ForbiddenChecker(self._rules, self._automaton, _internal_digits(numbers), self._terms_empty)

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
            if rule.media_only and not media and not f.get(_ROLE_MEDIA):
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
                if term.ascii_start and a > 0 and _is_ascii_word_char(original[a - 1]):
                    continue
                if term.ascii_end and b < len(original) and _is_ascii_word_char(original[b]):
                    continue
            for ri, role, k in term.uses:
                out.setdefault(ri, _Found()).by_role.setdefault((role, k), []).append((start, end + 1))
        # Drop occurrences that sit inside an `unless` phrase of the same rule.
        for f in out.values():
            unless = f.by_role.get((_ROLE_UNLESS, 0))
            if not unless:
                continue
            for key, spans in f.by_role.items():
                if key[0] in (_ROLE_UNLESS, _ROLE_MEDIA, _ROLE_UNLESS_CLAUSE):
                    continue
                f.by_role[key] = [s for s in spans if not _inside_any(s, unless)]
        return out

    def _rule_hits(self, rule: _Rule, f: _Found, ctx: _Line) -> list[Span]:
        """Original-text spans where `rule` matches, after its exclusions."""
        norm = ctx.norm
        unless = f.get(_ROLE_UNLESS)
        negations = f.get(_ROLE_NEGATION)
        candidates: list[Span] = list(f.get(_ROLE_PHRASE))
        if f.get(_ROLE_MEDIA):
            # The line names the media itself: any assertion in it is a statement to the media.
            candidates.extend(f.get(_ROLE_ASSERTION))
        for pat in rule.patterns:
            for m in pat.finditer(norm.text):
                if m.end() > m.start() and not _inside_any((m.start(), m.end()), unless):
                    candidates.append((m.start(), m.end()))
        for k, pair in enumerate(rule.pairs):
            candidates.extend(self._pair_hits(pair, f.get(_ROLE_FIRST, k), f.get(_ROLE_THEN, k), negations, ctx))
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
    def _pair_hits(pair: _Pair, firsts: list[Span], thens: list[Span], negations: list[Span], ctx: _Line) -> list[Span]:
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

    def _excluded(self, rule: _Rule, a: int, b: int, s: int, f: _Found, ctx: _Line) -> bool:
        if rule.skip_quoted and ctx.quoted(a, b):
            return True
        if rule.skip_questions and ctx.in_question(b):
            return True
        for _rs, re_ in f.get(_ROLE_REPORTED):
            if re_ <= s:
                end_of_cue = ctx.norm.offsets[re_ - 1] + 1
                if not _CLAUSE_END.search(ctx.text, end_of_cue, a):
                    return True
        for us, ue in f.get(_ROLE_UNLESS_CLAUSE):
            ua, ub = ctx.norm.span(us, ue)
            lo, hi = (ub, a) if ub <= a else (b, ua) if ua >= b else (a, a)
            if not _CLAUSE_END.search(ctx.text, lo, hi):
                return True
        return False

    def _number_hits(self, spec: _Numbers, f: _Found, ctx: _Line) -> list[Span]:
        runs = ctx.runs()
        if not runs:
            return []
        out: list[Span] = []
        near = f.get(_ROLE_NEAR)
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
            if not near or len(run.digits) < _SHORT_MIN_DIGITS or skipped:
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


def _internal_digits(numbers: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for n in numbers:
        d = digits_of(str(n))
        if len(d) >= _SHORT_MIN_DIGITS and d not in out:
            out.append(d)
    return tuple(out)


# --------------------------------------------------------------------------- compiling


class _Compiler:
    """Validates the raw YAML data and collects every problem before giving up."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.terms: dict[str, list[tuple[int, int, int]]] = {}

    def problem(self, path: tuple[PathPart, ...], message: str) -> None:
        self.problems.append(Problem(path, message))

    # -- generic field readers

    def text_by_lang(self, raw: object, path: tuple[PathPart, ...], what: str) -> dict[str, str]:
        if isinstance(raw, str):
            if not raw.strip():
                self.problem(path, f"{what} is empty: write the wording in Chinese (zh-CN) and English (en).")
                return {}
            return {DEFAULT_LANG: raw}
        if not isinstance(raw, Mapping):
            self.problem(path, f"{what} should be text, or one text per language (zh-CN: …, en: …).")
            return {}
        out: dict[str, str] = {}
        for lang, value in raw.items():
            if lang not in LANGS:
                self.problem((*path, str(lang)), f"unknown language '{lang}': use one of {', '.join(LANGS)}.")
            elif not isinstance(value, str) or not value.strip():
                self.problem((*path, lang), f"{what} in {lang} should be non-empty text.")
            else:
                out[lang] = value
        if out and DEFAULT_LANG not in out:
            self.problem(path, f"{what} needs a Chinese (zh-CN) version; it is the default.")
        return out

    def words(self, raw: object, path: tuple[PathPart, ...], what: str) -> list[str]:
        """A list of words/phrases, each normalised the same way as call text."""
        if raw is None:
            return []
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            self.problem(path, f"{what} should be a list (one item per line starting with '- ').")
            return []
        out: list[str] = []
        for i, item in enumerate(raw):
            if isinstance(item, bool) or not isinstance(item, str | int):
                self.problem((*path, i), f"each item of {what} should be a word or phrase.")
                continue
            norm = normalize_text(str(item))
            if not norm:
                self.problem(
                    (*path, i),
                    f"'{item}' has no letters or digits left after removing spaces and punctuation.",
                )
                continue
            out.append(norm)
        return out

    def flag(self, raw: Mapping[str, Any], key: str, path: tuple[PathPart, ...], default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.problem((*path, key), f"{key} should be true or false.")
            return default
        return value

    def count(self, raw: Mapping[str, Any], key: str, path: tuple[PathPart, ...], default: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem((*path, key), f"{key} should be a whole number, 0 or more (for example {default}).")
            return default
        return value

    def regexes(self, raw: object, path: tuple[PathPart, ...], what: str) -> list[re.Pattern[str]]:
        if raw is None:
            return []
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            self.problem(path, f"{what} should be a list of regular expressions.")
            return []
        out: list[re.Pattern[str]] = []
        for i, item in enumerate(raw):
            if not isinstance(item, str | int) or isinstance(item, bool) or not str(item):
                self.problem((*path, i), "each pattern should be a non-empty regular expression.")
                continue
            try:
                pat = re.compile(str(item))
            except re.error as exc:
                self.problem((*path, i), f"this pattern is not a valid regular expression ({exc}).")
                continue
            if pat.fullmatch(""):
                self.problem((*path, i), "this pattern matches empty text, so it would match every line.")
                continue
            out.append(pat)
        return out

    def unknown_keys(self, raw: Mapping[str, Any], allowed: frozenset[str], path: tuple[PathPart, ...]) -> None:
        for key in raw:
            if key not in allowed:
                self.problem(
                    (*path, str(key)),
                    f"unknown field '{key}' (check the spelling; allowed: {', '.join(sorted(allowed))}).",
                )

    def add_terms(self, words: Iterable[str], ri: int, role: int, k: int = 0) -> None:
        for w in words:
            uses = self.terms.setdefault(w, [])
            if (ri, role, k) not in uses:
                uses.append((ri, role, k))

    # -- the file

    def compile(self, raw: object) -> tuple[_Rule, ...]:
        if not isinstance(raw, Mapping):
            self.problem((), "forbidden.yaml should start with 'rules:' followed by a list of rules.")
            return ()
        self.unknown_keys(raw, _TOP_KEYS, ())
        rules_raw = raw.get("rules")
        if rules_raw is None:
            self.problem(("rules",), "'rules:' is missing.")
            return ()
        if isinstance(rules_raw, str) or not isinstance(rules_raw, Sequence):
            self.problem(("rules",), "'rules:' should be a list of rules, each starting with '- id: …'.")
            return ()
        rules: list[_Rule] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(rules_raw):
            path: tuple[PathPart, ...] = ("rules", i)
            if not isinstance(item, Mapping):
                self.problem(path, "each rule should be a set of fields starting with 'id:'.")
                continue
            rule = self.rule(item, path, len(rules))
            if rule is None:
                continue
            if rule.id in seen:
                self.problem((*path, "id"), f"rule id '{rule.id}' is used twice (also rule {seen[rule.id]}).")
                continue
            seen[rule.id] = i
            rules.append(rule)
        return tuple(rules)

    def rule(self, raw: Mapping[str, Any], path: tuple[PathPart, ...], ri: int) -> _Rule | None:
        self.unknown_keys(raw, _RULE_KEYS, path)
        before = len(self.problems)
        rid = raw.get("id")
        if not isinstance(rid, str) or not re.fullmatch(r"[a-z][a-z0-9_.]*", rid or ""):
            self.problem(
                (*path, "id"),
                "every rule needs an id: lower-case letters, digits and '_' (for example system_blame).",
            )
            rid = f"rule_{path[-1]}"
        title = self.text_by_lang(raw.get("title"), (*path, "title"), "title")
        if "title" not in raw:
            self.problem((*path, "title"), "title is missing: the name the sidebar shows for this rule.")
        alternative = self.text_by_lang(raw.get("alternative"), (*path, "alternative"), "alternative")
        if "alternative" not in raw:
            self.problem((*path, "alternative"), "alternative is missing: the approved wording to say instead.")
        examples = self.examples(raw.get("examples"), (*path, "examples"))
        categories = self.categories(raw.get("categories"), (*path, "categories"))
        media_only = self.flag(raw, "media_only", path, False)
        media_words = self.words(raw.get("media_words"), (*path, "media_words"), "media_words")
        if media_only and not media_words:
            self.problem(
                (*path, "media_words"),
                "a media_only rule needs media_words (记者, 直播间…) to spot media lines on other calls.",
            )
        phrases = self.words(raw.get("phrases"), (*path, "phrases"), "phrases")
        patterns = self.regexes(raw.get("patterns"), (*path, "patterns"), "patterns")
        pairs_raw = raw.get("pairs")
        pairs: list[_Pair] = []
        if pairs_raw is not None:
            if isinstance(pairs_raw, str) or not isinstance(pairs_raw, Sequence):
                self.problem((*path, "pairs"), "pairs should be a list of 'first: […] then: […]' entries.")
            else:
                for k, p in enumerate(pairs_raw):
                    pair = self.pair(p, (*path, "pairs", k), ri, len(pairs))
                    if pair is not None:
                        pairs.append(pair)
        unless = self.words(raw.get("unless"), (*path, "unless"), "unless")
        negations = self.words(raw.get("negations"), (*path, "negations"), "negations")
        reported = self.words(raw.get("reported"), (*path, "reported"), "reported")
        unless_clause = self.words(raw.get("unless_clause"), (*path, "unless_clause"), "unless_clause")
        assertions = self.words(raw.get("assertions"), (*path, "assertions"), "assertions")
        if assertions and not media_only:
            self.problem((*path, "assertions"), "assertions only work in a media_only rule (with media_words).")
        reach = self.count(raw, "negation_reach", path, _DEFAULT_NEGATION_REACH)
        numbers = None
        if "numbers" in raw:
            numbers = self.numbers(raw["numbers"], (*path, "numbers"), ri)
        if not (phrases or patterns or pairs or numbers) and len(self.problems) == before:
            self.problem(path, "this rule matches nothing: give it phrases, patterns, pairs or numbers.")
        self.add_terms(phrases, ri, _ROLE_PHRASE)
        self.add_terms(unless, ri, _ROLE_UNLESS)
        self.add_terms(negations, ri, _ROLE_NEGATION)
        self.add_terms(reported, ri, _ROLE_REPORTED)
        self.add_terms(unless_clause, ri, _ROLE_UNLESS_CLAUSE)
        self.add_terms(assertions, ri, _ROLE_ASSERTION)
        self.add_terms(media_words, ri, _ROLE_MEDIA)
        if len(self.problems) > before:
            return None
        return _Rule(
            id=rid,
            title=title,
            alternative=alternative,
            examples=examples,
            categories=categories,
            media_only=media_only,
            patterns=tuple(patterns),
            pairs=tuple(pairs),
            negation_reach=reach,
            skip_quoted=self.flag(raw, "skip_quoted", path, True),
            skip_questions=self.flag(raw, "skip_questions", path, False),
            numbers=numbers,
        )

    def pair(self, raw: object, path: tuple[PathPart, ...], ri: int, k: int) -> _Pair | None:
        if not isinstance(raw, Mapping):
            self.problem(path, "each pair needs 'first:' and 'then:' word lists.")
            return None
        self.unknown_keys(raw, _PAIR_KEYS, path)
        before = len(self.problems)
        first = self.words(raw.get("first"), (*path, "first"), "first")
        then = self.words(raw.get("then"), (*path, "then"), "then")
        for key, words in (("first", first), ("then", then)):
            if not words and len(self.problems) == before:
                self.problem((*path, key), f"'{key}:' needs at least one word.")
        within = self.count(raw, "within", path, _DEFAULT_WITHIN)
        if len(self.problems) > before:
            return None
        self.add_terms(first, ri, _ROLE_FIRST, k)
        self.add_terms(then, ri, _ROLE_THEN, k)
        return _Pair(within)

    def numbers(self, raw: object, path: tuple[PathPart, ...], ri: int) -> _Numbers | None:
        if not isinstance(raw, Mapping):
            self.problem(path, "numbers should be a set of fields (directory, near, within…).")
            return None
        self.unknown_keys(raw, _NUMBER_KEYS, path)
        before = len(self.problems)
        directory = self.flag(raw, "directory", path, True)
        near = self.words(raw.get("near"), (*path, "near"), "near")
        public = self.regexes(raw.get("public"), (*path, "public"), "public")
        short_after = self.words(raw.get("short_after"), (*path, "short_after"), "short_after")
        skip_after = self.words(raw.get("skip_after"), (*path, "skip_after"), "skip_after")
        skip_before_raw = raw.get("skip_before")
        skip_before: list[str] = []
        if skip_before_raw is not None:
            if isinstance(skip_before_raw, str) or not isinstance(skip_before_raw, Sequence):
                self.problem((*path, "skip_before"), "skip_before should be a list of words.")
            else:
                for i, w in enumerate(skip_before_raw):
                    if not isinstance(w, str) or not w:
                        self.problem((*path, "skip_before", i), "each item should be a word.")
                    else:
                        skip_before.append(w)
        within = self.count(raw, "within", path, _DEFAULT_NEAR_WITHIN)
        min_digits = self.count(raw, "min_digits", path, _DEFAULT_MIN_DIGITS)
        if min_digits < _SHORT_MIN_DIGITS:
            self.problem((*path, "min_digits"), f"min_digits should be at least {_SHORT_MIN_DIGITS}.")
        if not directory and not near and len(self.problems) == before:
            self.problem(path, "numbers needs 'directory: true' or a 'near:' list of department words.")
        if len(self.problems) > before:
            return None
        self.add_terms(near, ri, _ROLE_NEAR)
        return _Numbers(
            directory=directory,
            within=within,
            min_digits=min_digits,
            short_after=tuple(short_after),
            public=tuple(public),
            skip_after=tuple(skip_after),
            skip_before=tuple(skip_before),
        )

    def examples(self, raw: object, path: tuple[PathPart, ...]) -> dict[str, tuple[str, ...]]:
        if raw is None:
            return {}
        if isinstance(raw, Sequence) and not isinstance(raw, str):
            return {DEFAULT_LANG: self.plain_list(raw, path)}
        if not isinstance(raw, Mapping):
            self.problem(path, "examples should be a list, or one list per language (zh-CN: […], en: […]).")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for lang, items in raw.items():
            if lang not in LANGS:
                self.problem((*path, str(lang)), f"unknown language '{lang}': use one of {', '.join(LANGS)}.")
                continue
            if isinstance(items, str) or not isinstance(items, Sequence):
                self.problem((*path, lang), "examples should be a list of sentences.")
                continue
            out[lang] = self.plain_list(items, (*path, lang))
        return out

    def plain_list(self, raw: Sequence[Any], path: tuple[PathPart, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for i, item in enumerate(raw):
            if not isinstance(item, str) or not item.strip():
                self.problem((*path, i), "each example should be a sentence.")
            else:
                out.append(item)
        return tuple(out)

    def categories(self, raw: object, path: tuple[PathPart, ...]) -> frozenset[str] | None:
        if raw is None:
            return None
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            self.problem(path, "categories should be a list of call categories (for example media.live).")
            return None
        known = set(CATEGORY_IDS) | {c.split(".", 1)[0] for c in CATEGORY_IDS}
        out: set[str] = set()
        for i, c in enumerate(raw):
            if not isinstance(c, str) or c not in known:
                self.problem((*path, i), f"unknown category '{c}': use one of {', '.join(CATEGORY_IDS)} (or 'media').")
            else:
                out.add(c)
        return frozenset(out)


def compile_forbidden(raw: object, *, internal_numbers: Sequence[str] = ()) -> ForbiddenChecker:
    """Build a checker from parsed forbidden.yaml data; PackError lists every problem found."""
    comp = _Compiler()
    rules = comp.compile(raw)
    if comp.problems:
        raise PackError(comp.problems)
    automaton = ahocorasick.Automaton()
    for word, uses in comp.terms.items():
        automaton.add_word(
            word,
            _Term(len(word), _is_ascii_word_char(word[0]), _is_ascii_word_char(word[-1]), tuple(uses)),
        )
    empty = not comp.terms
    if not empty:
        automaton.make_automaton()
    return ForbiddenChecker(rules, automaton, _internal_digits(internal_numbers), empty)


__all__ = ["DEFAULT_LANG", "LANGS", "ForbiddenChecker", "compile_forbidden"]
