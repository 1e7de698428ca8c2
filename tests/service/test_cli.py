"""The real `assist` command as a subprocess: classify, token issue, serve, pack check."""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from assist.cli import main
from assist.config import DEFAULT_PACK
from assist.scripts.pack import read_pack_dir
from assist.scripts.pack_model import training_digest
from tests.conftest import TRAINER

pytestmark = pytest.mark.slow

ASSIST = [sys.executable, "-m", "assist"]


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ASSIST, *args], input=stdin, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


@pytest.fixture(scope="module")
def trained_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An `XDG_CACHE_HOME` that already holds the default pack's trained model, as `assist classify` leaves it
    after its first run (the suite's trainer trained it once for every test): the classify tests' subject is
    what comes out, and training it again in each subprocess cost half a minute of CPU. Training on first use
    and the cache are `test_classify_trains_once_then_reads_the_cache`'s, on the small pack."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    files = read_pack_dir(DEFAULT_PACK)
    path = cache / "assist" / "models" / f"{training_digest(files)}.msgpack"
    path.parent.mkdir(parents=True)
    path.write_bytes(TRAINER.train_here(files))
    return {"XDG_CACHE_HOME": str(cache)}


def test_classify_reads_calls_and_writes_one_result_per_line(trained_cache: dict[str, str]) -> None:
    calls = [
        {
            "id": "a",
            "context": {"queue": "ebanking"},
            "notes": [],
            "transcript": [
                {"speaker": "customer", "text": "手机银行登录一直提示系统繁忙"},
                {"speaker": "agent", "text": "这是我们系统的问题，我们系统坏了"},
            ],
        },
        {"id": "b", "context": {}, "notes": ["客户查询网点营业时间"], "transcript": []},
    ]
    stdin = (
        "\n".join(json.dumps(c, ensure_ascii=False) for c in calls)
        + "\n{broken\n"
        + json.dumps({"id": "c", "transcript": [{"speaker": "robot", "text": "x"}]})
        + "\n"
    )
    proc = run("classify", stdin=stdin, env=trained_cache)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["a", "b", None, "c"]
    a, b, broken, bad = out
    assert a["category"] == "system_outage" and a["labels"] == ["system_outage"]
    assert a["evidence"] and a["decided_by"] == "rules"
    assert a["warnings"], "the agent's line blames our system"
    for warning in a["warnings"]:
        assert warning["rule"] == "system_blame" and warning["index"] == 1
        s, e = warning["span"]
        assert "系统" in calls[0]["transcript"][1]["text"][s:e]  # type: ignore[index]
        assert "稍后再试" in warning["alternative"]
    assert b == {
        "id": "b",
        "category": "none",
        "labels": ["none"],
        "decided_by": "none",
        "evidence": [],
        "overruled": [],
        "warnings": [],
    }
    assert broken["error"]["code"] == "invalid_call" and broken["line"] == 3
    assert "transcript[0]" in bad["error"]["message"]


def test_classify_says_when_the_model_decided_and_shows_its_words(trained_cache: dict[str, str]) -> None:
    """A complaint about this agent in words no keyword lists: the learned model labels it, with evidence."""
    text = "你这个人说话怎么阴阳怪气的，我打了三次电话，就你最不耐烦，把你工号报一下"
    call = {"id": "m", "context": {}, "notes": [], "transcript": [{"speaker": "customer", "text": text}]}
    proc = run("classify", stdin=json.dumps(call, ensure_ascii=False) + "\n", env=trained_cache)
    assert proc.returncode == 0, proc.stderr
    assert "training" not in proc.stderr, "the model the cache holds is used"
    out = json.loads(proc.stdout)
    assert out["category"] == "complaint.about_agent"
    assert out["decided_by"] == "model" and all(ev["rule"] == "model" for ev in out["evidence"])
    for ev in out["evidence"]:
        s, e = ev["span"]
        assert text[s:e] == ev["words"][0]


def test_classify_trains_once_then_reads_the_cache(small_pack: Path, tmp_path: Path) -> None:
    """The first `assist classify` of a pack trains its model and caches it; the next reads it and says the same."""
    call = {
        "id": "m",
        "context": {},
        "notes": [],
        "transcript": [{"speaker": "customer", "text": "我要投诉你们的年费"}],
    }
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    line = json.dumps(call, ensure_ascii=False) + "\n"
    first = run("classify", "--pack", str(small_pack), stdin=line, env=env)
    assert first.returncode == 0, first.stderr
    assert "training the pack's model" in first.stderr
    assert list((tmp_path / "cache" / "assist" / "models").glob("*.msgpack"))
    again = run("classify", "--pack", str(small_pack), stdin=line, env=env)
    assert "training" not in again.stderr, "the trained model is cached"
    assert json.loads(again.stdout) == json.loads(first.stdout)


def test_token_issue_prints_a_token_and_stores_only_its_hash(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    proc = run("token", "issue", "--user", "a1", "--role", "shift_leader", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert len(token) >= 32
    assert token.encode() not in db.read_bytes()
    assert run("token", "issue", "--user", "a1", "--role", "boss", "--db", str(db)).returncode == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    http_port, ws_port = _free_port(), _free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    errors = (tmp_path / "stderr").open("w+")  # a file: a full stderr pipe would stall the service
    proc = subprocess.Popen(
        [*ASSIST, "serve", "--http-port", str(http_port), "--ws-port", str(ws_port)],
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env=env,
    )
    out = ""
    try:
        # ready once it prints its addresses (importing the pack trains its model first: no deadline to guess)
        assert proc.stdout is not None
        for line in proc.stdout:
            out += line
            if "http://" in line:
                break
        assert proc.poll() is None, (tmp_path / "stderr").read_text()
        body = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=10).read())
        assert body["status"] == "ok" and body["pack_version"] == "v1"
        assert (tmp_path / "xdg" / "assist" / "assist.db").exists(), "default database in the data directory"
    finally:
        proc.send_signal(signal.SIGTERM)
        out += proc.stdout.read() if proc.stdout else ""  # the rest, through the same buffered reader
        proc.wait(60)
        errors.close()
    err = (tmp_path / "stderr").read_text()
    assert proc.returncode == 0, err
    assert f"ws://127.0.0.1:{ws_port}/ws" in out
    # out of the box there is no contact directory: serve says so plainly, with the doc to read
    nobody = next((line for line in out.splitlines() if "contact directory has nobody" in line), out)
    assert "shift_leader" in nobody and "emergency_contact" in nobody and "docs/routing.md" in nobody, nobody


def test_pack_check_reports_file_and_line(tmp_path: Path) -> None:
    for f in DEFAULT_PACK.iterdir():
        if f.is_file():
            (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "pack.yaml").write_text((DEFAULT_PACK / "pack.yaml").read_text().replace("  - none\n", ""))
    proc = run("pack", "check", str(tmp_path))
    assert proc.returncode == 1
    assert "pack.yaml:" in proc.stdout and "none" in proc.stdout
    ok = run("pack", "check", str(DEFAULT_PACK))
    assert ok.returncode == 0 and "valid" in ok.stdout


def run_here(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """`assist ARGS` by its `main` in this process: the same exit status and output, without a process that
    imports the service again (the process itself is the other tests' subject)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["assist", *args], code, out, err)


def test_token_revoke_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "t.db"
    here = functools.partial(run_here, capsys)
    assert here("token", "issue", "--user", "a1", "--role", "agent", "--db", str(db)).returncode == 0
    assert here("token", "issue", "--user", "a2", "--role", "agent", "--db", str(db)).returncode == 0
    revoked = here("token", "revoke", "--user", "a1", "--db", str(db))
    assert revoked.returncode == 0 and "revoked 1 token" in revoked.stdout
    listed = here("token", "list", "--db", str(db)).stdout.splitlines()
    assert [line.split()[1:] for line in listed] == [["a1", "agent", "revoked"], ["a2", "agent", "active"]]
    # by id: exactly the id `token list` shows; an unknown, empty or wildcard id revokes nothing and fails
    for bad in ("", "%", "0" * 12, listed[1].split()[0][:6]):
        refused = here("token", "revoke", "--id", bad, "--db", str(db))
        assert refused.returncode == 1 and "nothing revoked" in refused.stderr, (bad, refused)
    assert here("token", "list", "--db", str(db)).stdout.splitlines()[1].split()[3] == "active"
    by_id = here("token", "revoke", "--id", listed[1].split()[0], "--db", str(db))
    assert by_id.returncode == 0 and "revoked 1 token" in by_id.stdout
    assert here("token", "revoke", "--user", "a1", "--db", str(db)).returncode == 1, "a1 has no active token left"


def test_a_missing_or_malformed_settings_file_is_a_one_line_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("x = [\n")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("bogus = 1\n")
    for args in (
        ("serve", "--config", str(tmp_path / "missing.toml")),
        ("token", "list", "--config", str(bad)),
        ("purge", "--config", str(unknown)),
    ):
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("assist: settings: ") and "Traceback" not in proc.stderr, (args, proc.stderr)
