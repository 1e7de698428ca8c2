"""Sound keys: homophones meet, and a character's code does not depend on the process's history."""

from __future__ import annotations

import subprocess
import sys

from assist.classifier.pinyin import NOT_CJK, is_cjk_word, sound_key


def test_homophone_typos_share_the_keywords_sound_key() -> None:
    assert sound_key("头诉") == sound_key("投诉")
    assert sound_key("系桶") == sound_key("系统")
    assert sound_key("直博") != sound_key("投诉")


def test_text_without_a_chinese_reading_has_no_sound() -> None:
    assert sound_key("ab1") == NOT_CJK * 3
    assert not is_cjk_word("APP")
    assert is_cjk_word("网银")


def _keys_after_seeing(first: str) -> str:
    """The sound key of a fixed text in a fresh process that met `first` before it."""
    code = (
        "from assist.classifier.pinyin import sound_key;"
        f"sound_key({first!r});"
        "print(sound_key('投诉系统闪退').encode('unicode_escape').decode())"
    )
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout


def test_codes_are_the_same_in_every_process_whatever_was_seen_first() -> None:
    # Rules compiled in a worker process are matched in the service's: their codes must agree.
    assert _keys_after_seeing("闪退") == _keys_after_seeing("中华人民共和国") == _keys_after_seeing("")
