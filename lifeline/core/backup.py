"""Backups and restore: one archive with a consistent database snapshot, the uploaded files and a
reference to the field-encryption key (never the key).

The archive (`.tar.gz`) holds `database.sqlite3` (SQLite's online backup API: one step, so the copy
is one consistent read while others write) or `database.pgdump` (`pg_dump -Fc` run on a snapshot
exported from a REPEATABLE READ transaction), `media/...`, and `manifest.json` last: the format,
the schema (every app's latest migration), the database engine, the key's fingerprint, each
member's size and SHA-256, and every table's row count and checksum taken from the same snapshot.

`restore` reads and checks the whole archive before it touches anything: a truncated or altered
archive, one from another schema version or engine, or one whose field key differs from this
install's is refused with the reason; so is a target that already holds data (unless `replace`).
After restoring it recounts every table and compares the checksums with the manifest.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

import lifeline

FORMAT = "lifeline-backup/1"
MANIFEST = "manifest.json"
KEY_LABEL = b"lifeline field-encryption key reference"
CHUNK = 1 << 20


class BackupRefused(Exception):
    """The archive cannot be restored here (or a backup cannot be taken); the message says why."""


@dataclass
class Result:
    path: Path
    manifest: dict[str, Any]


# --- what identifies a backup --------------------------------------------------------------------


def schema_heads() -> list[str]:
    """Every app's latest migration in this code: the schema a backup belongs to."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(f"{app}.{name}" for app, name in graph.leaf_nodes())


def field_key_reference() -> dict[str, str]:
    """Which key encrypts the stored secrets, without giving it away: a keyed fingerprint and
    where the key comes from (restore needs the same key to read SUSHI keys and passwords)."""
    key = str(getattr(settings, "FIELD_ENCRYPTION_KEY", "") or settings.SECRET_KEY)
    source = (
        "LIFELINE_FIELD_KEY_FILE"
        if os.environ.get("LIFELINE_FIELD_KEY_FILE")
        else "LIFELINE_FIELD_KEY"
        if os.environ.get("LIFELINE_FIELD_KEY")
        else "the secret key (LIFELINE_SECRET_KEY)"
    )
    fingerprint = hmac.new(key.encode(), KEY_LABEL, hashlib.sha256).hexdigest()[:16]
    return {"fingerprint": fingerprint, "source": source}


def engine(settings_dict: dict[str, Any]) -> str:
    name = str(settings_dict["ENGINE"])
    if "sqlite3" in name:
        return "sqlite"
    if "postgresql" in name:
        return "postgresql"
    raise BackupRefused(f"database engine {name} is not supported")


# --- table counts and checksums ------------------------------------------------------------------


def _raw(settings_dict: dict[str, Any], name: str | None = None) -> Any:
    """A plain DB-API connection (not Django's), so both sides of a comparison read alike."""
    if engine(settings_dict) == "sqlite":
        return sqlite3.connect(str(name or settings_dict["NAME"]))
    import psycopg

    conn = psycopg.connect(**_pg_params(settings_dict, name))
    # As Django's connections do: timestamps read in UTC, so checksums compare across the two.
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


