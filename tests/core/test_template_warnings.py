"""`pack check` warns on a talking point that reads a value the call context never provides."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.config import DEFAULT_PACK
from assist.scripts.category_scripts import template_warnings
from assist.scripts.pack import load_pack, read_pack_dir
from assist.scripts.render import unknown_variables

GOOD = "{{ customer_name or '您' }}好，尾号{{ caller_number[-4:] }}"
TYPO = "{{ customer_nmae or '您' }}好，非常抱歉给您带来不便。"


def test_a_misspelt_variable_is_named_and_known_ones_are_not() -> None:
    assert unknown_variables(GOOD) == []
    assert unknown_variables(TYPO) == ["customer_nmae"]
    assert unknown_variables("{% set n = customer_name %}{{ n }}") == []  # its own names
    assert unknown_variables("{{ range(1) }}") == ["range"], "no globals are offered to talking points"


def test_the_default_pack_has_no_warning() -> None:
    assert template_warnings(read_pack_dir(DEFAULT_PACK)["scripts.yaml"]) == []


@pytest.fixture
def typo_pack(tmp_path: Path) -> Path:
    files = read_pack_dir(DEFAULT_PACK)
    greeting = "{{ customer_name or '您' }}好，非常抱歉"
    files["scripts.yaml"] = files["scripts.yaml"].replace(greeting, greeting.replace("name", "nmae"), 1)
    assert "customer_nmae" in files["scripts.yaml"]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_warning_has_file_line_and_field_and_the_pack_stays_valid(typo_pack: Path) -> None:
    files = read_pack_dir(typo_pack)
    load_pack(files)  # a warning, not a problem: the pack still loads
    [warning] = template_warnings(files["scripts.yaml"])
    line = next(n for n, text in enumerate(files["scripts.yaml"].splitlines(), 1) if "customer_nmae" in text)
    assert (warning.file, warning.line) == ("scripts.yaml", line)
    assert warning.dotted == "categories.system_outage.talking_points[0].zh-CN"
    assert "customer_nmae" in warning.message


def test_pack_check_prints_the_warning_and_exits_0(typo_pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assist.cli import main

    assert main(["pack", "check", str(typo_pack)]) == 0
    out = capsys.readouterr().out
    assert "warning: scripts.yaml:" in out and "customer_nmae" in out and "1 warning(s)" in out
