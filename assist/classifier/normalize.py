"""Normalise text so that rules and calls meet on the same form.

Applied to rule keywords and call text alike: full/half width (NFKC), case,
traditional -> simplified (OpenCC), common variant spellings (帐/账, 登陆/登录), and
spaces and punctuation removed. Every normalised character remembers the index of
the original character it came from, so a match can be reported as a span of what
the person actually typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import accumulate, compress, pairwise

import numpy as np
import numpy.typing as npt
import opencc

_T2S = opencc.OpenCC("t2s")
_max, _min = np.maximum.reduce, np.minimum.reduce

# Variant spellings people type for the same word. Length-preserving, applied after
# traditional -> simplified. Keep this short: typos and homophones belong to the
# fuzzy and pinyin matchers, not here.
VARIANTS: dict[str, str] = {
    "帐户": "账户",
    "帐号": "账号",
    "转帐": "转账",
    "帐单": "账单",
    "到帐": "到账",
    "入帐": "入账",
    "对帐": "对账",
    "登陆": "登录",
    "其它": "其他",
}


class Normalized:
    """Normalised text plus, for each of its characters, the index in the original.

    The offset map is built only when a match needs it (most segments have no match).
    """

    __slots__ = ("_offsets", "original", "text")

    def __init__(self, text: str, offsets: Sequence[int] | None, original: str) -> None:
        self.text = text
        self.original = original
        self._offsets = offsets

    @property
    def offsets(self) -> Sequence[int]:
        if self._offsets is None:
            original = self.original
            # Usually every character folds to one character or to none; then the map is the indices of
            # the kept ones, picked in C with a mask of one byte per character (1 kept, 0 dropped, 2 more).
            mask = original.translate(_KEPT).encode("ascii")
            if b"\x02" in mask:
                self._offsets = _offsets_slow(original)
            else:
                self._offsets = tuple(compress(range(len(original)), mask))
        return self._offsets

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text back to the original text."""
        offsets = self.offsets
        if start >= end or not offsets:
            return (0, 0)
        return (offsets[start], offsets[end - 1] + 1)

    def original_slice(self, start: int, end: int) -> str:
        a, b = self.span(start, end)
        return self.original[a:b]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Normalized) and (self.text, self.original) == (other.text, other.original)

    def __hash__(self) -> int:
        return hash((self.text, self.original))

    def __repr__(self) -> str:
        return f"Normalized({self.text!r}, original={self.original!r})"


def _keep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in ("L", "N")


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    """Width, case and traditional -> simplified for one character (may return '' or several)."""
    out = unicodedata.normalize("NFKC", ch).lower()
    if out and not out.isascii():
        conv = _T2S.convert(out)
        if len(conv) == len(out):
            out = conv
    return "".join(c for c in out if _keep(c))


