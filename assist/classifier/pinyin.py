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

import os
import zlib
from functools import cache, lru_cache
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

# Only the one-character readings are read here. pypinyin loads its phrase dictionary at import unless told
# not to (its documented switches): 0.1 s of CPU and tens of MB per process, on every `assist serve` start
# and every worker. Set before pypinyin is first imported; an explicit setting in the environment wins.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
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
_SPARE_BASE = 0xF0000  # supplementary private use area, for a syllable a newer pypinyin adds
_SPARE_SPAN = 0xFFFE

_KNOWN_SYLLABLES = (
    "a ai an ang ao ba bai ban bang bao bei ben bi bian biang biao bie bin bo bong bu ca cai can cang cao "
    "ce cei cen ci cong cou cu cua cuai cuan cuang cui cun cuo da dai dan dang dao de den di dian diao "
    "die din diu dong dou du duan dui dun duo e ei en er fa fan fang fei fen fiao fo fou fu ga gai gan "
    "gang gao ge gei gen gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen hm "
    "hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jiong jiu ju juan jue jun "
    "ka kai kan kang kao ke ken kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei "
    "len li lia lian liang liao lie lin liu lo long lou lu luan lun luo lv lve m ma mai man mang mao me "
    "mei men mi mian miao mie min miu mo mou mu n na nai nan nang nao ne nei nen ni nian niang niao nie "
    "nin niu nong nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen pi pian piao pie pin po pou "
    "pu qi qia qian qiang qiao qie qin qiong qiu qu quan que qun ran rang rao re ren ri rong rou ru rua "
    "ruan rui run ruo sa sai san sang sao se sen si song sou su sua suai suan suang sui sun suo ta tai "
    "tan tang tao te ten ti tian tiao tie tin tong tou tu tuan tui tun tuo wa wai wan wang wei wen wo "
    "wong wu xi xia xian xiang xiao xie xin xiong xiu xu xuan xue xun ya yan yang yao ye yi yin yo yong "
    "you yu yuan yue yun za zai zan zang zao ze zei zen zi zong zou zu zua zuai zuan zuang zui zun zuo"
)
"""Every folded first reading of pypinyin's dictionary, sorted: a syllable's code is its place here,
so codes are the same in every process (the live loop, the edit and training workers) whatever
order the characters are first met in."""

_SYLLABLE_CODES = MappingProxyType(
    {syllable: chr(_CODE_BASE + i) for i, syllable in enumerate(_KNOWN_SYLLABLES.split())}
)


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
    code = _SYLLABLE_CODES.get(syllable)
    if code is None:  # not in the table: a stable code from the syllable itself
        code = chr(_SPARE_BASE + zlib.crc32(syllable.encode()) % _SPARE_SPAN)
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


@cache
def sound_table() -> npt.NDArray[np.uint32]:
    """Code point (the Basic Multilingual Plane) -> the code point of its sound code, for a whole call's
    sound key in one array lookup (`sound_key_of`). Built once per process (about 0.1 s), when the first
    matcher is made."""
    code = char_code.__wrapped__
    table = np.array([ord(code(chr(c))) for c in range(0x10000)], dtype="<u4")
    table.setflags(write=False)
    return table


def sound_key_of(text: str, codes: npt.NDArray[np.uint32]) -> str:
    """`sound_key(text)`, given the code points of `text` (little-endian, as `str.encode("utf-32-le")`)."""
    table = sound_table()
    if codes.size and int(np.maximum.reduce(codes)) >= table.size:
        return sound_key(text)
    return table[codes].tobytes().decode("utf-32-le")


def is_cjk_word(text: str) -> bool:
    """True when every character has a Chinese reading (so the word can match by sound)."""
    return bool(text) and all(char_code(ch) != NOT_CJK for ch in text)
