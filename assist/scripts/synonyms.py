"""Synonym and abbreviation groups of a pack (`synonyms.txt`): words that mean the same thing.

One group per line, its terms separated by `=`:

    # e-banking and its abbreviations
    网银 = 网上银行 = 网上银行系统
    手机银行 = 手机APP = 掌上银行

A keyword of a rule or a forbidden phrase (compiled into alternatives by the rule and phrase
compilers, `classifier.synonyms`) or a fault's system name then matches any term of its group, so a
trainer writes `网银` once instead of listing every spelling. Terms are compared after NFKC and case folding
(`ＡＰＰ` = `app`). A term belongs to one group only: two groups sharing a term would silently merge,
so that is reported, as is a group of one term. Pure: text in, groups and problems out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from assist.classifier.synonyms import group_index
from assist.problems import Problem

SYNONYMS_FILE = "synonyms.txt"

Groups = tuple[tuple[str, ...], ...]


def fold(term: str) -> str:
    """The form two terms are compared in: NFKC, case-folded, without surrounding spaces."""
    return unicodedata.normalize("NFKC", term).casefold().strip()


def parse_synonyms(text: str, file: str = SYNONYMS_FILE) -> tuple[Groups, list[Problem]]:
    """The groups of a synonyms file and every problem in it, each with its file and line."""
    groups: list[tuple[str, ...]] = []
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" not in line:
            problems.append(
                Problem((), f"a group is terms separated by '=' (e.g. 网银 = 网上银行), not {line!r}", file, n)
            )
            continue
        terms = [t.strip() for t in line.split("=")]
        if any(not t for t in terms):
            problems.append(Problem((), "empty term (two '=' in a row, or '=' at an end of the line)", file, n))
            continue
        group: list[str] = []
        seen_here: set[str] = set()
        bad = False
        for t in terms:
            key = fold(t)
            if key in seen_here:
                problems.append(Problem((), f"{t!r} is listed twice in this group", file, n))
                bad = True
            elif key in first_seen:
                problems.append(
                    Problem(
                        (),
                        f"{t!r} is already in the group on line {first_seen[key]}: merge the two lines into one group",
                        file,
                        n,
                    )
                )
                bad = True
            seen_here.add(key)
            group.append(t)
        if bad:
            continue
        if len(group) < 2:
            problems.append(Problem((), "a group needs at least two terms", file, n))
            continue
        for t in group:
            first_seen[fold(t)] = n
        groups.append(tuple(group))
    return tuple(groups), problems


def expand_keywords(keywords: Iterable[str], groups: Sequence[Sequence[str]]) -> list[str]:
    """The keywords followed, each in place, by the other terms of its group; order kept, no repeats.

    `expand_keywords(["网银", "转账"], [("网银", "网上银行")])` -> `["网银", "网上银行", "转账"]`.
    """
    by_term = group_index(groups, fold)
    out: dict[str, str] = {}
    for kw in keywords:
        for t in (kw, *by_term.get(fold(kw), ())):
            out.setdefault(fold(t), t)
    return list(out.values())
