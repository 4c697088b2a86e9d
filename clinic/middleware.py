"""Security headers Django 5.2 does not set itself: a Content-Security-Policy without inline
scripts, and a Permissions-Policy that switches off what the app never uses. And the guard that
refuses control characters in submitted fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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


# Control characters (Unicode's Cc) but tab, line feed and carriage return: nothing a person types
# into a form. PostgreSQL refuses NUL in text outright; the others would be stored unseen.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def checks_its_own_input(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Leave a view out of `ControlCharactersMiddleware`: one that answers bad input its own way
    (the FHIR API answers with an OperationOutcome) and stores none of it."""
    view.checks_its_own_input = True  # type: ignore[attr-defined]  # read by the middleware
    return view


def has_control_characters(request: HttpRequest) -> bool:
    """In a name or a value of the query string or of a posted form, or in an uploaded file's
    name (the file's content is its own: an image is binary)."""
    fields = [*request.GET.lists()]
    if request.method == "POST":
        fields += request.POST.lists()
        fields += [
            (name, [upload.name or "" for upload in uploads])
            for name, uploads in request.FILES.lists()
        ]
    return any(
        CONTROL_CHARACTERS.search(text) for name, values in fields for text in (name, *values)
    )


class ControlCharactersMiddleware:
    """A 400 page in people's words for a control character in any submitted field, whichever
    view it is for and before that view (or the CSRF check) reads the form: one guard for every
    form instead of a check in each, and never a server error from the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view, "checks_its_own_input", False) or not has_control_characters(request):
            return None
        return render(request, "bad_characters.html", status=400)
