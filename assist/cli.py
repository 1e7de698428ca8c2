"""Command line: serve, token, classify, pack check, backup, restore, purge, rekey (each documented in --help, the
README and docs/operations.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assist import __version__
from assist.config import DEFAULT_PACK, Settings, is_postgres, load_settings, sqlite_file
from assist.problems import PackError
from assist.protocol import ROLES

if TYPE_CHECKING:
    from assist.scripts.pack import Pack

# The pack and classifier modules (pypinyin, OpenCC, numpy, the automata) are imported by the commands
# that load a pack, not by `assist token …`, `backup` or `purge`: an operator's command starts at once.


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assist", description="Real-time agent assist for a bank call center.")
    p.add_argument("--version", action="version", version=f"assist {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "serve",
        help="start the websocket and HTTP servers",
        description="Start the service. No flag is needed: it binds 127.0.0.1, keeps its data "
        "in SQLite under the data directory and loads the default script pack.",
    )
    s.add_argument("--config", type=Path, help="TOML settings file (see docs/settings.md)")
    s.add_argument("--host", help="address to bind (default 127.0.0.1)")
    s.add_argument("--ws-port", type=int, help="websocket port (default 8765; 0 = any free port)")
    s.add_argument("--http-port", type=int, help="HTTP port (default 8080; 0 = any free port)")
    s.add_argument(
        "--db",
        help="SQLite database file (default ~/.local/share/assist/assist.db), or a "
        "postgresql://user@host/dbname URL for a shared PostgreSQL store",
    )
    s.add_argument("--pack", type=Path, help="script pack directory (default: the built-in pack)")

    t = sub.add_parser("token", help="manage access tokens")
    tsub = t.add_subparsers(dest="token_command", required=True)
    ti = tsub.add_parser("issue", help="issue a bearer token and print it (only its hash is stored)")
    ti.add_argument("--user", required=True, help="user id, e.g. an agent's employee number")
    ti.add_argument("--role", required=True, choices=ROLES)
    ti.add_argument("--db", help="SQLite database file or postgresql:// URL (default as for serve)")
    ti.add_argument("--config", type=Path, help="TOML settings file")

    tr = tsub.add_parser("revoke", help="revoke tokens: all of a user's, or one by its id from `token list`")
    who = tr.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="revoke every token of this user")
    who.add_argument("--id", help="revoke the token with this id (from `assist token list`)")
    tr.add_argument("--db", help="SQLite database file or postgresql:// URL (default as for serve)")
    tr.add_argument("--config", type=Path, help="TOML settings file")
    tl = tsub.add_parser("list", help="list tokens (ids, users, roles; never the secrets)")
    tl.add_argument("--db", help="SQLite database file or postgresql:// URL (default as for serve)")
    tl.add_argument("--config", type=Path, help="TOML settings file")

    c = sub.add_parser(
        "classify",
        help="classify calls read as JSON lines on stdin",
        description='Each input line: {"id", "context", "notes": [..], "transcript": '
        '[{"speaker": "customer"|"agent"|"supervisor"|"third_party", "text"}]}. '
        "Each output line: "
        '{"id", "category", "labels", "evidence", "warnings"}.',
    )
    c.add_argument("--pack", type=Path, default=DEFAULT_PACK, help="script pack directory")

    k = sub.add_parser("pack", help="script pack tools")
    ksub = k.add_subparsers(dest="pack_command", required=True)
    kc = ksub.add_parser("check", help="validate a pack; print every problem with file and line")
    kc.add_argument("dir", type=Path)

    b = sub.add_parser(
        "backup",
        help="copy the database to PATH while the service serves (SQLite online backup)",
        description="Copy one consistent snapshot of the database to PATH (mode 0600), "
        "while the service keeps serving. An existing PATH is replaced only once "
        "the new copy is complete and checked.",
    )
    b.add_argument("path", type=Path)
    b.add_argument("--db", help="SQLite database file or postgresql:// URL (default as for serve)")
    b.add_argument("--config", type=Path, help="TOML settings file")
    r = sub.add_parser(
        "restore",
        help="replace the database with a backup (the service must be stopped)",
        description="Check the backup at PATH and put it in place of the database. Refuses "
        "while a service holds the database. The database it replaces is kept "
        "beside it as <db>.before-restore-<time>.",
    )
    r.add_argument("path", type=Path)
    r.add_argument("--db", help="SQLite database file or postgresql:// URL (default as for serve)")
    r.add_argument("--config", type=Path, help="TOML settings file")
    g = sub.add_parser(
        "purge",
        help="purge notes and transcripts older than retention_days now",
        description="What the service does daily: delete the note, transcript and context "
        "events of calls older than retention_days and mask their stored context; "
        "records, escalations, classifications and the audit trail are kept.",
    )
    g.add_argument("--days", type=float, help="keep this many days (default: the retention_days setting)")
    g.add_argument("--db", help="SQLite database file or postgresql:// URL (default as for serve)")
    g.add_argument("--config", type=Path, help="TOML settings file")
    y = sub.add_parser(
        "rekey",
        help="re-encrypt the customer fields under a new data key (the service stopped)",
        description="Re-encrypt every sealed customer field under a new data key, in one "
        "transaction, and seal values stored before encryption. The current key "
        "comes from ASSIST_DATA_KEY or the key file as for serve. Without "
        "--new-key-env, a new key is generated into the key file (the old one is "
        "kept beside it as <key file>.retired-<key id>: backups made before "
        "need it). With --new-key-env NAME, the new key is read from that "
        "environment variable; set ASSIST_DATA_KEY to it before the next start.",
    )
    y.add_argument("--new-key-env", metavar="NAME", help="environment variable holding the new key (base64)")
    y.add_argument("--db", help="SQLite database file (default as for serve; not on PostgreSQL)")
    y.add_argument("--config", type=Path, help="TOML settings file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("serve", "token", "purge", "rekey"):
        from assist.server.ops.crypto import DataKeyError

        try:
            return {"serve": _serve, "token": _token, "purge": _purge, "rekey": _rekey}[args.command](args)
        except DataKeyError as exc:
            print(f"assist: cannot open the database: {exc}", file=sys.stderr)
            return 1
    if args.command == "classify":
        return _classify(args.pack, sys.stdin, sys.stdout)
    if args.command == "pack":
        return _pack_check(args.dir)
    if args.command in ("backup", "restore"):
        return _backup_restore(args)
    return 2


def _settings(config: Path | None, overrides: dict[str, Any]) -> Settings:
    """The settings, or a one-line error and exit status 2 (a missing or malformed settings file, a bad value)."""
    try:
        return load_settings(config, overrides)
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        print(f"assist: settings: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(args: argparse.Namespace) -> int:
    from assist.app import serve_forever

    settings = _settings(
        args.config,
        {"host": args.host, "ws_port": args.ws_port, "http_port": args.http_port, "db": args.db, "pack": args.pack},
    )
    from assist.server.ops.files import private_db
    from assist.server.ops.logs import configure_logging

    try:
        configure_logging(settings.log_level, settings.log_format)
    except ValueError as exc:
        print(f"assist: {exc}", file=sys.stderr)
        return 2
    try:
        if (file := sqlite_file(settings.db)) is not None:
            private_db(file)
        asyncio.run(serve_forever(settings))
    except PackError as exc:
        print(f"assist: the script pack is invalid:\n{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"assist: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


async def _tell_instances_revoked(db: Path | str) -> bool:
    """On a shared (PostgreSQL) database, tell the running instances to check their connections' tokens now
    (each also checks once a minute). Whether they were told."""
    from assist.server.cluster import open_bus
    from assist.server.live.ws import TOKENS

    if not is_postgres(db):
        return False
    try:
        bus = await open_bus(db)
    except Exception as exc:  # revoked all the same: the instances' minute poll closes them
        print(
            f"assist: could not tell the running instances ({type(exc).__name__}); they close those "
            "connections within a minute",
            file=sys.stderr,
        )
        return False
    try:
        await bus.publish(TOKENS, {})
    finally:
        await bus.close()
    return True


def _token(args: argparse.Namespace) -> int:
    from assist.server.ops.crypto import load_cipher
    from assist.server.ops.files import private_db
    from assist.server.schema import SCHEMA
    from assist.server.store import Store

    settings = _settings(args.config, {"db": args.db})

    async def run() -> tuple[str, int]:
        if (file := sqlite_file(settings.db)) is not None:
            private_db(file)
        store = await Store.open(
            settings.db, SCHEMA, load_cipher(settings.db, settings.data_key, settings.data_key_file)
        )
        try:
            if args.token_command == "issue":
                return await store.issue_token(args.user, args.role, time.time()), 0
            if args.token_command == "revoke":
                n = await store.revoke_tokens(time.time(), user=args.user, token_id=args.id)
                if n == 0:
                    who = f"id {args.id!r} (see `assist token list`)" if args.id is not None else f"user {args.user!r}"
                    return f"assist: no active token for {who}; nothing revoked", 1
                if await _tell_instances_revoked(settings.db):
                    return f"revoked {n} token(s); open connections with them are closed now on every instance", 0
                return f"revoked {n} token(s); open connections with them close within a minute", 0
            rows = await store.list_tokens()
            return "\n".join(
                f"{r['id']}  {r['user']:<16} {r['role']:<13} {'revoked' if r['revoked_at'] else 'active'}" for r in rows
            ) or "no tokens", 0
        finally:
            await store.close()

    text, code = asyncio.run(run())
    print(text, file=sys.stderr if code else sys.stdout)
    return code


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {table}" for table, n in counts.items())


def _backup_restore(args: argparse.Namespace) -> int:
    from assist.server.ops.backup import BackupError, backup, restore
    from assist.server.ops.crypto import sealed_with

    settings = _settings(args.config, {"db": args.db})
    db = sqlite_file(settings.db)
    if db is None:
        print(
            f"assist: {args.command} copies a SQLite file; on PostgreSQL use pg_dump and pg_restore "
            '(docs/operations.md, "Backup and restore")',
            file=sys.stderr,
        )
        return 1
    try:
        if args.command == "backup":
            counts = backup(db, args.path)
            print(
                f"backed up {settings.db} to {args.path} ({_counts_text(counts)})" + _key_note(sealed_with(args.path))
            )
            return 0
        counts, kept = restore(args.path, db)
    except (BackupError, OSError) as exc:
        print(f"assist: {args.command} failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored {args.path} into {settings.db} ({_counts_text(counts)})"
        + (f"; the database it replaced is kept as {kept}" if kept else "")
        + _key_note(sealed_with(db))
    )
    return 0


def _key_note(key_id: str | None) -> str:
    """Which data key a copy needs (docs/operations.md, 'Customer data at rest')."""
    return f"; its customer fields are sealed with data key {key_id}: it is read only with that key" if key_id else ""


def _purge(args: argparse.Namespace) -> int:
    from assist.server.ops.crypto import load_cipher
    from assist.server.ops.files import private_db
    from assist.server.ops.retention import purge
    from assist.server.schema import SCHEMA
    from assist.server.store import Store

    settings = _settings(args.config, {"db": args.db})
    days = settings.retention_days if args.days is None else args.days
    if days <= 0:
        print("assist: retention_days is 0: everything is kept; nothing purged")
        return 0
    file = sqlite_file(settings.db)
    if file is not None and not file.exists():
        print(f"assist: no database at {settings.db}", file=sys.stderr)
        return 1

    async def run() -> str:
        if file is not None:
            private_db(file)
        store = await Store.open(
            settings.db, SCHEMA, load_cipher(settings.db, settings.data_key, settings.data_key_file)
        )
        try:
            done = await purge(store, time.time(), days)
        finally:
            await store.close()
        return (
            f"purged {done.events} note/transcript/context event(s) and masked {done.contexts} call "
            f"context(s) older than {days:g} days"
        )

    print(asyncio.run(run()))
    return 0


def _rekey(args: argparse.Namespace) -> int:
    from assist.server.ops.crypto import Cipher, decode_key, key_file_for, load_cipher, new_key, write_key_file
    from assist.server.ops.rekey import ServiceRunning, rekey
    from assist.server.schema import SCHEMA

    settings = load_settings(args.config, {"db": args.db})
    db = sqlite_file(settings.db)
    if db is None:
        print(
            "assist: rekey re-encrypts a SQLite file; on PostgreSQL it is not available yet: keep the data key "
            '(docs/operations.md, "Customer data at rest")',
            file=sys.stderr,
        )
        return 1
    if not db.is_file():
        print(f"assist: no database at {settings.db}", file=sys.stderr)
        return 1
    key_file = settings.data_key_file or key_file_for(db)
    if args.new_key_env is None and settings.data_key:
        print(
            "assist: the key comes from ASSIST_DATA_KEY: put the new key in another variable and pass its name "
            "with --new-key-env",
            file=sys.stderr,
        )
        return 2
    if not settings.data_key and not key_file.exists():
        print(f"assist: no data key: ASSIST_DATA_KEY is not set and there is no key file {key_file}", file=sys.stderr)
        return 1
    old = load_cipher(db, settings.data_key, settings.data_key_file)
    pending = key_file.with_name(key_file.name + ".new")
    if args.new_key_env is not None:
        if args.new_key_env not in os.environ:
            print(f"assist: the environment variable {args.new_key_env} is not set", file=sys.stderr)
            return 2
        new = Cipher(decode_key(os.environ[args.new_key_env], args.new_key_env), args.new_key_env)
    else:
        if pending.exists():
            print(
                f"assist: {pending} is left from an interrupted rekey: if the service does not start with "
                f"{key_file}, it needs that one; move it away before rekeying again",
                file=sys.stderr,
            )
            return 1
        fresh = new_key()
        write_key_file(pending, fresh)  # on the disk before the database depends on it
        new = Cipher(fresh, f"the key file {key_file}")
    if new.key_id == old.key_id:
        print("assist: the new key is the current key; nothing to do", file=sys.stderr)
        return 2
    try:
        done = asyncio.run(rekey(db, SCHEMA, old, new, time.time()))
    except ServiceRunning as exc:
        pending.unlink(missing_ok=True)
        print(f"assist: {exc}", file=sys.stderr)
        return 1
    except BaseException:
        pending.unlink(missing_ok=True)  # the database is still under the old key
        raise
    retired = key_file.with_name(f"{key_file.name}.retired-{old.key_id}")
    if not settings.data_key:
        os.replace(key_file, retired)
    if args.new_key_env is None:
        os.replace(pending, key_file)
        print(
            f"re-encrypted {done.values} value(s) of {settings.db} under the new data key {new.key_id} in "
            f"{key_file}; the old key {old.key_id} is kept as {retired}: keep it as long as backups made before "
            "now, and back up the new key file"
        )
    else:
        print(
            f"re-encrypted {done.values} value(s) of {settings.db} under the data key {new.key_id} from "
            f"{args.new_key_env}: set ASSIST_DATA_KEY to it before the next start"
            + (f"; the old key file is kept as {retired}" if not settings.data_key else "")
        )
    return 0


def model_cache_dir() -> Path:
    """Where `assist classify` keeps trained models between runs (they depend only on the pack's files)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assist" / "models"


def pack_with_models(pack_dir: Path) -> Pack:
    """The pack directory with its models: trained once, then read from the cache."""
    from assist.scripts.pack import load_pack, load_pack_dir, train_pack_models
    from assist.scripts.pack_model import training_digest

    pack = load_pack_dir(pack_dir)
    files = dict(pack.files)
    path = model_cache_dir() / f"{training_digest(files)}.msgpack"
    try:
        artifact = path.read_bytes()
    except OSError:
        print("assist: training the pack's model (once for these samples)…", file=sys.stderr)
        artifact = train_pack_models(files)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(artifact)
            tmp.replace(path)
        except OSError as exc:
            print(f"assist: could not cache the model in {path.parent}: {exc}", file=sys.stderr)
    pack = load_pack(files, models=artifact)
    if pack.model_problem:
        print(f"assist: classifying with the rules alone: {pack.model_problem}", file=sys.stderr)
    return pack


def _classify(pack_dir: Path, stdin: TextIO, stdout: TextIO) -> int:
    from assist.live.whole_call import classify_call

    try:
        pack = pack_with_models(pack_dir)
    except PackError as exc:
        print(f"assist: the script pack is invalid:\n{exc}", file=sys.stderr)
        return 1
    for n, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        out: dict[str, Any]
        try:
            call = json.loads(line)
            out = classify_call(pack, call)
        except (json.JSONDecodeError, ValueError) as exc:
            call_id = None
            try:
                maybe = json.loads(line)
                call_id = maybe.get("id") if isinstance(maybe, dict) else None
            except json.JSONDecodeError:
                pass
            out = {"id": call_id, "line": n, "error": {"code": "invalid_call", "message": str(exc)}}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def _pack_check(path: Path) -> int:
    from assist.scripts.category_scripts import template_warnings
    from assist.scripts.pack import load_pack_dir, read_pack_dir

    try:
        pack = load_pack_dir(path)
    except PackError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    warnings = template_warnings(read_pack_dir(path).get("scripts.yaml", ""))
    for warning in warnings:
        print(f"warning: {warning}")
    print(
        f"{path}: pack {pack.id} {pack.version} is valid "
        f"({len(pack.scripts)} categories, {len(pack.samples)} samples"
        f"{f', {len(warnings)} warning(s)' if warnings else ''})"
    )
    return 0
