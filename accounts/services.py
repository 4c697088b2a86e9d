"""Patient registration: self sign-up with email verification, and front-desk invitations.

Two ways in, one rule: an account becomes usable only once its email address is proven, and its
password is chosen only by whoever holds the link sent to that address. Self sign-up proves it with
a signed, expiring link; an invitation proves it because the front desk sent the link to that
address. Neither path may tell a stranger whether an address already has an account (self sign-up
answers "check your email" either way), and no link carries the patient's email or name:
verification links carry the opaque `public_id`, invitation links a random token whose SHA-256
alone is stored.

Self sign-up asks for no password: the account is created inactive with an unusable password, and
the password is chosen on the page the verification link opens. Someone who signs up with another
person's address ("pre-hijacking") therefore never knows a password for the account that the
owner later activates. Opening the link (GET) changes nothing, so email link scanners consume
nothing; the page's form (POST) verifies, sets the password and activates, all at once.

The emails are sent synchronously, after the rows are committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts import language
from accounts.models import INVITABLE_STAFF_ROLES, Invitation, PatientProfile, Role, User
from locations.models import Location

VERIFY_SALT = "accounts.registration.verify-email"
VERIFY_HOURS = 48
VERIFY_MAX_AGE = dt.timedelta(hours=VERIFY_HOURS)
INVITATION_LIFETIME = dt.timedelta(days=7)


class InvalidLink(Exception):
    """The verification link was altered, truncated or names no pending patient."""


class LinkExpired(InvalidLink):
    """The verification link is genuine but older than VERIFY_MAX_AGE."""


class AlreadyVerified(Exception):
    """The link is fine but the account was verified before: the person should simply sign in."""


class InvitationUnavailable(Exception):
    """The invitation link cannot be used; `reason` says why so the page can say what to do."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmailAlreadyRegistered(Exception):
    """The invited address already has an account; the invitation stays unused."""


@dataclass(frozen=True)
class PersonalDetails:
    """Who a person says they are when registering, validated and normalised by a form."""

    first_name: str
    last_name: str
    date_of_birth: dt.date


@dataclass(frozen=True)
class PatientDetails(PersonalDetails):
    """Personal details plus a new password: what an invited person types."""

    password: str = field(repr=False)


@dataclass(frozen=True)
class StaffDetails:
    """What an invited member of staff types: their name and a new password."""

    first_name: str
    last_name: str
    password: str = field(repr=False)


# --- Self sign-up --------------------------------------------------------------------------------


def register_patient(email: str, details: PersonalDetails) -> User | None:
    """Create an inactive patient and send the verification link; None if the email was taken.

    A taken address must not be revealed to whoever typed it (account enumeration), so the caller
    answers the same way in both cases and the owner of the address is told by email instead.
    No password is hashed in either branch (the new account's is unusable until the link is used),
    so the former dummy `make_password` call that evened out response times is no longer needed.
    """
    email = User.objects.normalize_email(email).lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User(
                    email=email,
                    first_name=details.first_name,
                    last_name=details.last_name,
                    role=Role.PATIENT,
                    is_active=False,
                )
                # Only the holder of the emailed link chooses the password (see verify_email).
                user.set_unusable_password()
                user.save()
                PatientProfile.objects.create(
                    user=user,
                    date_of_birth=details.date_of_birth,
                    # The language they registered in is the one they are written to in.
                    preferred_language=language.supported(translation.get_language()) or "",
                )
        except IntegrityError:
            # Someone registered the same address a moment ago (double submit, two tabs).
            existing = User.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
        else:
            send_verification(user)
            return user
    _tell_owner_of_taken_email(existing)
    return None


def _tell_owner_of_taken_email(user: User) -> None:
    """A patient who never verified gets a fresh link; anyone else a "someone tried" notice.

    Django's password reset ignores inactive accounts, so pointing an unverified patient at it
    would leave them stuck; a new verification link is what they actually need.
    """
    if _awaits_verification(user):
        send_verification(user)
    else:
        send_already_registered(user)


