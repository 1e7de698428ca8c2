"""Field-level encryption of customer text at rest: AES-256-GCM (the `cryptography` library) with one data key.

Row writers never see the key: they wrap a customer value in `Sealed`, and the store, which holds the
`Cipher` it was opened with, encrypts it into a text token (`enc1:` + base64url of nonce, ciphertext and
tag) just before the statement runs. Reads decrypt in the connection's row factory, so every reader gets
plain values without knowing about the key. A value that does not start with `enc1:`, or does not
authenticate under the key, is returned as stored: an id a client chose that happens to look like a token
stays what it is, and rows written before encryption was introduced still read (`assist rekey` seals them).
A wrong key never gets that far: the store checks it against a probe sealed in the database at start.

The key comes from `ASSIST_DATA_KEY` (base64 of 32 bytes), else from a key file beside the database
(`<db>.key`, mode 0600), generated on the first start of a new database so that `assist serve` works
with no configuration. On PostgreSQL there is no file to keep it beside: the key must be configured
(`ASSIST_DATA_KEY`, or an existing `data_key_file`), and a service without one does not start.
docs/operations.md ("Customer data at rest") says which to choose and how to keep it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from assist.config import describe_db, is_postgres

log = logging.getLogger(__name__)

PREFIX = "enc1:"
"""Marks a sealed value; the 1 is the token format (AES-256-GCM, 12-byte random nonce, no associated data)."""
KEY_BYTES = 32
NONCE_BYTES = 12
PROBE = "assist data key probe"
"""What the store seals once per database to recognise its key at start."""


class DataKeyError(Exception):
    """The data key is missing, malformed or not the one the database was sealed with; the message says what
    to do. Raised at start (or by `assist rekey`), never in the middle of a call."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """A customer value a row writer hands the store to be encrypted before it is written (None stays NULL)."""

    text: str | None


class Cipher:
    """Seals and opens customer values with one AES-256-GCM key. `source` says where the key came from (for
    error messages; never the key itself)."""

    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != KEY_BYTES:
            raise DataKeyError(
                f"the data key from {source} has {len(key)} bytes; it must have {KEY_BYTES} "
                "(base64 of 32 random bytes, e.g. from `openssl rand -base64 32`)"
            )
        self._aead = AESGCM(key)
        self.source = source
        self.key_id = key_id(key)

    def __repr__(self) -> str:
        return f"Cipher(key_id={self.key_id!r}, source={self.source!r})"

    def seal(self, text: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode(), None)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")

    def open(self, value: str) -> str:
        """The plain text of a sealed value; raises `DataKeyError` if it was not sealed with this key."""
        raw = value[len(PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None).decode()
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise DataKeyError(f"a value does not open with data key {self.key_id} ({self.source})") from exc

    def opened(self, value: Any) -> Any:
        """`value` decrypted if it is a value this key sealed, else as it is."""
        if type(value) is str and value.startswith(PREFIX):
            with contextlib.suppress(DataKeyError):
                return self.open(value)
        return value

    def seal_params(self, params: tuple[Any, ...]) -> tuple[Any, ...]:
        """A statement's parameters with every `Sealed` value encrypted (the rest as they are)."""
        return tuple((None if p.text is None else self.seal(p.text)) if type(p) is Sealed else p for p in params)

    def row_factory(self) -> Callable[[sqlite3.Cursor, tuple[Any, ...]], sqlite3.Row]:
        """A connection's row factory: `sqlite3.Row`s whose sealed values are already decrypted."""
        opened = self.opened

        def row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> sqlite3.Row:
            return sqlite3.Row(cursor, tuple([opened(v) for v in values]))

        return row


