"""The trainer console's agreement chart model under `node --test`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[2] / "assist" / "consoles" / "trainer"


def test_agreement_chart_model(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    shutil.copy(CONSOLE / "agreement.js", tmp_path / "agreement.mjs")
    shutil.copy(Path(__file__).with_name("agreement_test.mjs"), tmp_path / "agreement_test.mjs")
    run = subprocess.run(
        [node, "--test", str(tmp_path / "agreement_test.mjs")], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
