"""Two first starts on one new SQLite database (`assist serve` and an install script's `assist token issue`)
must end up with one data key: the second process uses the key file the first made."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.server.ops import crypto


def test_a_key_file_made_by_another_process_meanwhile_is_used_not_overwritten_or_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "assist.db"
    theirs = crypto.new_key()
    checked = crypto.sealed_with

    def other_process_writes_first(path: Path) -> str | None:
        # the other process wins the race between our "no key file yet" and our write
        crypto.write_key_file(crypto.key_file_for(db), theirs)
        return checked(path)

    monkeypatch.setattr(crypto, "sealed_with", other_process_writes_first)
    cipher = crypto.load_cipher(db)
    assert cipher.open(cipher.seal("13800138000")) == "13800138000"
    assert crypto.key_id(crypto.read_key_file(crypto.key_file_for(db))) == crypto.key_id(theirs)
    assert crypto.Cipher(theirs, "theirs").open(cipher.seal("x")) == "x"  # sealed with their key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assist.db.key"]  # no temporary file left


def test_a_new_key_file_is_0600_and_whole(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "assist.db.key"
    key = crypto.new_key()
    crypto.write_key_file(path, key)
    assert path.stat().st_mode & 0o777 == 0o600
    assert crypto.read_key_file(path) == key
    with pytest.raises(FileExistsError):
        crypto.write_key_file(path, crypto.new_key())
    assert crypto.read_key_file(path) == key
    assert sorted(p.name for p in path.parent.iterdir()) == ["assist.db.key"]
