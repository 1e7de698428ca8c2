"""Find phone-number-like digit runs in what people actually type or say.

Agents read numbers out in many shapes: ``0571-8709 1234``, ``(021)68880101``, full-width
``０５７１``, or spoken Chinese digits ``一三八零五七一…`` from the speech recogniser. The
normaliser drops separators, which would glue neighbouring numbers together
(``95588，3号键``), so numbers are found here on the original text with their own,
stricter rules about what may separate two digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARABIC_DIGITS = "0123456789０１２３４５６７８９"
_CHINESE_DIGITS = {
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}

_DIGIT_VALUE: dict[str, str] = {ch: str(i % 10) for i, ch in enumerate(_ARABIC_DIGITS)}
_DIGIT_VALUE.update(_CHINESE_DIGITS)

_AR = "[0-9０-９]"
_CN = "[" + "".join(_CHINESE_DIGITS) + "]"
# Arabic digits may be separated by spaces, dashes, dots, brackets or slashes (at most 3 in a
# row); never by commas, which separate amounts and list items. Spoken Chinese digits are
# often chunked with commas by the recogniser, so there a comma or 、 is allowed too.
_RUN = re.compile(
    rf"{_AR}(?:[\s\-‐‑–—－.．·()（）/]{{0,3}}{_AR})*"
    rf"|{_CN}(?:[\s,，、\-–—－.．·]{{0,2}}{_CN})+"
)
_MIN_CHINESE_DIGITS = 3
"""Fewer spoken digits than this are ordinary words (一下, 三四个), not numbers."""


@dataclass(frozen=True, slots=True)
class DigitRun:
    """A number as it appears in the text: its digits (ASCII) and its span in the original."""

    digits: str
    start: int
    end: int


def digits_of(text: str) -> str:
    """The ASCII digits of `text`, any width or spoken form; everything else dropped."""
    return "".join(_DIGIT_VALUE[ch] for ch in text if ch in _DIGIT_VALUE)


def digit_runs(text: str) -> list[DigitRun]:
    """Every number-like run of digits in `text`, left to right."""
    out: list[DigitRun] = []
    for m in _RUN.finditer(text):
        raw = m.group()
        digits = digits_of(raw)
        if raw[0] in _CHINESE_DIGITS and len(digits) < _MIN_CHINESE_DIGITS:
            continue
        out.append(DigitRun(digits, m.start(), m.end()))
    return out


def same_number(run: str, listed: str, *, min_partial: int = 7) -> bool:
    """Whether digits `run` said by the agent are the listed number `listed`.

    Equal, or one ends with the other when the shorter is still a full local number
    (at least `min_partial` digits): agents drop or add the area code (0571-) or country
    code (+86). A short extension only matches exactly, so 6688 does not match inside
    a mobile number.
    """
    if run == listed:
        return True
    shorter, longer = (run, listed) if len(run) < len(listed) else (listed, run)
    return len(shorter) >= min_partial and longer.endswith(shorter)
