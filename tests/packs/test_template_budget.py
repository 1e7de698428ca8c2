"""Talking-point templates cannot cost much: value-growing operations are checked before they run, and the
filters and globals that could stall a live call are not offered (issue 14 item 2)."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from assist.config import DEFAULT_PACK
from assist.problems import PackError
from assist.scripts.pack import load_pack, read_pack_dir
from assist.scripts.render import MAX_OUTPUT, compile_template

BOMBS = [
    "{{ (('a'*10**9)|replace('a','aa'))|length }}",
    "{{ 'x' * 100000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ ('ab' * 1000)|replace('a', 'xxxxxxxxxx') }}",
    "{{ 'a' * 3000 ~ 'b' * 3000 }}",
    "{{ [1] * 100000 }}",
]


@pytest.mark.parametrize("source", BOMBS)
def test_a_value_growing_past_the_budget_is_refused_before_it_is_made(source: str) -> None:
    with pytest.raises(SecurityError):
        compile_template(source).render_strict({})
    assert compile_template(source).render({}) == "", "mid-call, a refused template renders empty"


@pytest.mark.parametrize("source", ["{{ lipsum(n=20000) }}", "{{ range(10) }}", "{{ cycler(1) }}"])
def test_the_globals_a_sentence_does_not_need_are_not_there(source: str) -> None:
    with pytest.raises(Exception, match="undefined"):
        compile_template(source).render_strict({})


@pytest.mark.parametrize("name", ["center", "indent", "wordwrap", "format", "batch", "random", "list"])
def test_filters_that_can_pad_or_loop_are_not_offered(name: str) -> None:
    with pytest.raises(ValueError, match="filter"):
        compile_template("{{ customer_name|" + name + "(100000) }}")


def test_the_talking_points_a_center_writes_still_render() -> None:
    ctx = {"customer_name": "张先生", "caller_number": "13800001234"}
    assert compile_template("{{ customer_name or '您' }}").render(ctx) == "张先生"
    assert compile_template("{{ caller_number and ('尾号' ~ caller_number[-4:] ~ '的') }}").render(ctx) == "尾号1234的"
    assert compile_template("{{ customer_name|replace('先生', '女士')|upper }}").render(ctx) == "张女士"
    assert len(compile_template("{{ 'a' * " + str(MAX_OUTPUT) + " }}").render({})) == MAX_OUTPUT


def test_a_pack_with_a_template_bomb_is_refused_with_file_and_line() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    marker = "{{ customer_name or '您' }}"
    assert marker in files["scripts.yaml"]
    files["scripts.yaml"] = files["scripts.yaml"].replace(marker, "{{ 'x' * 10**8 }}", 1)
    with pytest.raises(PackError) as info:
        load_pack(files)
    problem = next(p for p in info.value.problems if "template" in p.message)
    assert problem.file == "scripts.yaml" and problem.line is not None
