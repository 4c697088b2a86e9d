"""Staff sessions are verified by the second factor and end after 15 minutes idle (measured from
the last recorded activity, recorded to within STAFF_SEEN_RESOLUTION seconds)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from accounts import language
from accounts.security import LAST_SEEN_KEY


class StaffSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_clinic_staff:
            if not user.is_verified():
                # Staff are logged in only by the second step (accounts.security), which marks the
                # session verified; a session without that (one from before staged sign-in, say)
                # is ended, not trusted.
                logout(request)
                return redirect(f"{reverse('accounts:login')}?next={request.path}")
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_KEY, now)
            if now - last_seen > settings.STAFF_IDLE_SECONDS:
                logout(request)
                messages.info(request, "You were signed out after 15 minutes without activity.")
                return redirect(f"{reverse('accounts:login')}?next={request.path}")
            # Activity is recorded at most every STAFF_SEEN_RESOLUTION seconds (keep-alive always),
            # so a busy staff member's pages do not rewrite the session on every request.
            stale = (
                LAST_SEEN_KEY not in request.session
                or now - last_seen >= settings.STAFF_SEEN_RESOLUTION
            )
            if request.path == reverse("accounts:keep_alive") or (
                stale and request.path != reverse("accounts:session_status")
            ):
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class PatientLanguageMiddleware:
    """Applies the signed-in patient's stored language, over the cookie and the browser's.

    LocaleMiddleware (earlier) picked the language from the cookie or Accept-Language; once a
    patient is signed in, the language kept in their session (copied from their profile at
    sign-in, `accounts.language`) wins, and the cookie is set to it so that pages after signing
    out stay in it too. Staff pages are English only for now: staff get English whatever the
    cookie or the browser says.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        chosen: str | None = None
        if user is not None and user.is_authenticated:
            chosen = "en" if user.is_clinic_staff else language.of_session(request)
        if chosen is not None:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen is not None and user is not None and not user.is_clinic_staff:
            language.remember(request, response, chosen)
        return response
