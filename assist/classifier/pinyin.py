"""Sound-alike keys for Chinese characters, so homophone typos meet their keyword.

People type with pinyin input methods and speech-to-text mishears, so the wrong
character usually sounds like the right one: 头诉/投诉, 直博/直播, 系桶/系统, 闪推/闪退.
Each character maps to one code character standing for its (first, toneless) reading,
folded for common accents (zh/ch/sh -> z/c/s, -ing/-eng -> -in/-en). A keyword and a
piece of text then match by sound when their code strings are equal, which one
Aho-Corasick pass finds. Per-character lookup (no phrase model) keeps it cheap:
pypinyin's phrase-aware conversion costs ~5 µs a character, this costs ~0.1 µs.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin.constants import PINYIN_DICT

NOT_CJK = "\x00"
"""Code for any character without a Chinese reading; never part of a pattern."""

_TONES = str.maketrans(
    "āáǎàōóǒòēéěèīíǐìūúǔùǖǘǚǜüńňǹḿ",
    "aaaaooooeeeeiiiiuuuuvvvvvnnnm",
)
_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FINALS = (("ing", "in"), ("eng", "en"))
_CODE_BASE = 0xE000  # Unicode private use area: one code point per folded syllable
_syllables: dict[str, str] = {}


def fold_syllable(syllable: str) -> str:
    """A toneless syllable with accent-prone distinctions merged."""
    s = syllable.translate(_TONES)
    for long, short in _INITIALS:
        if s.startswith(long):
            s = short + s[len(long) :]
            break
    for long, short in _FINALS:
        if s.endswith(long):
            s = s[: -len(long)] + short
            break
    return s


def _code_for(syllable: str) -> str:
    code = _syllables.get(syllable)
    if code is None:
        code = chr(_CODE_BASE + len(_syllables))
        _syllables[syllable] = code
    return code


@lru_cache(maxsize=32768)
def char_code(ch: str) -> str:
    """The sound code of one character, or NOT_CJK."""
    readings = PINYIN_DICT.get(ord(ch))
    if not readings:
        return NOT_CJK
    first = str(readings).split(",", 1)[0]
    return _code_for(fold_syllable(first))


class _CodeTable(dict[int, str]):
    """`str.translate` table filled on first sight of each character: one C-level pass per text."""

    def __missing__(self, code: int) -> str:
        value = self[code] = char_code(chr(code))
        return value


_CODES = _CodeTable()


def sound_key(text: str) -> str:
    """The sound code string of `text`, one code character per input character."""
    return text.translate(_CODES)


def is_cjk_word(text: str) -> bool:
    """True when every character has a Chinese reading (so the word can match by sound)."""
    return bool(text) and all(char_code(ch) != NOT_CJK for ch in text)
