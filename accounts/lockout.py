"""The lockout on django-axes: one count of failures for every way in, per account and per address.

Failures are submitted credentials only: wrong passwords (the app's sign-in and so the admin's,
which redirects there), wrong second-step codes and guessed password-reset links posted with a
new password. Opening a page (a GET) never counts, since any page can make a visitor's browser
open any address of this site (an <img>). An account is locked after
LOGIN_FAILURES_PER_USER of them, an address after LOGIN_FAILURES_PER_IP, both within
LOGIN_LOCKOUT_SECONDS of the latest failure (axes' cool-off: a failure during a lockout extends it).

Axes compares every lockout parameter with one limit; `ClinicAxesHandler` scales the address's
count so the two limits apply exactly (see `get_failures`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clinic.redaction import redact_path

LOCKED_MESSAGE = (
    "Too many unsuccessful sign-ins. Try again in 15 minutes, or ask the clinic administrator "
    "to unlock your account."
)


def username_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account an attempt names, normalised as sign-in compares emails (case-insensitively),
    so that `Nurse@…` and `nurse@…` count against one account."""
    value = (credentials or {}).get("username")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("username")
    return str(value).strip().lower()[:254] if value else None


class ClinicAxesHandler(AxesDatabaseHandler):  # type: ignore[misc]  # axes ships no types
    """Axes' database handler with a separate limit for the address.

    Axes locks when `get_failures` reaches AXES_FAILURE_LIMIT (the per-account limit, 5). The
    address's failures are scaled by per-account / per-address limits (5/20), rounded down, so
    they reach 5 exactly when the address has 20: `floor(n * 5 / 20) >= 5` iff `n >= 20`.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        # One queryset per AXES_LOCKOUT_PARAMETERS entry: ["username", "ip_address"].
        by_account, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if username_of(request, credentials) is None:
            by_account = 0  # attempts naming no account (a mangled reset link) share no count
        scaled = by_address * settings.LOGIN_FAILURES_PER_USER // settings.LOGIN_FAILURES_PER_IP
        return max(by_account, scaled)


def client_str(
    username: str, ip_address: str, user_agent: str, path_info: Any, request: HttpRequest
) -> str:
    """How axes names an attempt in its log (AXES_CLIENT_STR_CALLABLE): the path only, with a
    link's token cut to its prefix (a guessed reset link is a failure, and its path carries the
    token; clinic.redaction). Axes would mask the account and the address anyway."""
    if isinstance(path_info, (tuple, list)):
        path_info = path_info[0] if path_info else ""
    return f'{{path_info: "{redact_path(str(path_info or ""))}"}}'


def record_failure(request: HttpRequest, username: str | None) -> None:
    """A failed attempt that did not go through `authenticate` (a wrong code, a guessed link).

    Sent as Django's `user_login_failed`, the signal axes already counts; if it reaches a limit,
    axes flags the request and its middleware answers with `lockout_response`.
    """
    user_login_failed.send(sender=__name__, credentials=get_credentials(username), request=request)


def is_locked(request: HttpRequest, username: str | None) -> bool:
    return not AxesProxyHandler.is_allowed(request, get_credentials(username))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The page of a refused attempt (AXES_LOCKOUT_CALLABLE): the same words on every way in."""
    return render(request, "accounts/locked_out.html", {"message": LOCKED_MESSAGE}, status=429)


def locked_accounts() -> list[dict[str, Any]]:
    """Accounts and addresses over their limit now: what a clinic admin may unlock."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    accounts = (
        recent.exclude(username__isnull=True)
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.LOGIN_FAILURES_PER_USER)
        .order_by("username")
    )
    addresses = (
        recent.exclude(ip_address__isnull=True)
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.LOGIN_FAILURES_PER_IP)
        .order_by("ip_address")
    )
    return [
        *({"username": row["username"], "failures": row["failures"]} for row in accounts),
        *({"ip_address": row["ip_address"], "failures": row["failures"]} for row in addresses),
    ]


def unlock(*, username: str = "", ip_address: str = "") -> int:
    """Forget the failures of an account or of an address; returns how many rows went."""
    if username:
        return int(AxesProxyHandler.reset_attempts(username=username.strip().lower()))
    if ip_address:
        return int(AxesProxyHandler.reset_attempts(ip_address=ip_address.strip()))
    return 0


def forget_account_failures(username: str) -> int:
    """After a complete sign-in: the account's failures go, the address's count stays."""
    return int(AccessAttempt.objects.filter(username=username.lower()).delete()[0])


def prune(now: Any = None) -> int:
    """Delete failures older than the cool-off (they no longer count) and old sign-in records."""
    from axes.models import AccessLog

    now = now or timezone.now()
    failures = AccessAttempt.objects.filter(attempt_time__lt=now - settings.AXES_COOLOFF_TIME)
    removed = int(failures.delete()[0])
    old_logs = AccessLog.objects.filter(
        attempt_time__lt=now - dt.timedelta(days=settings.SIGN_IN_LOG_DAYS)
    )
    return removed + int(old_logs.delete()[0])
