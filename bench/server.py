"""What only the benchmark server runs (bench/settings.py switches it on): per-request timings
and the reference pages every page is compared with. None of it is in the production path."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class RequestTimingMiddleware:
    """Append each request's view, server time and number of queries to a per-process file
    (bench.pages reads them), so the figures leave out the load generator and the network."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        folder = settings.REQUEST_TIMING_LOG  # type: ignore[misc]  # set by bench/settings.py
        self.path = f"{folder}/timing-{os.getpid()}.tsv"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = [0]

        def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            count[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        elapsed = (time.perf_counter() - started) * 1000
        match = getattr(request, "resolver_match", None)
        name = match.view_name if match else request.path
        with open(self.path, "a") as log:
            log.write(f"{name}\t{response.status_code}\t{elapsed:.3f}\t{count[0]}\n")
        return response


def _one_query() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def floor(request: HttpRequest) -> HttpResponse:
    """The site's layout for an anonymous visitor with one query."""
    return render(request, "bench/floor.html", {"value": _one_query()})


@login_required
def staff_floor(request: HttpRequest) -> HttpResponse:
    """The reference for staff pages: signed in (session, user, the staff middleware), the same
    layout with its navigation, and one query of its own. What a page costs beyond this is the
    page's own work."""
    return render(request, "bench/floor.html", {"value": _one_query()})


def bare_floor(request: HttpRequest) -> HttpResponse:
    """One query and two bytes of text, below any page: reported next to the floors."""
    _one_query()
    return HttpResponse("ok", content_type="text/plain")
