"""Compile a pack's rules.yaml (already parsed) into a validated `RuleSet`.

Trainers edit the YAML, so every mistake is reported at once, each with the path of
the offending field (("categories", "system_outage", "rules", 3, "any")) and a message
that says what to write instead. The format is documented in docs/rules.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assist.classifier.normalize import normalize_text
from assist.classifier.pinyin import is_cjk_word
from assist.classifier.ruleset import Negation, Rule, RuleSet, Target, Term, Within
from assist.classifier.segments import SPEAKERS
from assist.classifier.synonyms import Groups, group_index
from assist.problems import PackError, PathPart, Problem

__all__ = ["RuleSet", "compile_rules"]

NONE = "none"
SOURCES = (*SPEAKERS, "note", "context")
DEFAULT_SCOPE = frozenset((*SPEAKERS, "note"))
"""Where a rule without `in` looks: everything said on the call and the agent's note, not the context."""
_PLACES = ", ".join(SOURCES) + " or context.<field>"
_TOP_KEYS = {"version", "matching", "negation", "exclude", "lists", "signals", "categories"}
_TARGET_KEYS = {"description", "threshold", "requires", "requires_any", "unless", "rules"}
_RULE_KEYS = {"id", "any", "all", "unless", "in", "near", "within", "weight", "negation", "description"}
_WORD_KEYS = {"word", "not", "sound", "fuzzy"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_ASCII_WORD = re.compile(r"^[a-z0-9]+$")
_LIST_REF = "@"
_MIN_SOUND_DEFAULT = 3


@dataclass
class _Builder:
    """Mutable state while compiling; turned into the frozen RuleSet at the end."""

    problems: list[Problem] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    term_ids: dict[Term, int] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    lists: dict[str, list[int]] = field(default_factory=dict)
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Normalised term -> its synonym group (`synonyms.group_index`): a keyword matches its whole group."""

    def problem(self, path: tuple[PathPart, ...], message: str) -> None:
        self.problems.append(Problem(path, message))

    def add_term(self, term: Term) -> int:
        found = self.term_ids.get(term)
        if found is None:
            found = len(self.terms)
            self.terms.append(term)
            self.term_ids[term] = found
        return found


def compile_rules(raw: object, *, priority: Sequence[str], synonyms: Groups = ()) -> RuleSet:
    """Validate and compile parsed rules.yaml data; raise PackError listing every problem.

    `synonyms` are the pack's synonym groups: a keyword (in `any`, `all`, `unless` or a list) that is
    a term of a group gets the group's other terms as alternatives, here rather than per call.
    """
    b = _Builder(synonyms=group_index(synonyms))
    if not isinstance(raw, Mapping):
        raise PackError([Problem((), "rules.yaml must be a mapping with a 'categories' section")])
    for key in raw:
        if key not in _TOP_KEYS:
            b.problem((str(key),), f"unknown section '{key}'; expected one of {_sorted(_TOP_KEYS)}")
    prio = tuple(priority)
    fuzzy_cutoff = _matching(b, raw.get("matching"))
    negation = _negation(b, raw.get("negation"))
    exclude = tuple(_plain_words(b, raw.get("exclude", []), ("exclude",)))
    _lists(b, raw.get("lists"))

    signals = _section(b, raw.get("signals"), "signals")
    categories = _section(b, raw.get("categories"), "categories")
    if "categories" not in raw:
        b.problem((), "missing section 'categories'")
    for name in signals:
        if name in categories or name in prio:
            b.problem(("signals", name), f"signal '{name}' has the same name as a category; rename it")
    for name in categories:
        if name == NONE:
            b.problem(
                ("categories", name), "'none' is what a call gets when nothing else matches; it cannot have rules"
            )
        elif name not in prio:
            b.problem(("categories", name), f"unknown category '{name}'; expected one of {list(prio)}")
    for name in prio:
        if name != NONE and categories and name not in categories:
            b.problem(("categories",), f"category '{name}' has no rules; add a section for it")

    known = set(signals) | set(categories)
    targets: dict[str, Target] = {}
    for section, specs, is_cat in (("signals", signals, False), ("categories", categories, True)):
        for name, spec in specs.items():
            t = _target(b, (section, name), name, spec, is_cat, known)
            if t is not None:
                targets[name] = t
    order = _evaluation_order(b, targets)
    if b.problems:
        raise PackError(b.problems)
    return RuleSet(
        terms=tuple(b.terms),
        rules=tuple(b.rules),
        targets=tuple(targets[n] for n in order),
        priority=prio,
        exclude=exclude,
        negation=negation,
        fuzzy_cutoff=fuzzy_cutoff,
    )


def _sorted(keys: set[str]) -> str:
    return ", ".join(sorted(keys))


def _section(b: _Builder, raw: object, name: str) -> dict[str, Mapping[str, object]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        b.problem((name,), f"'{name}' must be a mapping of names to definitions")
        return {}
    out: dict[str, Mapping[str, object]] = {}
    for key, spec in raw.items():
        key_s = str(key)
        if not _NAME.match(key_s):
            b.problem((name, key_s), "names use lower-case letters, digits, '_' and '.' (e.g. system_outage)")
            continue
        if not isinstance(spec, Mapping):
            b.problem((name, key_s), "must be a mapping with a 'rules' list")
            continue
        out[key_s] = spec
    return out


def _matching(b: _Builder, raw: object) -> float:
    if raw is None:
        return 88.0
    if not isinstance(raw, Mapping):
        b.problem(("matching",), "must be a mapping, e.g. {fuzzy_cutoff: 88}")
        return 88.0
    cutoff: object = 88.0
    for key, value in raw.items():
        if key == "fuzzy_cutoff":
            cutoff = value
        else:
            b.problem(("matching", str(key)), "unknown setting; expected fuzzy_cutoff")
    if isinstance(cutoff, bool) or not isinstance(cutoff, int | float) or not 50 <= cutoff <= 100:
        b.problem(("matching", "fuzzy_cutoff"), "must be a number from 50 to 100 (similarity in percent)")
        return 88.0
    return float(cutoff)


def _negation(b: _Builder, raw: object) -> Negation:
    if raw is None:
        return Negation()
    if not isinstance(raw, Mapping):
        b.problem(("negation",), "must be a mapping with 'before', 'after' and 'window'")
        return Negation()
    window: object = 3
    for key in raw:
        if key not in ("before", "after", "window", "corrections"):
            b.problem(("negation", str(key)), "unknown setting; expected before, after, corrections or window")
    if "window" in raw:
        window = raw["window"]
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 20:
        b.problem(("negation", "window"), "must be a whole number of characters from 0 to 20")
        window = 3
    assert isinstance(window, int)
    before = _plain_words(b, raw.get("before", []), ("negation", "before"))
    after = _plain_words(b, raw.get("after", []), ("negation", "after"))
    corrections = _plain_words(b, raw.get("corrections", []), ("negation", "corrections"))
    return Negation(tuple(before), tuple(after), window, tuple(corrections))


def _plain_words(b: _Builder, raw: object, path: tuple[PathPart, ...]) -> list[str]:
    """A list of plain words (no options), normalised."""
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        b.problem(path, "must be a list of words")
        return []
    out: list[str] = []
    for i, item in enumerate(raw):
        if not isinstance(item, str | int) or isinstance(item, bool):
            b.problem((*path, i), "must be a word (text)")
            continue
        norm = normalize_text(str(item))
        if not norm:
            b.problem((*path, i), f"'{item}' has no letters or digits left after normalising")
            continue
        out.append(norm)
    return out


def _lists(b: _Builder, raw: object) -> None:
    if raw is None:
        return
    if not isinstance(raw, Mapping):
        b.problem(("lists",), "must be a mapping of list names to word lists")
        return
    for name, words in raw.items():
        name_s = str(name)
        if not _NAME.match(name_s):
            b.problem(("lists", name_s), "list names use lower-case letters, digits and '_'")
            continue
        ids = _words(b, words, ("lists", name_s), allow_refs=False)
        if ids is not None:
            b.lists[name_s] = ids


def _words(b: _Builder, raw: object, path: tuple[PathPart, ...], *, allow_refs: bool = True) -> list[int] | None:
    """A keyword list: words, {word: ..., not: [...]} entries and @list references."""
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        b.problem(path, "must be a list of keywords, e.g. [投诉, 不满意]")
        return None
    if not raw:
        b.problem(path, "is empty; list at least one keyword")
        return None
    ids: list[int] = []
    for i, item in enumerate(raw):
        here = (*path, i)
        if isinstance(item, str) and item.startswith(_LIST_REF):
            name = item[len(_LIST_REF) :]
            if not allow_refs:
                b.problem(here, "a list cannot refer to another list")
            elif name not in b.lists:
                b.problem(here, f"unknown list '{name}'; define it under 'lists'")
            else:
                ids.extend(b.lists[name])
            continue
        for term in _terms(b, item, here):  # a synonym the list also names itself is listed once
            tid = b.add_term(term)
            if tid not in ids:
                ids.append(tid)
    return ids


def _terms(b: _Builder, item: object, path: tuple[PathPart, ...]) -> list[Term]:
    """The keyword, then one alternative per other term of its synonym group ([] when it is invalid).

    An alternative is matched as the group writes it (no `*`), with the keyword's `sound` and `fuzzy`
    options when given; `not` look-alikes stay with the spelling they were written for.
    """
    options: Mapping[str, object] = {}
    if isinstance(item, Mapping):
        options = item
        for key in item:
            if key not in _WORD_KEYS:
                b.problem((*path, str(key)), f"unknown keyword option; expected one of {_sorted(_WORD_KEYS)}")
        item = item.get("word")
        if item is None:
            b.problem(path, "a keyword entry needs 'word', e.g. {word: 投诉你, not: [投诉你们]}")
            return []
    if isinstance(item, bool) or not isinstance(item, str | int):
        b.problem(path, "a keyword must be text")
        return []
    text = str(item).strip()
    prefix = text.endswith("*")
    norm = normalize_text(text.rstrip("*"))
    if not norm:
        b.problem(path, f"keyword '{text}' has no letters or digits left after normalising")
        return []
    if prefix and not _ASCII_WORD.match(norm):
        b.problem(path, "'*' (any ending) only works on English words, e.g. complain*")
    not_words: tuple[str, ...] = ()
    if "not" in options:
        not_words = tuple(_plain_words(b, options["not"], (*path, "not")))
    flags: dict[str, bool] = {}
    for key in ("sound", "fuzzy"):
        if key in options:
            value = options[key]
            if not isinstance(value, bool):
                b.problem((*path, key), "must be true or false")
            else:
                flags[key] = value
    out = [_term(text, norm, prefix, not_words, flags)]
    for alt in b.synonyms.get(norm, ()):
        alt_norm = normalize_text(alt)
        if alt_norm and alt_norm != norm:
            out.append(_term(alt.strip(), alt_norm, False, (), flags))
    return out


def _term(text: str, norm: str, prefix: bool, not_words: tuple[str, ...], flags: Mapping[str, bool]) -> Term:
    is_word = bool(_ASCII_WORD.match(norm))
    # Two-character words have too many sound-alikes (上调/上吊, 去世/去死): they match by
    # sound only when the trainer says so; longer words do unless told not to.
    sound = flags.get("sound", len(norm) >= _MIN_SOUND_DEFAULT)
    return Term(
        text=text,
        norm=norm,
        not_words=not_words,
        sound=sound and len(norm) >= 2 and is_cjk_word(norm),
        fuzzy=flags.get("fuzzy", True),
        word=is_word,
        prefix=prefix,
    )


def _names(b: _Builder, raw: object, path: tuple[PathPart, ...], known: set[str], own: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, Sequence):
        b.problem(path, "must be a list of signal or category names")
        return ()
    out: list[str] = []
    for i, name in enumerate(raw):
        name_s = str(name)
        if name_s == own:
            b.problem((*path, i), f"'{own}' cannot refer to itself")
        elif name_s not in known:
            b.problem((*path, i), f"unknown signal or category '{name_s}'")
        else:
            out.append(name_s)
    return tuple(out)


def _number(b: _Builder, raw: object, path: tuple[PathPart, ...], default: float, *, low: float) -> float:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < low:
        b.problem(path, f"must be a number of at least {low:g}")
        return default
    return float(raw)


def _target(
    b: _Builder,
    path: tuple[PathPart, ...],
    name: str,
    spec: Mapping[str, object],
    is_category: bool,
    known: set[str],
) -> Target | None:
    for key in spec:
        if key not in _TARGET_KEYS:
            b.problem((*path, str(key)), f"unknown key; expected one of {_sorted(_TARGET_KEYS)}")
    threshold = _number(b, spec.get("threshold"), (*path, "threshold"), 1.0, low=0.0)
    requires = _names(b, spec.get("requires"), (*path, "requires"), known, name)
    requires_any = _names(b, spec.get("requires_any"), (*path, "requires_any"), known, name)
    unless = _names(b, spec.get("unless"), (*path, "unless"), known, name)
    raw_rules = spec.get("rules")
    rule_ids: list[int] = []
    if raw_rules is None:
        if not requires and not requires_any:
            b.problem(path, "needs a 'rules' list (or 'requires')")
    elif isinstance(raw_rules, str) or not isinstance(raw_rules, Sequence):
        b.problem((*path, "rules"), "must be a list of rules")
    else:
        seen: set[str] = set()
        for i, raw_rule in enumerate(raw_rules):
            rule = _rule(b, (*path, "rules", i), name, i, raw_rule)
            if rule is None:
                continue
            if rule.id in seen:
                b.problem((*path, "rules", i, "id"), f"rule id '{rule.id.split('/', 1)[1]}' is used twice")
            seen.add(rule.id)
            rule_ids.append(len(b.rules))
            b.rules.append(rule)
    return Target(name, is_category, tuple(rule_ids), threshold, requires, requires_any, unless)


def _rule(b: _Builder, path: tuple[PathPart, ...], target: str, index: int, raw: object) -> Rule | None:
    if not isinstance(raw, Mapping):
        b.problem(path, "a rule must be a mapping with 'any' or 'all' keywords")
        return None
    before = len(b.problems)
    for key in raw:
        if key not in _RULE_KEYS:
            b.problem((*path, str(key)), f"unknown key; expected one of {_sorted(_RULE_KEYS)}")
    groups: list[tuple[int, ...]] = []
    if "any" in raw:
        ids = _words(b, raw["any"], (*path, "any"))
        if ids:
            groups.append(tuple(ids))
    if "all" in raw:
        all_raw = raw["all"]
        if isinstance(all_raw, str) or not isinstance(all_raw, Sequence) or not all_raw:
            b.problem((*path, "all"), "must be a list of keyword lists, e.g. [[转账, 登录], [失败, 报错]]")
        else:
            for gi, group in enumerate(all_raw):
                ids = _words(b, group, (*path, "all", gi))
                if ids:
                    groups.append(tuple(ids))
    if "any" not in raw and "all" not in raw:
        b.problem(path, "a rule needs 'any' (one of these words) or 'all' (one word from each list)")
    unless: list[int] = []
    if "unless" in raw:
        unless = _words(b, raw["unless"], (*path, "unless")) or []
    sources, fields = _scope(b, raw.get("in"), (*path, "in"))
    within: Within = "segment"
    if "within" in raw:
        w = raw["within"]
        if w in ("segment", "call"):
            within = "segment" if w == "segment" else "call"
        else:
            b.problem((*path, "within"), "must be 'segment' (same line or note) or 'call' (anywhere in the call)")
    near: int | None = None
    if "near" in raw:
        n = raw["near"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            b.problem((*path, "near"), "must be a whole number of characters, at least 1")
        elif within == "call":
            b.problem((*path, "near"), "'near' only works within one segment; remove 'within: call'")
        else:
            near = n
    weight = _number(b, raw.get("weight"), (*path, "weight"), 1.0, low=-100.0)
    negation = raw.get("negation", True)
    if not isinstance(negation, bool):
        b.problem((*path, "negation"), "must be true or false")
        negation = True
    rid = raw.get("id", f"rule{index + 1}")
    if not isinstance(rid, str | int) or not str(rid).strip():
        b.problem((*path, "id"), "must be a short name")
        rid = f"rule{index + 1}"
    if len(b.problems) != before or not groups:
        return None
    return Rule(
        id=f"{target}/{rid}",
        target=target,
        groups=tuple(groups),
        unless=tuple(unless),
        sources=sources,
        fields=fields,
        within=within,
        near=near,
        weight=weight,
        negation=negation,
    )


def _scope(b: _Builder, raw: object, path: tuple[PathPart, ...]) -> tuple[frozenset[str], frozenset[str]]:
    default = (DEFAULT_SCOPE, frozenset[str]())
    if raw is None:
        return default
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, Sequence) or not raw:
        b.problem(path, f"must list where to look: {_PLACES}")
        return default
    sources: set[str] = set()
    fields: set[str] = set()
    for i, item in enumerate(raw):
        s = str(item)
        if s in SOURCES:
            sources.add(s)
        elif s.startswith("context.") and len(s) > len("context."):
            fields.add(s[len("context.") :])
        else:
            b.problem((*path, i), f"unknown place '{s}'; use {_PLACES}")
    return frozenset(sources), frozenset(fields)


def _evaluation_order(b: _Builder, targets: Mapping[str, Target]) -> list[str]:
    """Targets sorted so that each comes after everything it requires; reports cycles."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*trail[trail.index(name) :], name]
            t = targets[cycle[0]]
            section = "categories" if t.is_category else "signals"
            b.problem((section, cycle[0]), "circular reference: " + " -> ".join(cycle))
            return
        state[name] = 1
        t = targets[name]
        for dep in (*t.requires, *t.requires_any, *t.unless):
            if dep in targets:
                visit(dep, [*trail, name])
        state[name] = 2
        order.append(name)

    for name in targets:
        visit(name, [])
    return order