def key_id(key: bytes) -> str:
    """A short fingerprint that names a key in messages and in the database (it reveals nothing of the key)."""
    return hashlib.sha256(b"assist data key id\0" + key).hexdigest()[:12]


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(text: str, source: str) -> bytes:
    """A key from its base64 text (standard or URL-safe alphabet, padding optional)."""
    cleaned = text.strip()
    try:
        key = base64.b64decode(cleaned.replace("-", "+").replace("_", "/") + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise DataKeyError(
            f"the data key from {source} is not base64 (make one with `openssl rand -base64 32`)"
        ) from None
    if len(key) != KEY_BYTES:
        raise DataKeyError(
            f"the data key from {source} has {len(key)} bytes; it must have {KEY_BYTES} "
            "(make one with `openssl rand -base64 32`)"
        )
    return key


def key_file_for(db: Path) -> Path:
    """Where the data key is kept when `ASSIST_DATA_KEY` is not set: beside the database."""
    return db.with_name(db.name + ".key")


def write_key_file(path: Path, key: bytes) -> None:
    """Write a new key file (mode 0600, never over an existing file) and put it on the disk.

    The key is written whole to a temporary file first and linked into place, so a process that finds
    `path` never reads half a key; a second writer gets `FileExistsError` (two first starts at once)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        try:
            os.write(fd, (encode_key(key) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def read_key_file(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        log.warning("crypto: the data key file %s was readable by others; it is now 0600", path)
        os.chmod(path, 0o600)
    return decode_key(path.read_text("ascii"), f"the key file {path}")


def sealed_with(db: Path) -> str | None:
    """The id of the key a database's values are sealed with (None: a new database, or one from before
    encryption). Read without the store, so that a missing key is refused before a new one is made."""
    if not db.is_file() or db.stat().st_size == 0:
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT key_id FROM data_keys LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # no such table: nothing sealed yet
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def load_cipher(db: Path | str, data_key: str = "", key_file: Path | None = None) -> Cipher:
    """The cipher for the database `db`: the key from `data_key` (the `ASSIST_DATA_KEY` setting) if given,
    else from the key file (default `<db>.key`), which is generated when the database has nothing sealed yet.
    A database that is sealed but whose key file is missing is refused, never given a new key. On PostgreSQL
    (`db` a URL) the key is `data_key` or an existing `key_file`; with neither, `DataKeyError`: a shared
    database is never sealed with a key made up by one instance, nor left in clear."""
    if data_key:
        return Cipher(decode_key(data_key, "ASSIST_DATA_KEY"), "ASSIST_DATA_KEY")
    if is_postgres(db):
        return _pg_cipher(db, key_file)
    db = Path(db)
    path = key_file if key_file is not None else key_file_for(db)
    if path.exists():
        return Cipher(read_key_file(path), f"the key file {path}")
    expected = sealed_with(db)
    if expected is not None:
        raise DataKeyError(
            f"{db} is sealed with data key {expected}, but ASSIST_DATA_KEY is not set and there is no key file "
            f"{path}: put the key file back from where you keep it (or set ASSIST_DATA_KEY to it); "
            "without it the customer fields cannot be read. docs/operations.md, 'Customer data at rest'."
        )
    key = new_key()
    try:
        write_key_file(path, key)
    except FileExistsError:  # another process (a second start, `assist token`) made it meanwhile: use theirs
        return Cipher(read_key_file(path), f"the key file {path}")
    log.warning(
        "crypto: generated the data key %s in %s (mode 0600): back it up apart from the database; "
        "a backup cannot be read without it",
        key_id(key),
        path,
    )
    return Cipher(key, f"the key file {path}")


def _pg_cipher(url: str, key_file: Path | None) -> Cipher:
    """A PostgreSQL database's cipher from its configured key file (`load_cipher`)."""
    where = describe_db(url)
    if key_file is None:
        raise DataKeyError(
            f"no data key for {where}: on PostgreSQL set ASSIST_DATA_KEY (base64 of 32 bytes, e.g. from "
            "`openssl rand -base64 32`, the same on every instance) or the data_key_file setting; customer "
            "fields are never stored in clear. docs/operations.md, 'Customer data at rest'."
        )
    if not key_file.exists():
        raise DataKeyError(
            f"the data key file {key_file} (data_key_file) does not exist; on PostgreSQL it is not generated: "
            "create it (`openssl rand -base64 32 > FILE; chmod 600 FILE`, the same file on every instance) or "
            "set ASSIST_DATA_KEY. docs/operations.md, 'Customer data at rest'."
        )
    return Cipher(read_key_file(key_file), f"the key file {key_file}")
