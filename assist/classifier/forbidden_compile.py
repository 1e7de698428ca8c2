"""Compile a pack's forbidden.yaml (already parsed) into a `ForbiddenChecker`.

Trainers edit the YAML, so every mistake is reported at once, each with the path of the
offending field and a message that says what to write instead (docs/forbidden.md). The
compiled form and the checker that reads it are in `forbidden_check`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ahocorasick

from assist.classifier.forbidden_check import (
    DEFAULT_LANG,
    LANGS,
    ROLE_ASSERTION,
    ROLE_FIRST,
    ROLE_MEDIA,
    ROLE_NEAR,
    ROLE_NEGATION,
    ROLE_PHRASE,
    ROLE_REPORTED,
    ROLE_THEN,
    ROLE_UNLESS,
    ROLE_UNLESS_CLAUSE,
    SHORT_MIN_DIGITS,
    ForbiddenChecker,
    NumberSpec,
    PairSpec,
    RuleSpec,
    TermUses,
    internal_digits,
    is_ascii_word_char,
)
from assist.classifier.model import CATEGORY_IDS
from assist.classifier.normalize import normalize_text
from assist.classifier.synonyms import Groups, expand_words, group_index
from assist.problems import PackError, PathPart, Problem

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


class _Compiler:
    """Validates the raw YAML data and collects every problem before giving up."""

    def __init__(self, synonyms: Groups = ()) -> None:
        self.problems: list[Problem] = []
        self.terms: dict[str, list[tuple[int, int, int]]] = {}
        self.synonyms = group_index(synonyms)

    def vocabulary(self, raw: object, path: tuple[PathPart, ...], what: str) -> list[str]:
        """`words`, each with the other terms of its synonym group (the lists that name things, not the
        grammar cues, patterns or number formats: docs/forbidden.md)."""
        return expand_words(self.words(raw, path, what), self.synonyms)

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

    def compile(self, raw: object) -> tuple[RuleSpec, ...]:
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
        rules: list[RuleSpec] = []
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

    def rule(self, raw: Mapping[str, Any], path: tuple[PathPart, ...], ri: int) -> RuleSpec | None:
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
        media_words = self.vocabulary(raw.get("media_words"), (*path, "media_words"), "media_words")
        if media_only and not media_words:
            self.problem(
                (*path, "media_words"),
                "a media_only rule needs media_words (记者, 直播间…) to spot media lines on other calls.",
            )
        phrases = self.vocabulary(raw.get("phrases"), (*path, "phrases"), "phrases")
        patterns = self.regexes(raw.get("patterns"), (*path, "patterns"), "patterns")
        pairs_raw = raw.get("pairs")
        pairs: list[PairSpec] = []
        if pairs_raw is not None:
            if isinstance(pairs_raw, str) or not isinstance(pairs_raw, Sequence):
                self.problem((*path, "pairs"), "pairs should be a list of 'first: […] then: […]' entries.")
            else:
                for k, p in enumerate(pairs_raw):
                    pair = self.pair(p, (*path, "pairs", k), ri, len(pairs))
                    if pair is not None:
                        pairs.append(pair)
        unless = self.vocabulary(raw.get("unless"), (*path, "unless"), "unless")
        negations = self.words(raw.get("negations"), (*path, "negations"), "negations")
        reported = self.words(raw.get("reported"), (*path, "reported"), "reported")
        unless_clause = self.vocabulary(raw.get("unless_clause"), (*path, "unless_clause"), "unless_clause")
        assertions = self.words(raw.get("assertions"), (*path, "assertions"), "assertions")
        if assertions and not media_only:
            self.problem((*path, "assertions"), "assertions only work in a media_only rule (with media_words).")
        reach = self.count(raw, "negation_reach", path, _DEFAULT_NEGATION_REACH)
        numbers = None
        if "numbers" in raw:
            numbers = self.numbers(raw["numbers"], (*path, "numbers"), ri)
        if not (phrases or patterns or pairs or numbers) and len(self.problems) == before:
            self.problem(path, "this rule matches nothing: give it phrases, patterns, pairs or numbers.")
        self.add_terms(phrases, ri, ROLE_PHRASE)
        self.add_terms(unless, ri, ROLE_UNLESS)
        self.add_terms(negations, ri, ROLE_NEGATION)
        self.add_terms(reported, ri, ROLE_REPORTED)
        self.add_terms(unless_clause, ri, ROLE_UNLESS_CLAUSE)
        self.add_terms(assertions, ri, ROLE_ASSERTION)
        self.add_terms(media_words, ri, ROLE_MEDIA)
        if len(self.problems) > before:
            return None
        return RuleSpec(
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

    def pair(self, raw: object, path: tuple[PathPart, ...], ri: int, k: int) -> PairSpec | None:
        if not isinstance(raw, Mapping):
            self.problem(path, "each pair needs 'first:' and 'then:' word lists.")
            return None
        self.unknown_keys(raw, _PAIR_KEYS, path)
        before = len(self.problems)
        first = self.vocabulary(raw.get("first"), (*path, "first"), "first")
        then = self.vocabulary(raw.get("then"), (*path, "then"), "then")
        for key, words in (("first", first), ("then", then)):
            if not words and len(self.problems) == before:
                self.problem((*path, key), f"'{key}:' needs at least one word.")
        within = self.count(raw, "within", path, _DEFAULT_WITHIN)
        if len(self.problems) > before:
            return None
        self.add_terms(first, ri, ROLE_FIRST, k)
        self.add_terms(then, ri, ROLE_THEN, k)
        return PairSpec(within)

    def numbers(self, raw: object, path: tuple[PathPart, ...], ri: int) -> NumberSpec | None:
        if not isinstance(raw, Mapping):
            self.problem(path, "numbers should be a set of fields (directory, near, within…).")
            return None
        self.unknown_keys(raw, _NUMBER_KEYS, path)
        before = len(self.problems)
        directory = self.flag(raw, "directory", path, True)
        near = self.vocabulary(raw.get("near"), (*path, "near"), "near")
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
        if min_digits < SHORT_MIN_DIGITS:
            self.problem((*path, "min_digits"), f"min_digits should be at least {SHORT_MIN_DIGITS}.")
        if not directory and not near and len(self.problems) == before:
            self.problem(path, "numbers needs 'directory: true' or a 'near:' list of department words.")
        if len(self.problems) > before:
            return None
        self.add_terms(near, ri, ROLE_NEAR)
        return NumberSpec(
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


def compile_forbidden(raw: object, *, internal_numbers: Sequence[str] = (), synonyms: Groups = ()) -> ForbiddenChecker:
    """Build a checker from parsed forbidden.yaml data; PackError lists every problem found.

    `synonyms` are the pack's synonym groups: a phrase (or pair word, media word, exclusion, number's
    department word) that is a term of a group also matches the group's other terms.
    """
    comp = _Compiler(synonyms)
    rules = comp.compile(raw)
    if comp.problems:
        raise PackError(comp.problems)
    automaton = ahocorasick.Automaton()
    for word, uses in comp.terms.items():
        automaton.add_word(
            word,
            TermUses(len(word), is_ascii_word_char(word[0]), is_ascii_word_char(word[-1]), tuple(uses)),
        )
    empty = not comp.terms
    if not empty:
        automaton.make_automaton()
    return ForbiddenChecker(rules, automaton, internal_digits(internal_numbers), empty)


__all__ = ["compile_forbidden"]
