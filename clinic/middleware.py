"""Security headers Django 5.2 does not set itself: a Content-Security-Policy without inline
scripts, and a Permissions-Policy that switches off what the app never uses."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Inline style attributes remain (Bootstrap components, the admin); never inline scripts.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        return response


class RequestTimingMiddleware:
    """Benchmarks only (REQUEST_TIMING_LOG set): append each request's view, server time and
    number of queries to a per-process file; bench.pages reads them. Off in normal running."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        import os

        from django.conf import settings
        from django.core.exceptions import MiddlewareNotUsed

        if not settings.REQUEST_TIMING_LOG:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.path = f"{settings.REQUEST_TIMING_LOG}/timing-{os.getpid()}.tsv"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        import time

        from django.db import connection

        count = [0]

        def counter(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
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