def _pg_params(settings_dict: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    params = {
        "dbname": name or settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    return {k: v for k, v in params.items() if v}


def _pg_env(settings_dict: dict[str, Any], name: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (
        ("dbname", "PGDATABASE"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("host", "PGHOST"),
        ("port", "PGPORT"),
    ):
        value = _pg_params(settings_dict, name).get(key)
        if value:
            env[var] = str(value)
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupRefused(f"{name} not found: install the PostgreSQL client tools")
    return path


def _tables(cursor: Any, kind: str) -> list[str]:
    if kind == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return sorted(str(row[0]) for row in cursor.fetchall())


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def table_digests(cursor: Any, kind: str) -> dict[str, list[Any]]:
    """{table: [row count, SHA-256 of its rows in full column order]} for every table."""
    result: dict[str, list[Any]] = {}
    for table in _tables(cursor, kind):
        quoted = '"' + table.replace('"', '""') + '"'
        cursor.execute(f"SELECT * FROM {quoted} WHERE 1 = 0")  # noqa: S608 - a table name
        width = len(cursor.description)
        order = ", ".join(str(i) for i in range(1, width + 1))
        cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")  # noqa: S608
        digest = hashlib.sha256()
        count = 0
        while rows := cursor.fetchmany(2000):
            for row in rows:
                digest.update(repr(tuple(_value(v) for v in row)).encode())
                count += 1
        result[table] = [count, digest.hexdigest()]
    return result


# --- backup --------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _snapshot_sqlite(using: str, target: Path) -> dict[str, list[Any]]:
    connection = connections[using]
    connection.ensure_connection()
    with closing(sqlite3.connect(str(target))) as copy:
        # pages=-1: the whole database in one step, i.e. within one read transaction; a writer
        # in another connection waits (busy_timeout) or is not seen, never half-seen.
        connection.connection.backup(copy, pages=-1)
    with closing(sqlite3.connect(str(target))) as copy:
        return table_digests(copy.cursor(), "sqlite")


def _snapshot_postgresql(using: str, target: Path) -> dict[str, list[Any]]:
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupRefused("a PostgreSQL backup must not run inside a transaction")
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = str(cursor.fetchone()[0])
        # pg_dump reads the very snapshot this transaction holds, so the checksums below and
        # the dump agree whatever is written meanwhile.
        done = subprocess.run(  # noqa: S603
            [
                _tool("pg_dump"),
                "-Fc",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "-f",
                str(target),
            ],
            env=_pg_env(connection.settings_dict),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupRefused(f"pg_dump failed: {done.stderr.strip()[:500]}")
        return table_digests(cursor, "postgresql")


def _media_files() -> Iterator[tuple[Path, str]]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, "media/" + path.relative_to(root).as_posix()


def default_output() -> Path:
    return Path(settings.DATA_DIR) / "backups" / f"lifeline-{timezone.now():%Y%m%dT%H%M%SZ}.tar.gz"


def create(output: Path | None = None, *, using: str = "default") -> Result:
    """Write a backup archive; return its path and manifest."""
    connection = connections[using]
    kind = engine(connection.settings_dict)
    pending = MigrationExecutor(connection).migration_plan(
        MigrationLoader(connection).graph.leaf_nodes()
    )
    if pending:
        raise BackupRefused(
            f"{len(pending)} migration(s) not applied: run `lifeline migrate` before a backup"
        )
    output = output or default_output()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lifeline-backup-") as tmp:
        name = "database.sqlite3" if kind == "sqlite" else "database.pgdump"
        db_file = Path(tmp) / name
        digests = (
            _snapshot_sqlite(using, db_file)
            if kind == "sqlite"
            else _snapshot_postgresql(using, db_file)
        )
        members: dict[str, dict[str, Any]] = {}
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            for path, arcname in [(db_file, name), *_media_files()]:
                members[arcname] = {"size": path.stat().st_size, "sha256": _sha256(path)}
                archive.add(str(path), arcname=arcname, recursive=False)
            manifest = {
                "format": FORMAT,
                "lifeline": lifeline.__version__,
                "created_at": timezone.now().isoformat(),
                "engine": kind,
                "schema": schema_heads(),
                "field_key": field_key_reference(),
                "members": members,
                "tables": digests,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(timezone.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
        os.replace(partial, output)
    return Result(output, manifest)


# --- restore -------------------------------------------------------------------------------------


def _unpack(archive: Path, into: Path) -> dict[str, Any]:
    """Extract every regular file (no links, no path outside `into`) and check it against the
    manifest; any damage raises BackupRefused before anything else is touched."""
    found: dict[str, str] = {}
    manifest: Any = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                target = (into / name).resolve()
                if not member.isfile() or not target.is_relative_to(into.resolve()):
                    raise BackupRefused(f"unexpected member {name!r} in the archive")
                source = tar.extractfile(member)
                if source is None:
                    raise BackupRefused(f"unreadable member {name!r}")
                if name == MANIFEST:
                    manifest = json.loads(source.read(10 * CHUNK))
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with target.open("wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                found[name] = digest.hexdigest()
    except BackupRefused:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise BackupRefused(f"the archive is truncated or damaged ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused("no Lifeline backup manifest (or another format) in the archive")
    listed = {k: v.get("sha256") for k, v in dict(manifest.get("members", {})).items()}
    if listed != found:
        bad = sorted(set(listed) ^ set(found) | {k for k in listed if listed[k] != found.get(k)})
        raise BackupRefused(f"the archive is truncated or altered: {', '.join(bad[:5])}")
    return manifest


def _check_compatible(
    manifest: dict[str, Any], settings_dict: dict[str, Any], ignore_field_key: bool
) -> None:
    heads = schema_heads()
    if manifest.get("schema") != heads:
        theirs, ours = set(manifest.get("schema") or []), set(heads)
        raise BackupRefused(
            f"the backup is from another version (Lifeline {manifest.get('lifeline')}): "
            f"schema differs in {', '.join(sorted(theirs ^ ours)[:6])}"
        )
    if manifest.get("engine") != engine(settings_dict):
        raise BackupRefused(
            f"the backup is of a {manifest.get('engine')} database; this install uses "
            f"{engine(settings_dict)}"
        )
    theirs_key = dict(manifest.get("field_key") or {})
    if (
        not ignore_field_key
        and theirs_key.get("fingerprint") != field_key_reference()["fingerprint"]
    ):
        raise BackupRefused(
            "the field-encryption key differs from the backup's (fingerprint "
            f"{theirs_key.get('fingerprint')}, from {theirs_key.get('source')}): set the same key "
            "before restoring, or stored passwords and API keys cannot be read"
        )


def _holds_data(using: str, name: str | None) -> bool:
    """Whether the target already has libraries or users (then it is not a fresh install)."""
    connection = connections[using]
    kind = engine(connection.settings_dict)
    if name is None:
        tables = set(connection.introspection.table_names())
        conn_ctx: Any = connection.cursor()
    else:
        if kind == "sqlite" and not Path(name).exists():
            return False
        conn_ctx = closing(_raw(connection.settings_dict, name).cursor())
        tables = None
    with conn_ctx as cursor:
        if tables is None:
            tables = set(_tables(cursor, kind))
        for table in ("core_library", "auth_user"):
            if table in tables:
                cursor.execute(f'SELECT 1 FROM "{table}" LIMIT 1')  # noqa: S608
                if cursor.fetchone() is not None:
                    return True
    return False


def restore(
    archive: Path,
    *,
    using: str = "default",
    database_name: str | None = None,
    media_root: Path | None = None,
    replace: bool = False,
    ignore_field_key: bool = False,
) -> dict[str, Any]:
    """Bring a backup back; `database_name` restores into another database of the same server
    (or SQLite file) instead of the configured one. Returns the manifest."""
    connection = connections[using]
    settings_dict = connection.settings_dict
    kind = engine(settings_dict)
    media = Path(media_root or settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="lifeline-restore-") as tmp:
        into = Path(tmp)
        manifest = _unpack(archive, into)
        _check_compatible(manifest, settings_dict, ignore_field_key)
        if not replace and _holds_data(using, database_name):
            raise BackupRefused(
                "the target database already holds libraries or users: restore on a fresh "
                "install, or pass --replace to overwrite it"
            )
        if not replace and media.is_dir() and any(media.iterdir()):
            raise BackupRefused(f"{media} is not empty: pass --replace to overwrite it")
        if database_name is None:
            connection.close()
        if kind == "sqlite":
            with (
                closing(sqlite3.connect(str(into / "database.sqlite3"))) as source,
                closing(sqlite3.connect(str(database_name or settings_dict["NAME"]))) as target,
            ):
                source.backup(target, pages=-1)
        else:
            done = subprocess.run(  # noqa: S603
                [
                    _tool("pg_restore"),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    "-d",
                    str(_pg_params(settings_dict, database_name)["dbname"]),
                    str(into / "database.pgdump"),
                ],
                env=_pg_env(settings_dict, database_name),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise BackupRefused(f"pg_restore failed: {done.stderr.strip()[:500]}")
        if (into / "media").is_dir():
            shutil.copytree(into / "media", media, dirs_exist_ok=True)
    with closing(_raw(settings_dict, database_name)) as conn:
        got = table_digests(conn.cursor(), kind)
    if got != manifest["tables"]:
        bad = sorted(
            t for t in set(got) | set(manifest["tables"]) if got.get(t) != manifest["tables"].get(t)
        )
        raise BackupRefused(
            f"restored, but these tables differ from the backup: {', '.join(bad[:8])}"
        )
    return manifest


@contextmanager
def scratch_postgres_database(settings_dict: dict[str, Any], name: str) -> Iterator[str]:
    """A new, empty database on the same server (for restore drills and tests)."""
    import psycopg

    admin = _pg_params(settings_dict, "postgres")
    with closing(psycopg.connect(**admin, autocommit=True)) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with closing(psycopg.connect(**admin, autocommit=True)) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
