"""Settings: defaults, file, environment, flags — and the docs list every one."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.config import SETTING_NAMES, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_bind_loopback() -> None:
    s = load_settings(environ={})
    assert s.host == "127.0.0.1"
    assert (s.ws_port, s.http_port, s.max_message_bytes) == (8765, 8080, 65536)


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "a.toml"
    cfg.write_text('ws_port = 9000\nhttp_port = 9001\nallowed_origins = ["https://a.example"]\n')
    s = load_settings(cfg, {"http_port": 9100}, environ={"ASSIST_WS_PORT": "9050", "ASSIST_DB": "~/x.db"})
    assert s.ws_port == 9050
    assert s.http_port == 9100
    assert s.allowed_origins == ("https://a.example",)
    assert s.db == Path("~/x.db").expanduser()


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "a.toml"
    cfg.write_text("ws_prot = 1\n")
    with pytest.raises(ValueError, match="ws_prot"):
        load_settings(cfg, environ={})


def test_bad_value_names_the_setting() -> None:
    with pytest.raises(ValueError, match="ws_port"):
        Settings().with_overrides({"ws_port": "eighty"})


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text()
    missing = [n for n in SETTING_NAMES if f"`{n}`" not in doc or f"ASSIST_{n.upper()}" not in doc]
    assert missing == []
