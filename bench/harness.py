"""Shared set-up for benchmarks: real servers (embedded unless the URLs are set), Django, output.

Each benchmark prints human-readable lines and, as its last line, one JSON object of figures,
which is also written to bench/results/<name>.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

RESULTS = Path(__file__).resolve().parent / "results"


SHARED_PROFILE = "bench"


def own_database(url: str, profile: str) -> str:
    """The URL of this benchmark's own database on the same server, created if missing.

    Every benchmark but bench.pages (whose network lives in the shared database) gets a database
    of its own, whether the server is embedded or given by DATABASE_URL: one benchmark's rows
    never join another's run (bench.reminders once delivered the network's due messages too).
    """
    if profile == SHARED_PROFILE:
        return url
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'clinic'}_{profile.replace('-', '_')}"
    with contextlib.closing(psycopg2.connect(url)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def django_environment(profile: str = SHARED_PROFILE) -> Iterator[None]:
    """Start embedded PostgreSQL/Redis unless configured, set up Django in this benchmark's own
    database (`own_database`) and migrate."""
    from clinic.embedded import services

    with services(profile) as urls:
        urls = {**urls, "DATABASE_URL": own_database(urls["DATABASE_URL"], profile)}
        os.environ.update(urls)
        os.environ.setdefault("SECRET_KEY", "insecure-local-bench-key")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.50), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "mean_ms": round(statistics.fmean(values), 2) if values else 0.0,
        "max_ms": round(max(values), 2) if values else 0.0,
    }


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def report(name: str, figures: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    figures = {"benchmark": name, **figures, "machine": machine()}
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(json.dumps(figures, default=str), flush=True)
    sys.stdout.flush()
