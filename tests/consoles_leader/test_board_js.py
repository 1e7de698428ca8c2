"""The console's pure JavaScript (board order, deadlines, countdown, chart) under `node --test`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[2] / "assist" / "consoles" / "leader"


def test_board_and_chart_logic(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    for name in ("board", "chart", "zone"):
        shutil.copy(CONSOLE / f"{name}.js", tmp_path / f"{name}.mjs")
    shutil.copy(Path(__file__).with_name("board_test.mjs"), tmp_path / "board_test.mjs")
    run = subprocess.run(
        [node, "--test", str(tmp_path / "board_test.mjs")], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
