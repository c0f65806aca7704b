"""Backup under write load → restore into a new database: every table's row count and checksum
agree; a damaged, foreign or mismatched archive is refused before anything is touched."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, connections

from lifeline.core import backup
from lifeline.core.models import Library

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def new_database(tmp_path: Path) -> Iterator[str]:
    """A database that does not exist yet: a new SQLite file, or a new PostgreSQL database."""
    if connection.vendor == "sqlite":
        yield str(tmp_path / "restored.sqlite3")
        return
    with backup.scratch_postgres_database(
        connection.settings_dict, f"{connection.settings_dict['NAME']}_restore"
    ) as name:
        yield name


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "health" / "screens").mkdir(parents=True)
    (settings.MEDIA_ROOT / "health" / "screens" / "shot.png").write_bytes(b"\x89PNG fake" * 100)
    return Path(settings.MEDIA_ROOT)


class Writer(threading.Thread):
    """Writes libraries one by one in its own connection until told to stop."""

    def __init__(self, using: str) -> None:
        super().__init__(daemon=True)
        self.using = using
        self.stop = threading.Event()
        self.written = 0
        self.started_writing = threading.Event()
        self.connected = threading.Event()
        self.go = threading.Event()

    def run(self) -> None:
        connections[self.using]
        self.connected.set()
        self.go.wait(30)
        try:
            while not self.stop.is_set() and self.written < 5000:
                try:
                    Library.objects.using(self.using).create(
                        code=f"w{self.written}", name="written under load"
                    )
                    self.written += 1
                    if self.written >= 20:
                        self.started_writing.set()
                except OperationalError:  # SQLite: busy for longer than the timeout
                    continue
        finally:
            self.started_writing.set()
            connections[self.using].close()
            connections.close_all()


@contextmanager
def loaded_database(tmp_path: Path) -> Iterator[tuple[str, Writer]]:
    """The database the writer and the backup use, and the writer (connected, not started).

    On PostgreSQL the test database itself. On SQLite a file copy of the (migrated) test
    database under its own alias: the suite's SQLite test database is in-memory with a shared
    cache, whose table locks are not retried (SQLITE_LOCKED), while a real install's file
    database makes a writer wait (busy timeout) for the instant of the copy, which is what the
    backup must cope with. Django's test case refuses connections to aliases it was not set up
    with, except connections made on the fly; so each thread makes its connection while the
    alias is registered, and the alias is unregistered before either connects."""
    if connection.vendor != "sqlite":
        yield "default", Writer("default")
        return
    alias, path = "backup_file", tmp_path / "live.sqlite3"
    connection.ensure_connection()
    with closing(sqlite3.connect(str(path))) as target:
        connection.connection.backup(target, pages=-1)
    connections.settings[alias] = {
        **connection.settings_dict,
        "NAME": str(path),
        "TEST": {**connection.settings_dict.get("TEST", {}), "NAME": str(path)},
    }
    writer = Writer(alias)
    try:
        connections[alias]
        writer.start()
        assert writer.connected.wait(30)
    finally:
        del connections.settings[alias]
    try:
        yield alias, writer
    finally:
        connections[alias].close()
        del connections[alias]


def test_backup_under_write_load_restores_into_a_new_database(
    library_a: Any, admin_a: Any, media: Path, tmp_path: Path, settings: Any
) -> None:
    with loaded_database(tmp_path) as (using, writer):
        libraries = Library.objects.using(using)
        if not writer.is_alive():
            writer.start()
        writer.go.set()
        assert writer.started_writing.wait(30)
        before = libraries.count()
        result = backup.create(tmp_path / "b.tar.gz", using=using)
        writer.stop.set()
        writer.join(30)
        after = libraries.count()
        assert writer.written > 20 and after > before  # the writer kept writing around the copy
    manifest = result.manifest
    assert manifest["format"] == backup.FORMAT
    assert manifest["schema"] == backup.schema_heads()
    assert "core_library" in manifest["tables"] and "auth_user" in manifest["tables"]
    snapshot = manifest["tables"]["core_library"][0]
    assert before <= snapshot <= after
    assert set(manifest["members"]) >= {"media/health/screens/shot.png"}
    # A reference to the field-encryption key, never the key itself.
    assert manifest["field_key"]["fingerprint"]
    with tarfile.open(result.path, "r:gz") as tar:
        everything = b"".join(tar.extractfile(m).read() for m in tar)  # type: ignore[union-attr]
    assert settings.FIELD_ENCRYPTION_KEY.encode() not in everything

    restored_media = tmp_path / "restored-media"
    with new_database(tmp_path) as name:
        got = backup.restore(result.path, database_name=name, media_root=restored_media)
        assert got["tables"] == manifest["tables"]
        with closing(backup._raw(connection.settings_dict, name)) as conn:
            again = backup.table_digests(conn.cursor(), backup.engine(connection.settings_dict))
        # Every table, row count and checksum, as in the snapshot the backup took.
        assert again == manifest["tables"]
        assert again["core_library"][0] == snapshot
    assert (restored_media / "health" / "screens" / "shot.png").read_bytes() == (
        media / "health" / "screens" / "shot.png"
    ).read_bytes()


def rewrite(source: Path, target: Path, change: Any) -> Path:
    """Copy an archive, passing its manifest through `change`."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old:
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == backup.MANIFEST:
                data = json.dumps(change(json.loads(data))).encode()
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))
    return target


