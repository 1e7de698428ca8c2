"""A throwaway PostgreSQL cluster for the suite (and the benchmarks): `initdb` + `pg_ctl` into a temp dir.

It listens on a unix socket in its own directory only (no TCP port to collide with anything), runs as the
`postgres` user when the suite runs as root (initdb refuses root), and each test gets a schema of its own
(`Cluster.fresh_url`), which is far cheaper than a database of its own.
"""

from __future__ import annotations

import base64
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from assist.config import is_postgres
from assist.server.ops.crypto import Cipher, decode_key

PORT = 5432
"""Only names the socket file (`.s.PGSQL.5432` in the cluster's own directory): no TCP listener."""

MISSING = (
    "PostgreSQL's initdb and pg_ctl were not found on PATH or under /usr/lib/postgresql/*/bin; "
    "the store tests run on both backends: install Debian's `postgresql` package (.ci/run does)"
)


DATA_KEY = base64.b64encode(bytes(range(32))).decode("ascii")
"""The data key of every store the suite puts on PostgreSQL (there is no key file beside a URL, and a service
on PostgreSQL without a key does not start)."""


def cipher_for(db: Path | str) -> Cipher | None:
    """The cipher a test opens the store at `db` with: the suite's key on PostgreSQL; None on SQLite (the
    store's own: the key file beside the database, made with it)."""
    return Cipher(decode_key(DATA_KEY, "the suite's DATA_KEY"), "the suite's DATA_KEY") if is_postgres(db) else None


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else the newest of Debian's /usr/lib/postgresql/<ver>/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


@dataclass
class Cluster:
    root: Path
    bindir: Path
    user: str | None
    """The OS user the server runs as (None: this process's user)."""
    _schemas: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", options: str = "") -> str:
        url = f"postgresql://assist@/{database}?host={quote(str(self.root), safe='/')}&port={PORT}"
        return url + (f"&options={quote(options, safe='')}" if options else "")

    def fresh_url(self, prefix: str = "t") -> str:
        """A URL whose tables live in a new, empty schema of their own."""
        import psycopg

        schema = f"{prefix}_{os.getpid()}_{next(self._schemas)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        return self.url(options=f"-c search_path={schema}")

    def run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb and start a cluster in a new temp dir; raises RuntimeError (`MISSING`) without the binaries."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(MISSING)
    root = Path(tempfile.mkdtemp(prefix="assist-pg-"))
    user = None
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        user = "postgres"
        try:
            shutil.chown(root, user, user)
        except LookupError:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(
                "running as root, and there is no `postgres` user to run the cluster as "
                "(Debian's postgresql package creates it)"
            ) from None
    cluster = Cluster(root, bindir, user)
    try:
        cluster.run(
            "initdb", "-D", str(cluster.data), "-U", "assist", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        cluster.run(
            "pg_ctl",
            "-D",
            str(cluster.data),
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-c listen_addresses='' -c unix_socket_directories={root} -p {PORT} "
            "-c max_connections=200 -c shared_buffers=64MB",
            "start",
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster


def query(url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows of `sql` on the database at `url`, as dicts (a test reading what the service stored)."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()