class _FoldTable(dict[int, str]):
    """`str.translate` table that folds each character on first sight (one C-level pass per text)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


class _KeptTable(dict[int, str]):
    """`str.translate` table: how many characters each character folds to (\x00, \x01, or \x02 for more)."""

    def __missing__(self, code: int) -> str:
        value = self[code] = chr(min(2, len(_TABLE[code])))
        return value


_TABLE = _FoldTable()
_KEPT = _KeptTable()


_ANY_VARIANT = re.compile("|".join(map(re.escape, VARIANTS)))


def _offsets_slow(original: str) -> tuple[int, ...]:
    """The offset map when some character folds to several (NFKC: ㍿ -> 株式会社)."""
    table = _TABLE
    out: list[int] = []
    for i, ch in enumerate(original):
        k = len(table[ord(ch)])
        if k == 1:
            out.append(i)
        elif k:
            out.extend([i] * k)
    return tuple(out)


def _apply_variants(text: str) -> str:
    if _ANY_VARIANT.search(text) is None:
        return text
    for src, dst in VARIANTS.items():
        if src in text:
            text = text.replace(src, dst)
    return text


def normalize(text: str) -> Normalized:
    """Normalise `text`, keeping a map from each output character to its source index."""
    return Normalized(_convert(text.translate(_TABLE)), None, text)


def _convert(joined: str) -> str:
    """Phrase-level traditional -> simplified (e.g. 乾淨 -> 干净) where it keeps the length, then variants."""
    if joined and not joined.isascii():
        phrase = _T2S.convert(joined)
        if len(phrase) == len(joined):
            joined = phrase
    return _apply_variants(joined)


def normalize_all(texts: Sequence[str]) -> list[Normalized]:
    """`normalize` for each of a call's segments, offset maps included: the characters of the whole call
    are folded with one table lookup (`fold_table`), then the phrase conversion and the variant spellings
    are done once over all segments joined by a line break (folding drops line breaks, and no phrase or
    variant holds one, so each segment converts as it would alone). A call with a character that folds
    to several, or outside the table, is folded segment by segment."""
    table = fold_table()
    joined = "".join(texts)
    try:
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4")
    except UnicodeEncodeError:  # a lone surrogate
        return _normalize_each(texts)
    if not codes.size:
        return [Normalized("", (), t) for t in texts]
    if int(_max(codes)) >= table.size:  # ufunc methods: .max() and .min() add a Python wrapper
        return _normalize_each(texts)
    folded_codes = table[codes]
    if int(_min(folded_codes)) < 0:
        return _normalize_each(texts)
    kept = folded_codes.nonzero()[0]
    folded_all = folded_codes[kept].tobytes().decode("utf-32-le")
    starts = np.fromiter(accumulate(map(len, texts), initial=0), dtype=np.int64, count=len(texts) + 1)
    cuts = kept.searchsorted(starts).tolist()
    offsets = (kept - starts[starts[1:].searchsorted(kept, side="right")]).tolist()
    folded = [folded_all[a:b] for a, b in pairwise(cuts)]
    folded = _convert_all(folded)
    return [Normalized(f, offsets[a:b], t) for f, t, a, b in zip(folded, texts, cuts, cuts[1:], strict=False)]


def _normalize_each(texts: Sequence[str]) -> list[Normalized]:
    """`normalize_all` with each segment folded on its own (offset maps made when first needed)."""
    folded = _convert_all([t.translate(_TABLE) for t in texts])
    return [Normalized(f, None, t) for f, t in zip(folded, texts, strict=True)]


def _convert_all(folded: list[str]) -> list[str]:
    """The phrase conversion and the variant spellings of each folded segment, done for all at once."""
    joined = "\n".join(folded)
    if not joined.isascii():
        converted = _T2S.convert(joined)
        if converted != joined:  # most calls are written in simplified characters: nothing changes
            phrase = converted.split("\n")
            if len(phrase) != len(folded):  # never seen; the segments one by one then
                return [_convert(f) for f in folded]
            folded = [p if len(p) == len(f) and not f.isascii() else f for p, f in zip(phrase, folded, strict=True)]
            joined = "\n".join(folded)
    if _ANY_VARIANT.search(joined) is not None:
        folded = [_apply_variants(f) for f in folded]
    return folded


@cache
def fold_table() -> npt.NDArray[np.int32]:
    """Code point (the Basic Multilingual Plane) -> the one character it folds to, 0 when it folds to none,
    -1 when it folds to several or is a surrogate.
    Built once per process (about 0.2 s), when the first classifier is made, not on a live call."""
    fold = _fold_char.__wrapped__
    out = np.zeros(0x10000, dtype=np.int64)
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            out[code] = -1
            continue
        folded = fold(chr(code))
        out[code] = ord(folded) if len(folded) == 1 else (-1 if folded else 0)
    table = out.astype("<i4")
    table.setflags(write=False)
    return table


def normalize_text(text: str) -> str:
    """Just the normalised string, for rule keywords and comparisons."""
    return normalize(text).text