def test_a_bad_archive_is_refused_before_anything_is_touched(
    library_a: Any, media: Path, tmp_path: Path, settings: Any
) -> None:
    good = backup.create(tmp_path / "good.tar.gz").path
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(raw[: len(raw) // 2])
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive at all" * 100)

    def older(m: dict[str, Any]) -> dict[str, Any]:
        return {**m, "schema": [*m["schema"][:-1], "core.0001_initial"], "lifeline": "0.0.9"}

    def altered(m: dict[str, Any]) -> dict[str, Any]:
        members = {k: {**v, "sha256": "0" * 64} for k, v in m["members"].items()}
        return {**m, "members": members}

    def other_engine(m: dict[str, Any]) -> dict[str, Any]:
        return {**m, "engine": "postgresql" if m["engine"] == "sqlite" else "sqlite"}

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../../outside.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))

    cases = [
        (truncated, "truncated or damaged"),
        (junk, "truncated or damaged"),
        (evil, "unexpected member"),
        (rewrite(good, tmp_path / "older.tar.gz", older), "from another version"),
        (rewrite(good, tmp_path / "altered.tar.gz", altered), "truncated or altered"),
        (rewrite(good, tmp_path / "engine.tar.gz", other_engine), "database; this install uses"),
    ]
    target_media = tmp_path / "target-media"
    target = (
        str(tmp_path / "never.sqlite3")
        if connection.vendor == "sqlite"
        else "lifeline_never_created"
    )
    for archive, reason in cases:
        with pytest.raises(backup.BackupRefused, match=reason):
            backup.restore(archive, database_name=target, media_root=target_media)
        assert not target_media.exists()
        assert not (tmp_path / "never.sqlite3").exists()
        assert not (tmp_path.parent / "outside.txt").exists()

    # The live database holds data: not a fresh install.
    with pytest.raises(backup.BackupRefused, match="already holds libraries or users"):
        backup.restore(good, media_root=target_media)
    # Another field-encryption key: stored secrets could not be read.
    settings.FIELD_ENCRYPTION_KEY = "another key altogether"
    with pytest.raises(backup.BackupRefused, match="field-encryption key differs"):
        backup.restore(good, database_name=target, media_root=target_media)
    assert Library.objects.filter(pk=library_a.pk).exists()


def test_commands(library_a: Any, media: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("backup", output=tmp_path / "c.tar.gz", stdout=out)
    assert "c.tar.gz" in out.getvalue() and "NOT in the archive" in out.getvalue()
    (tmp_path / "cut.tar.gz").write_bytes((tmp_path / "c.tar.gz").read_bytes()[:300])
    with pytest.raises(CommandError, match="restore refused: the archive is truncated"):
        call_command("restore", str(tmp_path / "cut.tar.gz"))
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore", str(tmp_path / "missing.tar.gz"))
    with pytest.raises(CommandError, match="already holds"):
        call_command("restore", str(tmp_path / "c.tar.gz"))
