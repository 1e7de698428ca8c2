"""Files that hold customer data are the service user's alone (0600), whatever the umask.

SQLite creates a database's -wal and -shm files with the database file's own mode, so creating
the database 0600 before SQLite opens it keeps all three private; `tighten` mends files an older
version (or a loose umask) left readable.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist (its directory 0700 if new); make it 0600."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE)
    os.close(fd)
    os.chmod(path, PRIVATE)


def tighten(db: Path) -> None:
    """Mode 0600 on the database and its WAL, shared-memory and journal files, those that exist."""
    for f in (db, *(db.with_name(db.name + s) for s in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f, PRIVATE)


def private_db(db: Path) -> None:
    """Before SQLite opens `db`: the file exists, private, and so are its side files."""
    private_file(db)
    tighten(db)