def _awaits_verification(user: User) -> bool:
    return (
        user.role == Role.PATIENT
        and not user.is_active
        and PatientProfile.objects.filter(user=user, email_verified_at__isnull=True).exists()
    )


def verification_token(user: User) -> str:
    """A signed, timestamped token carrying only the user's opaque public id."""
    return signing.TimestampSigner(salt=VERIFY_SALT).sign(str(user.public_id))


def send_verification(user: User) -> None:
    link = _absolute(reverse("accounts:verify_email", args=[verification_token(user)]))
    _send_email(
        "accounts/email/verify",
        user.email,
        {"first_name": user.first_name, "link": link, "hours": VERIFY_HOURS},
    )


def send_already_registered(user: User) -> None:
    _send_email(
        "accounts/email/already_registered",
        user.email,
        {
            "first_name": user.first_name,
            "login_link": _absolute(reverse("accounts:login")),
            "reset_link": _absolute(reverse("accounts:password_reset")),
        },
    )


def resend_verification(email: str) -> None:
    """Send a new link if the address belongs to a patient still waiting; otherwise do nothing.

    The caller answers the same way whatever happens here, so this reveals nothing either.
    """
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is not None and _awaits_verification(user):
        send_verification(user)


def _public_id_from(token: str) -> str:
    try:
        return signing.TimestampSigner(salt=VERIFY_SALT).unsign(token, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise InvalidLink from exc


def _patient_named_by(public_id: str, *, for_update: bool = False) -> User:
    users = User.objects.filter(public_id=public_id, role=Role.PATIENT)
    if for_update:
        users = users.select_for_update()
    user = users.first()
    if user is None or not PatientProfile.objects.filter(user=user).exists():
        raise InvalidLink
    return user


def pending_patient(token: str) -> User:
    """The patient a verification link may still activate, for the "choose your password" page.

    Read only: opening the link changes nothing, so a mail scanner that follows it uses up
    nothing. Raises like verify_email would, so the page can say at once what is wrong.
    """
    user = _patient_named_by(_public_id_from(token))
    if user.is_active or not _awaits_verification(user):
        raise AlreadyVerified
    return user


def verify_email(token: str, *, password: str) -> User:
    """Mark the email as proven, set the password chosen on the link's page, and activate.

    The token is checked again (it may have expired since the page was opened). The profile's
    `email_verified_at` is claimed with a conditional update, so a double submit activates once,
    and a patient who was verified and later deactivated by the clinic is never switched back on,
    nor given a new password, by an old link. Whatever password the account had before (none, for
    accounts made by `register_patient`) is replaced.
    """
    with transaction.atomic():
        user = _patient_named_by(_public_id_from(token), for_update=True)
        if user.is_active:
            raise AlreadyVerified
        claimed = PatientProfile.objects.filter(user=user, email_verified_at__isnull=True).update(
            email_verified_at=timezone.now()
        )
        if claimed != 1:
            raise AlreadyVerified
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
    return user


# --- Invitations ---------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    *,
    email: str,
    first_name: str,
    location: Location | None,
    invited_by: User,
    role: Role = Role.PATIENT,
) -> tuple[Invitation, str]:
    """Store an invitation under the hash of a fresh random token and email the link.

    The raw token is returned (for the link) and never stored: a copy of the database does not
    hold working links. A staff invitation carries the role the account will have; only the
    roles of INVITABLE_STAFF_ROLES (never a superuser) can be given this way.
    """
    if role != Role.PATIENT and role not in INVITABLE_STAFF_ROLES:
        raise ValueError(f"{role!r} cannot be given by an invitation")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=User.objects.normalize_email(email).lower(),
        first_name=first_name,
        role=role,
        location=location,
        invited_by=invited_by,
        token_hash=hash_token(token),
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    template = (
        "accounts/email/staff_invitation"
        if invitation.is_for_staff
        else "accounts/email/invitation"
    )
    _send_email(
        template,
        invitation.email,
        {
            "first_name": invitation.first_name,
            "link": _absolute(reverse("accounts:accept_invitation", args=[token])),
            "days": INVITATION_LIFETIME.days,
            "location": location,
            "role": invitation.get_role_display(),
        },
    )
    return invitation, token


