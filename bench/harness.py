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

RESULTS = Path(__file__).resolve().parent / "results"


@contextlib.contextmanager
def django_environment(profile: str = "bench") -> Iterator[None]:
    """Start embedded PostgreSQL/Redis unless configured, set up Django and migrate."""
    from clinic.embedded import services

    with services(profile) as urls:
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
