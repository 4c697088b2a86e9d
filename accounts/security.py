"""Staged sign-in, the staff second factor on django-otp, the client address, idle time-out.

Staff sign in in two stages. The password alone does not log anyone in: it leaves a *pending*
user (id, backend, time) in the session, which every view sees as anonymous. `/mfa/` verifies
the second factor and only then calls `login()`, which rotates the session id. Django-otp alone
would log the user in first and mark the session verified later; a page that forgot to check
would then be open after the password only.

The authenticator is a django-otp `TOTPDevice`; the ten recovery codes are the `StaticToken`s
of a `StaticDevice`. Recovery codes are kept hashed (`recovery_token`): a copy of the database
holds no working code. Both devices keep django-otp's throttling (a wait that doubles after each
wrong code), and every wrong code also counts as a failed sign-in in the lockout
(accounts.lockout).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

LAST_SEEN_KEY = "last_seen"
PENDING_KEY = "pending_sign_in"
# A password typed and left at the second step counts for this long.
PENDING_SECONDS = 5 * 60
RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "Authenticator"
RECOVERY_NAME = "Recovery codes"


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: X-Forwarded-For only through TRUSTED_PROXY_COUNT trusted proxies.

    Each trusted proxy appends the address it received the request from, so the client is the
    TRUSTED_PROXY_COUNT-th entry from the right; entries further left were written by the client
    and prove nothing. The header counts only on a connection from a trusted proxy
    (TRUSTED_PROXY_ADDRESSES), and only if the entries between it and the client are trusted
    proxies too: a client that reaches gunicorn directly is its own peer address, whatever it
    writes. Without trusted proxies (`make run`) only REMOTE_ADDR counts.
    django-ipware's proxy count is not used: it counts proxies as entries of the header and finds
    no address for one proxy that forwards a single entry.
    """
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops == 0 or not _is_trusted_proxy(peer):
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return peer  # the request did not pass through every proxy
    inner_proxies = forwarded[len(forwarded) - hops + 1 :]
    if not all(_is_trusted_proxy(address) for address in inner_proxies):
        return peer
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


def _is_trusted_proxy(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(network, strict=False)
        for network in settings.TRUSTED_PROXY_ADDRESSES
    )


# --- Pending sign-in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    user: User
    backend: str


def begin_second_factor(request: HttpRequest, user: User, backend: str) -> None:
    """The password (or an accepted staff invitation) passed: the user waits for the second step.

    The session id rotates here already, so an id planted before the password is worthless.
    """
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": backend,
        "since": time.time(),
        "hash": user.get_session_auth_hash(),
    }


def pending(request: HttpRequest) -> Pending | None:
    """The user between the password and the second factor, if still within PENDING_SECONDS and
    their password has not changed since."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict) or time.time() - data.get("since", 0) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(data.get("user") or 0), is_active=True).first()
    if user is None or not secrets.compare_digest(
        str(data.get("hash", "")), user.get_session_auth_hash()
    ):
        return None
    return Pending(user=user, backend=str(data["backend"]))


def complete_sign_in(
    request: HttpRequest, waiting: Pending, device: TOTPDevice | StaticDevice
) -> None:
    """The second factor passed: log in (a new session id) and mark the session verified."""
    request.session.pop(PENDING_KEY, None)
    login(request, waiting.user, backend=waiting.backend)
    otp_login(request, device)
    request.session[LAST_SEEN_KEY] = time.time()


# --- Devices -----------------------------------------------------------------------------------


def authenticator(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator shown at enrolment (the same one until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def enrol_with_key(user: User, hex_key: str) -> TOTPDevice:
    """A confirmed authenticator with a known key (demo staff, test factories)."""
    TOTPDevice.objects.filter(user=user).exclude(key=hex_key).delete()
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, key=hex_key, defaults={"name": AUTHENTICATOR_NAME, "confirmed": True}
    )
    return device


def recovery_token(code: str) -> str:
    """What a StaticToken stores for a recovery code: the first 16 hex digits of its SHA-256.

    Codes are compared after removing spaces and lower-casing, as people type them. 16 digits is
    StaticToken's length; existing codes were stored as full SHA-256 and keep working.
    """
    return hashlib.sha256("".join(code.split()).lower().encode()).hexdigest()[:16]


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_NAME, "confirmed": True}
    )
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    device.token_set.all().delete()
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=recovery_token(code)) for code in codes
    )
    return codes


@transaction.atomic
def confirm_enrolment(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a new authenticator with its first code; returns new recovery codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(_digits(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    return _new_recovery_codes(device.user)


def _digits(code: str) -> str:
    return "".join(code.split())


def is_authenticator_code(code: str) -> bool:
    code = _digits(code)
    return len(code) == 6 and code.isdigit()


@transaction.atomic
def verify(user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts the code: the authenticator for 6 digits (each step used once),
    otherwise an unused recovery code (deleted as it is used). Wrong codes feed each device's
    throttle; the caller counts them in the lockout."""
    if is_authenticator_code(code):
        device: TOTPDevice | StaticDevice | None = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        )
        token = _digits(code)
    else:
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        token = recovery_token(code)
    if device is not None and device.verify_token(token):
        return device
    return None