def usable_invitation(token: str) -> Invitation:
    """The invitation behind a link, or InvitationUnavailable saying why it cannot be used."""
    invitation = (
        Invitation.objects.select_related("location").filter(token_hash=hash_token(token)).first()
    )
    if invitation is None:
        raise InvitationUnavailable(InvitationUnavailable.UNKNOWN)
    if invitation.used_at is not None:
        raise InvitationUnavailable(InvitationUnavailable.USED)
    if invitation.expires_at <= timezone.now():
        raise InvitationUnavailable(InvitationUnavailable.EXPIRED)
    return invitation


def email_has_account(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def _claim(invitation: Invitation, now: dt.datetime) -> None:
    """Use the invitation once: a conditional UPDATE whose row count is checked."""
    claimed = Invitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        raise InvitationUnavailable(InvitationUnavailable.USED)


def accept_invitation(token: str, details: PatientDetails) -> User:
    """Create the invited patient, active and verified, using the invitation exactly once.

    The invitation is claimed with a conditional UPDATE whose row count is checked, so a double
    submit or a second tab finds it used; everything happens in one transaction, so a failure
    (the address registered meanwhile) leaves the invitation unused.
    """
    invitation = usable_invitation(token)
    if invitation.is_for_staff:
        raise InvitationUnavailable(InvitationUnavailable.UNKNOWN)
    if email_has_account(invitation.email):
        raise EmailAlreadyRegistered
    now = timezone.now()
    try:
        with transaction.atomic():
            _claim(invitation, now)
            user = User.objects.create_user(
                email=invitation.email,
                password=details.password,
                first_name=details.first_name,
                last_name=details.last_name,
                role=Role.PATIENT,
                is_active=True,
            )
            PatientProfile.objects.create(
                user=user,
                date_of_birth=details.date_of_birth,
                preferred_location=invitation.location,
                email_verified_at=now,
                preferred_language=language.supported(translation.get_language()) or "",
            )
            Invitation.objects.filter(pk=invitation.pk).update(used_by=user)
    except IntegrityError as exc:
        # The only unique value we write is the email: it was registered a moment ago.
        raise EmailAlreadyRegistered from exc
    return user


def accept_staff_invitation(token: str, details: StaffDetails) -> User:
    """Create the invited member of staff with the invitation's role, using it exactly once.

    The account has a password but no second factor yet: the caller sends the person straight to
    enrolment, and nothing opens until that is done (accounts.security).
    """
    invitation = usable_invitation(token)
    if not invitation.is_for_staff:
        raise InvitationUnavailable(InvitationUnavailable.UNKNOWN)
    if email_has_account(invitation.email):
        raise EmailAlreadyRegistered
    now = timezone.now()
    try:
        with transaction.atomic():
            _claim(invitation, now)
            user = User.objects.create_user(
                email=invitation.email,
                password=details.password,
                first_name=details.first_name,
                last_name=details.last_name,
                role=invitation.role,
                is_active=True,
            )
            if invitation.location is not None:
                user.locations.add(invitation.location)
            Invitation.objects.filter(pk=invitation.pk).update(used_by=user)
    except IntegrityError as exc:
        raise EmailAlreadyRegistered from exc
    return user


# --- Email ---------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _send_email(template_prefix: str, to: str, context: dict[str, Any]) -> None:
    """Render a subject / text / HTML triplet and send it. Texts carry no clinical detail."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = "".join(render_to_string(f"{template_prefix}_subject.txt", context).splitlines())
    message = EmailMultiAlternatives(
        subject=subject.strip(),
        body=render_to_string(f"{template_prefix}_body.txt", context),
        to=[to],
    )
    message.attach_alternative(
        render_to_string(f"{template_prefix}_body.html", context), "text/html"
    )
    message.send()
