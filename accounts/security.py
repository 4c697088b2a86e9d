"""Sign-in protection: lockout after repeated failures, the staff second factor, idle time-out."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone

from accounts import totp
from accounts.models import LoginFailure, RecoveryCode, StaffDevice, User

MFA_SESSION_KEY = "mfa_verified"
LAST_SEEN_KEY = "last_seen"


def client_ip(request: HttpRequest | None) -> str | None:
    # Behind the TLS proxy REMOTE_ADDR is the proxy; production sets the real address there
    # (gunicorn --forwarded-allow-ips), so REMOTE_ADDR is the only value trusted here.
    return request.META.get("REMOTE_ADDR") if request is not None else None


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def is_locked(username: str, ip: str | None) -> bool:
    """Locked after LOGIN_FAILURES_PER_USER failures for the account, or
    LOGIN_FAILURES_PER_IP from the address, within LOGIN_LOCKOUT_SECONDS."""
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    if recent.filter(username=username.lower()).count() >= settings.LOGIN_FAILURES_PER_USER:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= settings.LOGIN_FAILURES_PER_IP


def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=username.lower()[:254], ip=ip)


def clear_failures(username: str) -> int:
    return LoginFailure.objects.filter(username=username.lower()).delete()[0]


def locked_accounts() -> list[dict[str, object]]:
    return list(
        LoginFailure.objects.filter(at__gte=_window_start())
        .values("username")
        .annotate(failures=Count("id"))
        .filter(failures__gte=settings.LOGIN_FAILURES_PER_USER)
        .order_by("username")
    )


# --- Second factor ---------------------------------------------------------------------------


def device_for(user: User) -> StaffDevice:
    device, _ = StaffDevice.objects.get_or_create(user=user, defaults={"secret": totp.new_secret()})
    return device


def _hash(code: str) -> str:
    return hashlib.sha256("".join(code.split()).lower().encode()).hexdigest()


@transaction.atomic
def confirm_device(device: StaffDevice, code: str) -> list[str] | None:
    """Confirm enrolment with a first code; returns fresh recovery codes (shown once)."""
    step = totp.matching_step(device.secret, code)
    if step is None:
        return None
    device.confirmed_at = timezone.now()
    device.last_step = step
    device.save(update_fields=["confirmed_at", "last_step"])
    codes = [secrets.token_hex(5) for _ in range(10)]
    RecoveryCode.objects.filter(user=device.user).delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=device.user, code_hash=_hash(code)) for code in codes
    )
    return codes


@transaction.atomic
def verify(user: User, code: str) -> bool:
    """A current authenticator code (each used once) or an unused recovery code."""
    device = StaffDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.confirmed_at is None:
        return False
    step = totp.matching_step(device.secret, code, after=device.last_step)
    if step is not None:
        device.last_step = step
        device.save(update_fields=["last_step"])
        return True
    return bool(
        RecoveryCode.objects.filter(user=user, code_hash=_hash(code), used_at__isnull=True).update(
            used_at=timezone.now()
        )
    )
