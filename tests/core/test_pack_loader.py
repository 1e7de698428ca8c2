"""Loading a script pack: the default is valid; every problem names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.config import DEFAULT_PACK
from assist.problems import PackError
from assist.scripts.pack import load_pack, load_pack_dir, read_pack_dir


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return read_pack_dir(DEFAULT_PACK)


def test_default_pack_is_valid() -> None:
    pack = load_pack_dir(DEFAULT_PACK)
    assert pack.priority[-1] == "none"
    assert set(pack.scripts) == set(pack.priority)
    assert pack.languages[0] == "zh-CN"


def test_prescribed_wording_is_verbatim_in_the_default_pack() -> None:
    pack = load_pack_dir(DEFAULT_PACK)

    def texts(category: str) -> list[str]:
        return [tp.render("zh-CN", {}, "zh-CN") for tp in pack.scripts[category].talking_points]

    assert "会有我行相关人员与您联系解决。" in texts("complaint.general")
    assert "我先记录您的联系电话向相关部门汇报，安排采访时间后再给您回复。" in texts("media.interview")
    assert any("柜台" in t and "自助终端" in t for t in texts("system_outage"))


def _problems(files: dict[str, str]) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack(files)
    return [str(p) for p in info.value.problems]


def test_missing_file(files: dict[str, str]) -> None:
    broken = {k: v for k, v in files.items() if k != "scripts.yaml"}
    assert _problems(broken) == ["scripts.yaml required file is missing"]


def test_yaml_syntax_error_has_a_line(files: dict[str, str]) -> None:
    broken = dict(files, **{"scripts.yaml": "categories:\n  none: [\n"})
    (msg,) = _problems(broken)
    assert msg.startswith("scripts.yaml:") and "YAML syntax error" in msg


def test_unknown_route_role_names_file_line_and_field(files: dict[str, str]) -> None:
    text = files["scripts.yaml"].replace("route: [seat_admin, shift_leader]", "route: [seat_admin, boss]")
    (msg,) = _problems(dict(files, **{"scripts.yaml": text}))
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "route: [seat_admin, boss]" in ln)
    assert msg.startswith(f"scripts.yaml:{line} categories.system_outage.route[1]:")
    assert "boss" in msg


def test_broken_template_is_reported(files: dict[str, str]) -> None:
    text = files["scripts.yaml"].replace("{{ customer_name or '您' }}好", "{{ customer_name or }}好", 1)
    (msg,) = _problems(dict(files, **{"scripts.yaml": text}))
    assert "talking_points[0].zh-CN" in msg and "template" in msg


def test_several_problems_in_several_files_are_all_reported(files: dict[str, str]) -> None:
    pack_yaml = files["pack.yaml"].replace("  - none\n", "")
    scripts = files["scripts.yaml"].replace("kind: phone", "kind: telephone", 1)
    msgs = _problems(dict(files, **{"pack.yaml": pack_yaml, "scripts.yaml": scripts}))
    assert any(m.startswith("pack.yaml:") and "'none'" in m for m in msgs)
    assert any(m.startswith("scripts.yaml:") and "telephone" in m for m in msgs)


def test_templates_cannot_reach_python_internals(files: dict[str, str]) -> None:
    text = files["scripts.yaml"].replace("{{ customer_name or '您' }}好", "{{ customer_name.__class__.__mro__ }}好", 1)
    with pytest.raises(PackError) as info:
        load_pack(dict(files, **{"scripts.yaml": text}))
    assert "unsafe" in str(info.value) or "template" in str(info.value)


def test_pack_check_cli_prints_problems(tmp_path: Path, files: dict[str, str]) -> None:
    from assist.cli import main

    for name, text in files.items():
        (tmp_path / name).write_text(text.replace("kind: phone", "kind: fax", 1) if name == "scripts.yaml" else text)
    assert main(["pack", "check", str(tmp_path)]) == 1
    assert main(["pack", "check", str(DEFAULT_PACK)]) == 0


def test_unquoted_commas_in_a_flow_mapping_are_caught(files: dict[str, str]) -> None:
    text = files["scripts.yaml"].replace(
        'en: "Why urgent (regulator, media, court, large loss…)"',
        "en: Why urgent (regulator, media, court, large loss…)",
    )
    msgs = _problems(dict(files, **{"scripts.yaml": text}))
    assert msgs and all("unknown language" in m and "label" in m for m in msgs)


def test_templates_may_not_loop(files: dict[str, str]) -> None:
    nested = "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}"
    text = files["scripts.yaml"].replace("{{ customer_name or '您' }}好", nested, 1)
    with pytest.raises(PackError) as info:
        load_pack(dict(files, **{"scripts.yaml": text}))
    assert "not loops" in str(info.value)
