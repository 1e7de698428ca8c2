"""Is a keyword negated where it stands? ("我不是要投诉", "也不会去12378", "投诉就算了").

A keyword is negated when a negation cue ends at most `window` characters before it (or
runs into it: 不找 in "我不找媒体" against the keyword 找媒体), or starts at most `window`
characters after it, in the same clause. Clauses are split on the original punctuation,
which normalisation removed, so the check looks at the original text between cue and keyword.
"""

from __future__ import annotations

from collections.abc import Sequence

from assist.classifier.normalize import Normalized

CLAUSE_BREAKS = frozenset("，。！？；：,.!?;:…\n—~～")


def crosses_clause(n: Normalized, left_end: int, right_start: int) -> bool:
    """True if the original text between two normalised positions holds clause punctuation."""
    if left_end <= 0 or right_start >= len(n.offsets) or left_end > right_start:
        return False
    a = n.offsets[left_end - 1] + 1
    b = n.offsets[right_start]
    return any(ch in CLAUSE_BREAKS for ch in n.original[a:b])


def is_negated(
    n: Normalized,
    start: int,
    end: int,
    cues_before: Sequence[tuple[int, int]],
    cues_after: Sequence[tuple[int, int]],
    window: int,
) -> bool:
    """Whether the keyword at [start, end) has a negation cue close enough in its clause."""
    for c_start, c_end in cues_before:
        if c_start < start < c_end:  # the cue runs into the keyword: 不找 + 找媒体, 不去 + 去银保监
            return True
        if c_end <= start and start - c_end <= window and not crosses_clause(n, c_end, start):
            return True
    for c_start, _ in cues_after:
        if c_start >= end and c_start - end <= window and not crosses_clause(n, end, c_start):
            return True
    return False
