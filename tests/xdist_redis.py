"""Each pytest-xdist worker gets a Redis database of its own.

`make test` runs the suite in parallel processes (pytest-xdist). pytest-django already gives each
worker its own PostgreSQL test database (test_clinic_gw0, ...); Redis needs the same care, or a real
Celery worker started by one process's test would take the tasks another process's test sent, and
run them against the wrong database. Loaded with `-p` (pyproject's addopts), so it rewrites
REDIS_URL before Django's settings are imported. Outside xdist it changes nothing.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def _worker_redis_url(url: str, worker: str) -> str:
    """The same server, database 1 + the worker's number (gw0 -> 1); 0 stays the default's."""
    index = int(worker.removeprefix("gw")) + 1
    if index > 15:  # a Redis server has 16 databases unless told otherwise
        raise RuntimeError(
            f"pytest-xdist worker {worker} has no Redis database of its own (0-15): run at most "
            "15 processes (make test caps them at 8)"
        )
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [p for p in parts.query.split("&") if p and not p.startswith("db=")]
        # Built by hand: urlunsplit drops the empty host's "//" ("unix:/run/redis.sock").
        return f"unix://{parts.path}?{'&'.join([*query, f'db={index}'])}"
    return urlunsplit(parts._replace(path=f"/{index}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _worker_redis_url(os.environ["REDIS_URL"], _worker)
