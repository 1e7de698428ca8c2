"""A pack file's data read without its round-trip document is the same data, and a bad file's error is the
round-trip parser's (the line a trainer is shown does not change with the fast path)."""

from __future__ import annotations

import pytest
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from assist.config import DEFAULT_PACK
from assist.scripts.file_cache import FileCache, load_data, parse
from assist.scripts.pack import read_pack_dir

TEXTS = [
    "a: 1\nb: [x, y]\n",
    "a: &x {b: 1}\nc: *x\n",
    "<<: {a: 1}\nb: 2\n",  # merged keys: the round-trip parser puts them last
    "a: 2026-12-07\nb: yes\nc: on\nd: 0o17\ne: 017\nf: 1_000\ng: .inf\nh: ~\ni: 0x1F\nj: 1e3\n",
    "a: |\n  第一行\n  第二行\nb: >\n  折叠\n  一行\n",
    "a: \"\\u4e2d\"\nb: '单引号'\n",
    "? [1, 2]\n: 3\n",
    "",
    "# 只有注释\n",
    "a: !foo x\n",  # a tag the safe loader refuses: read round-trip
]
BAD = ["a: 1\na: 2\n", "a:\n\t- 1\n", "- [1, 2\n", "a: b: c\n"]


@pytest.mark.parametrize(
    "text", TEXTS + [t for name, t in read_pack_dir(DEFAULT_PACK).items() if name.endswith(".yaml")]
)
def test_data_is_the_round_trip_data_in_the_same_order(text: str) -> None:
    expected = parse(text).data
    got = FileCache().data(text)
    assert repr(got) == repr(expected)  # repr: key order and types too, not only equality


@pytest.mark.parametrize("text", BAD)
def test_a_bad_file_raises_the_round_trip_error_with_its_line(text: str) -> None:
    expected = parse(text).error
    assert isinstance(expected, MarkedYAMLError)
    with pytest.raises(YAMLError) as caught:
        FileCache().data(text)
    assert type(caught.value) is type(expected)
    assert str(caught.value) == str(expected)


def test_a_round_trip_parse_at_hand_is_used_and_a_load_is_remembered() -> None:
    cache = FileCache()
    text = "a: [1, 2]\n"
    parsed = cache.yaml(text)
    assert cache.data(text) is parsed.data  # no second parse
    other = "b: 2\n"
    first = cache.data(other)
    assert cache.data(other) is first
    assert (cache.hits, cache.misses) == (2, 2)


def test_load_data_refuses_what_the_safe_loader_cannot_build() -> None:
    with pytest.raises(YAMLError):
        load_data("a: !foo x\n")
