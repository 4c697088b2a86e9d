"""Pages and responses that several audiences share: the question before a cancellation, a
calendar file."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from scheduling.models import Session


def cancel_confirmation(
    request: HttpRequest, session: Session, *, keep_url: str, desk: bool = False, **extra: Any
) -> HttpResponse:
    """The page that asks before a cancellation where JavaScript does not run (elsewhere the
    same question is a dialog): its GET changes nothing, its form posts the cancellation."""
    return render(
        request,
        "scheduling/cancel_confirm.html",
        {"session": session, "desk": desk, "action": request.path, "keep_url": keep_url, **extra},
    )


def ics_response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
