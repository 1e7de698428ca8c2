"""The wheel `pip wheel .` builds, installed in a fresh virtualenv, serves the plugin, the consoles and the demo.

This is how deploy/assist.service installs the service. The build is offline (`--no-build-isolation`, with the
setuptools of the dev extras) from a copy of the source tree, so nothing left in the checkout (a stale `build/`,
an editable install) can make the wheel look whole. The fresh virtualenv gets only the wheel; its dependencies
come from the test's own environment through a `.pth` file, which adds their directory to `sys.path` without
running the editable install's import hook — so `assist` itself can only come from the wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import site
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugin"
CONSOLES = ROOT / "assist" / "consoles"
STEP_TIMEOUT = 120
"""Seconds any one step (build, install, start, stop) may take before the test fails instead of hanging."""


def run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    """This environment without anything that points Python or the service elsewhere."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ASSIST_", "PYTHON", "PIP_REQUIRE_VIRTUALENV")) and k != "VIRTUAL_ENV"
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the built wheel installed; returns its bin/ directory."""
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist, venv = tmp / "src", tmp / "dist", tmp / "venv"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "*.db*"
        ),
    )
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist, src)
    wheels = list(dist.glob("assist-*.whl"))
    assert len(wheels) == 1, wheels
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        venv / "bin" / "python",
        "install",
        "--no-deps",
        "--no-index",
        "-q",
        wheels[0],
    )
    purelib = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    (Path(purelib) / "assist-test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", "utf-8")
    where = run(venv / "bin" / "python", "-c", "import assist; print(assist.__file__)", cwd=tmp).strip()
    assert Path(where).is_relative_to(venv), f"assist imported from {where}, not from the wheel"
    return venv / "bin"


@pytest.fixture
def serving(installed: Path, tmp_path: Path) -> Iterator[str]:
    """`assist serve` from the installed wheel on ephemeral ports; yields the HTTP base URL."""
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [
                str(installed / "assist"),
                "serve",
                "--host",
                "127.0.0.1",
                "--ws-port",
                "0",
                "--http-port",
                "0",
                "--db",
                str(tmp_path / "assist.db"),
            ],
            cwd=tmp_path,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + STEP_TIMEOUT
        base = None
        while base is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"http\s+(http://127\.0\.0\.1:\d+)/", line)
            base = m.group(1) if m else None
        assert base, f"no HTTP address printed; log: {log.read_text()[-2000:]}"
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, log.read_text()[-2000:]


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=STEP_TIMEOUT) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


def test_wheel_in_a_fresh_virtualenv_serves_the_plugin_the_consoles_and_the_demo(serving: str) -> None:
    plugin_files = sorted(p for p in PLUGIN.rglob("*") if p.is_file())
    assert any(p.name == "assist-sidebar.js" for p in plugin_files)
    for path in plugin_files:
        rel = path.relative_to(PLUGIN).as_posix()
        status, kind, body = get(f"{serving}/plugin/{rel}")
        assert status == 200, rel
        if rel == "frame.html":  # the allowed origins are written into the page
            assert kind.startswith("text/html") and b"assist-allowed-origins" in body
        else:
            assert body == path.read_bytes(), f"/plugin/{rel} differs from plugin/{rel}"
    status, kind, body = get(f"{serving}/plugin/assist-sidebar.js")
    assert kind.startswith("text/javascript")

    status, kind, body = get(f"{serving}/demo")
    assert status == 200 and kind.startswith("text/html") and body == (PLUGIN / "demo.html").read_bytes()

    for console in ("leader", "trainer"):
        status, kind, body = get(f"{serving}/console/{console}")
        assert status == 200 and kind.startswith("text/html")
        assert body == (CONSOLES / console / "index.html").read_bytes()
    for folder in ("leader", "trainer", "shared"):  # shared: the modules both consoles import
        files = sorted((CONSOLES / folder).glob("*.js")) + sorted((CONSOLES / folder).glob("*.css"))
        assert files, folder
        for path in files:
            status, _, body = get(f"{serving}/console/{folder}/{path.name}")
            assert status == 200 and body == path.read_bytes(), f"/console/{folder}/{path.name}"

    status, _, body = get(f"{serving}/healthz")
    assert status == 200 and b'"status": "ok"' in body
