"""Project-level views: the liveness and readiness probes and the friendly error pages."""

from __future__ import annotations

import logging
import sys
import uuid

import kombu.exceptions
import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except DatabaseError:
        logger.warning("health check: database unreachable", exc_info=True)
        return False


def _redis_ok() -> bool:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1, **settings.REDIS_TLS_OPTIONS
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        logger.warning("health check: redis unreachable", exc_info=True)
        return False
    finally:
        client.close()


def _storage_ok() -> bool:
    """Write, read back and delete a small object: reachable is not enough, it must take files."""
    name = f"readyz/{uuid.uuid4().hex}"
    try:
        saved = default_storage.save(name, ContentFile(b"ready"))
        try:
            with default_storage.open(saved) as probe:
                return bool(probe.read() == b"ready")
        finally:
            default_storage.delete(saved)
    except Exception:
        # Any backend's failure (a disk, a bucket) means the same thing here: not ready.
        logger.warning("readiness check: file storage unusable", exc_info=True)
        return False


_migrations_applied = False


def _migrations_ok() -> bool:
    """True once this code's every migration is recorded as applied in the database.

    Remembered once true: a running process's code does not change, and migrations are not
    unapplied under it (a rollback is a new deployment, hence new processes).
    """
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations_applied = not plan
    return _migrations_applied


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers requests. Asks nothing of the services behind it, so a
    database or Redis outage never gets healthy web processes restarted (see `readyz`)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness, polled by load balancers and `make run`: 200 when PostgreSQL, Redis and file
    storage answer and every migration is applied; otherwise 503 naming what is missing."""
    checks: dict[str, str] = {}
    database = _database_ok()
    checks["database"] = "ok" if database else "unavailable"
    checks["redis"] = "ok" if _redis_ok() else "unavailable"
    checks["storage"] = "ok" if _storage_ok() else "unavailable"
    if not database:
        checks["migrations"] = "unknown"
    else:
        try:
            checks["migrations"] = "ok" if _migrations_ok() else "unavailable"
        except DatabaseError:
            logger.warning("readiness check: migrations unreadable", exc_info=True)
            checks["migrations"] = "unknown"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


# While Redis or the broker is down, a page that needs them asks to be retried after this long.
RETRY_AFTER_SECONDS = 60
# Errors that mean a server the page needs is not answering, not that the code is wrong.
OUTAGES: tuple[type[BaseException], ...] = (redis.RedisError, kombu.exceptions.OperationalError)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 with Retry-After when what broke is Redis (or the broker) not answering.

    Sessions and the lockout live in PostgreSQL, so most pages work without Redis; this is the
    answer of the few that cannot (docs/security.md#redis-down). Django calls this inside its
    `except` block, so the exception being handled is the one that reached it.
    """
    # No context processors: whatever broke may be what they need.
    from django.template import loader

    if isinstance(sys.exception(), OUTAGES):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)
