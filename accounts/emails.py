"""Account emails through the outbox: planned with the action, decided and signed when sent.

Registration (the verification link, or the "someone tried to register your address" notice),
invitations and password resets are outbox rows (notifications.Message) written in the same
transaction as the action: the kind and what it is about (`user:<id>` or `invitation:<id>`),
ids only in the context, no address, no text, no token. The worker is woken when that
transaction commits (beat's minute is only the safety net), and at send time the resolvers below
read the account or invitation as it is then, mint the link's single-use token (accounts.links;
its hash alone is stored) and render the subject / text / HTML triplet. The raw token is in the
delivered email only: the row's record of what went out shows its first characters.

Delivery is at least once (notifications.services.send_batch): a second delivery carries a
second, equally valid token. A message that no longer applies (the account was verified or
removed, the invitation used or expired, the account deactivated) is not sent, with the reason.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import language, links
from accounts.models import Invitation, PatientProfile, Role, TokenPurpose, User
from notifications import registry
from notifications import services as outbox
from notifications.models import Channel, Message
from notifications.registry import Resolved, Skip
from notifications.tasks import dispatch_soon


class Kind(models.TextChoices):
    """The outbox kinds of account emails, and how staff pages name them."""

    VERIFY_EMAIL = "verify_email", "Email confirmation link"
    ACCOUNT_EXISTS = "account_exists", "Notice: this address already has an account"
    INVITATION = "invitation", "Invitation to create an account"
    PASSWORD_RESET = "password_reset", "Password reset link"


VERIFY_HOURS = 48
VERIFY_LIFETIME = dt.timedelta(hours=VERIFY_HOURS)


def password_reset_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


# --- Planning (inside the action's transaction) --------------------------------------------------


def _plan(kind: str, about: str, pk: int | None) -> Message:
    message = outbox.enqueue(
        channel=Channel.EMAIL,
        kind=kind,
        group=f"{about}:{pk}",
        send_at=timezone.now(),
        context={about: pk},
    )
    dispatch_soon()  # within seconds, once the transaction commits
    return message


def plan_verification(user: User) -> Message:
    return _plan(Kind.VERIFY_EMAIL, "user", user.pk)


def plan_account_exists(user: User) -> Message:
    return _plan(Kind.ACCOUNT_EXISTS, "user", user.pk)


def plan_invitation(invitation: Invitation) -> Message:
    return _plan(Kind.INVITATION, "invitation", invitation.pk)


def plan_password_reset(user: User | None) -> Message:
    """None: a reset asked for an address with no account that may reset its password. The row
    is written all the same (the worker skips it), so that a request for a known address does
    no more work than one for an unknown address (accounts.services.request_password_reset)."""
    return _plan(Kind.PASSWORD_RESET, "user", user.pk if user is not None else None)


# --- Resolving (when the worker sends) -----------------------------------------------------------


def awaits_verification(user: User) -> bool:
    """A patient who signed up and has not used a verification link yet."""
    return (
        user.role == Role.PATIENT
        and not user.is_active
        and PatientProfile.objects.filter(user=user, email_verified_at__isnull=True).exists()
    )


def can_reset_password(user: User) -> bool:
    """As Django's PasswordResetForm: active accounts with a password of their own."""
    return user.is_active and user.has_usable_password()


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _user(message: Message) -> User:
    user = User.objects.filter(pk=message.context.get("user")).first()
    if user is None:
        raise Skip("not sent: the account no longer exists")
    return user


def _email(
    template_prefix: str,
    to: str,
    context: dict[str, Any],
    token: str | None = None,
    *,
    reader: User | None = None,
) -> Resolved:
    """The subject / text / HTML triplet; texts carry no clinical detail. They are written in
    the reader's language as it is when sent (a patient's profile; English for staff and for an
    invitation, whose reader has not chosen yet)."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    code = language.of_patient(reader) if reader is not None else settings.LANGUAGE_CODE
    with translation.override(code):
        subject = render_to_string(f"{template_prefix}_subject.txt", context)
        return Resolved(
            recipient=to,
            subject=" ".join(subject.split()),
            body_text=render_to_string(f"{template_prefix}_body.txt", context),
            body_html=render_to_string(f"{template_prefix}_body.html", context),
            secrets=(token,) if token else (),
        )


def resolve_verification(message: Message) -> Resolved:
    user = _user(message)
    if not awaits_verification(user):
        raise Skip("not sent: the email address is already confirmed")
    token = links.mint(
        TokenPurpose.VERIFY_EMAIL, user=user, expires_at=timezone.now() + VERIFY_LIFETIME
    )
    return _email(
        "accounts/email/verify",
        user.email,
        {
            "first_name": user.first_name,
            "link": _absolute(reverse("accounts:verify_email", args=[token])),
            "hours": VERIFY_HOURS,
        },
        token,
        reader=user,
    )


def resolve_account_exists(message: Message) -> Resolved:
    user = _user(message)
    return _email(
        "accounts/email/already_registered",
        user.email,
        {
            "first_name": user.first_name,
            "login_link": _absolute(reverse("accounts:login")),
            "reset_link": _absolute(reverse("accounts:password_reset")),
        },
        reader=user,
    )


def resolve_invitation(message: Message) -> Resolved:
    invitation = (
        Invitation.objects.select_related("location")
        .filter(pk=message.context.get("invitation"))
        .first()
    )
    now = timezone.now()
    if invitation is None:
        raise Skip("not sent: the invitation no longer exists")
    if invitation.used_at is not None:
        raise Skip("not sent: the invitation was already used")
    if invitation.expires_at <= now:
        raise Skip("not sent: the invitation has expired")
    # The link lasts as long as the invitation, however late the email goes out.
    token = links.mint(
        TokenPurpose.INVITATION, invitation=invitation, expires_at=invitation.expires_at
    )
    template = "staff_invitation" if invitation.is_for_staff else "invitation"
    return _email(
        f"accounts/email/{template}",
        invitation.email,
        {
            "first_name": invitation.first_name,
            "link": _absolute(reverse("accounts:accept_invitation", args=[token])),
            "days": max(1, math.ceil((invitation.expires_at - now) / dt.timedelta(days=1))),
            "location": invitation.location,
            "role": invitation.get_role_display(),
        },
        token,
    )


NO_ACCOUNT = "not sent: no account at the address asked for may reset its password"


def resolve_password_reset(message: Message) -> Resolved:
    if message.context.get("user") is None:
        raise Skip(NO_ACCOUNT)
    user = _user(message)
    if not can_reset_password(user):
        raise Skip("not sent: the account is not active")
    lifetime = password_reset_lifetime()
    # The address names the account too, so a guessed link counts against it in the lockout.
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = links.mint(TokenPurpose.PASSWORD_RESET, user=user, expires_at=timezone.now() + lifetime)
    return _email(
        "accounts/email/password_reset",
        user.email,
        {
            "first_name": user.first_name,
            "link": _absolute(reverse("accounts:password_reset_confirm", args=[uid, token])),
            "hours": round(lifetime / dt.timedelta(hours=1)),
        },
        token,
        reader=user,
    )


def register() -> None:
    """Called from AccountsConfig.ready: this app resolves its own kinds."""
    for kind, resolver in (
        (Kind.VERIFY_EMAIL, resolve_verification),
        (Kind.ACCOUNT_EXISTS, resolve_account_exists),
        (Kind.INVITATION, resolve_invitation),
        (Kind.PASSWORD_RESET, resolve_password_reset),
    ):
        registry.register(kind, resolver, str(kind.label))
