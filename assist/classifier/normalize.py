"""Normalise text so that rules and calls meet on the same form.

Applied to rule keywords and call text alike: full/half width (NFKC), case,
traditional -> simplified (OpenCC), common variant spellings (帐/账, 登陆/登录), and
spaces and punctuation removed. Every normalised character remembers the index of
the original character it came from, so a match can be reported as a span of what
the person actually typed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")

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


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text plus, for each of its characters, the index in the original."""

    text: str
    offsets: tuple[int, ...]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text back to the original text."""
        if start >= end or not self.offsets:
            return (0, 0)
        return (self.offsets[start], self.offsets[end - 1] + 1)

    def original_slice(self, start: int, end: int) -> str:
        a, b = self.span(start, end)
        return self.original[a:b]


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


def _apply_variants(text: str) -> str:
    if not any(k[0] in text for k in VARIANTS):
        return text
    for src, dst in VARIANTS.items():
        if src in text:
            text = text.replace(src, dst)
    return text


def normalize(text: str) -> Normalized:
    """Normalise `text`, keeping a map from each output character to its source index."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        for c in folded:
            chars.append(c)
            offsets.append(i)
    joined = "".join(chars)
    # Phrase-level traditional -> simplified (e.g. 乾淨 -> 干净) where it keeps the length.
    if joined and not joined.isascii():
        phrase = _T2S.convert(joined)
        if len(phrase) == len(joined):
            joined = phrase
    joined = _apply_variants(joined)
    return Normalized(joined, tuple(offsets), text)


def normalize_text(text: str) -> str:
    """Just the normalised string, for rule keywords and comparisons."""
    return normalize(text).text
