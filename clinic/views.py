"""Project-level views: the health check and the friendly error pages."""

from __future__ import annotations

import logging
import sys

import kombu.exceptions
import redis
from django.conf import settings
from django.db import DatabaseError, connection
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
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        logger.warning("health check: redis unreachable", exc_info=True)
        return False
    finally:
        client.close()


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Load balancers and `make run` poll this: 200 when PostgreSQL and Redis both answer."""
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            **{name: "ok" if ok else "unavailable" for name, ok in checks.items()},
        },
        status=200 if healthy else 503,
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
    answer of the few that cannot (docs/_incoming/redis-proxy.md). Django calls this inside its
    `except` block, so the exception being handled is the one that reached it.
    """
    # No context processors: whatever broke may be what they need.
    from django.template import loader

    if isinstance(sys.exception(), OUTAGES):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)
