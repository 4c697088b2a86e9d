"""Account workflows: self sign-up with email verification, invitations, password resets.

Two ways in, one rule: an account becomes usable only once its email address is proven, and its
password is chosen only by whoever holds the link sent to that address. Self sign-up proves it with
the verification link; an invitation proves it because the clinic sent the link to that address.
Neither path may tell a stranger whether an address already has an account (self sign-up and the
password-reset form answer the same either way), and no link carries an email or a name: each
carries a random single-use token whose SHA-256 alone is stored (accounts.links).

Self sign-up asks for no password: the account is created inactive with an unusable password, and
the password is chosen on the page the verification link opens. Someone who signs up with another
person's address ("pre-hijacking") therefore never knows a password for the account that the
owner later activates. Opening a link (GET) changes nothing, so email link scanners consume
nothing; the page's form (POST) uses the link and does what it is for, all at once.

The emails are outbox rows written in the action's transaction and sent by the worker, which
mints their tokens when it sends them (accounts.emails).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from accounts import emails, language, links
from accounts.links import LinkUnavailable
from accounts.models import (
    INVITABLE_STAFF_ROLES,
    Invitation,
    LinkToken,
    PatientProfile,
    Role,
    TokenPurpose,
    User,
)
from locations.models import Location

VERIFY_HOURS = emails.VERIFY_HOURS
INVITATION_LIFETIME = dt.timedelta(days=7)
# One refusal for every link of an account email (unknown, expired, used), with its reason.
InvitationUnavailable = LinkUnavailable


class InvalidLink(Exception):
    """The verification link was altered, truncated or names no pending patient."""


class LinkExpired(InvalidLink):
    """The verification link is genuine but older than VERIFY_MAX_AGE."""


class AlreadyVerified(Exception):
    """The link is fine but the account was verified before: the person should simply sign in."""


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
    """Create an inactive patient and plan the verification email; None if the email was taken.

    A taken address must not be revealed to whoever typed it (account enumeration), so the caller
    answers the same way in both cases and the owner of the address is told by email instead.
    No password is hashed in either branch (the new account's is unusable until the link is used),
    and both branches write one outbox row, so neither takes noticeably longer.
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
                emails.plan_verification(user)
        except IntegrityError:
            # Someone registered the same address a moment ago (double submit, two tabs).
            existing = User.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
        else:
            return user
    _tell_owner_of_taken_email(existing)
    return None


def _tell_owner_of_taken_email(user: User) -> None:
    """A patient who never verified gets a fresh link; anyone else a "someone tried" notice.

    A password reset ignores inactive accounts, so pointing an unverified patient at it would
    leave them stuck; a new verification link is what they actually need.
    """
    with transaction.atomic():
        if emails.awaits_verification(user):
            emails.plan_verification(user)
        else:
            emails.plan_account_exists(user)


def resend_verification(email: str) -> None:
    """Plan a new link if the address belongs to a patient still waiting; otherwise do nothing.

    The caller answers the same way whatever happens here, so this reveals nothing either.
    """
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is not None and emails.awaits_verification(user):
        with transaction.atomic():
            emails.plan_verification(user)


def _verification_link(token: str) -> LinkToken:
    try:
        link = links.find(TokenPurpose.VERIFY_EMAIL, token)
    except LinkUnavailable as exc:
        raise InvalidLink from exc
    if link.user is None or link.user.role != Role.PATIENT:
        raise InvalidLink
    return link


def _check_verification(link: LinkToken, user: User) -> None:
    """A verified account first (its every link says so), then the link's own expiry."""
    if user.is_active or not emails.awaits_verification(user) or link.used_at is not None:
        raise AlreadyVerified
    if link.expires_at <= timezone.now():
        raise LinkExpired


def pending_patient(token: str) -> User:
    """The patient a verification link may still activate, for the "choose your password" page.

    Read only: opening the link changes nothing, so a mail scanner that follows it uses up
    nothing. Raises like verify_email would, so the page can say at once what is wrong.
    """
    link = _verification_link(token)
    user = link.user
    assert user is not None  # _verification_link
    _check_verification(link, user)
    return user


def verify_email(token: str, *, password: str) -> User:
    """Mark the email as proven, set the password chosen on the link's page, and activate.

    The link is checked again (it may have expired since the page was opened) and used with a
    conditional update, as is the profile's `email_verified_at`, so a double submit activates
    once; a patient who was verified and later deactivated by the clinic is never switched back
    on, nor given a new password, by an old link (any of their links: once the address is proven,
    every other link of theirs answers "already confirmed"). Whatever password the account had
    before (none, for accounts made by `register_patient`) is replaced.
    """
    with transaction.atomic():
        link = _verification_link(token)
        assert link.user_id is not None  # _verification_link
        user = User.objects.select_for_update().get(pk=link.user_id)
        _check_verification(link, user)
        now = timezone.now()
        try:
            links.use(link, now)
        except LinkUnavailable as exc:
            raise AlreadyVerified from exc
        claimed = PatientProfile.objects.filter(user=user, email_verified_at__isnull=True).update(
            email_verified_at=now
        )
        if claimed != 1:
            raise AlreadyVerified
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
    return user


# --- Invitations ---------------------------------------------------------------------------------


def create_invitation(
    *,
    email: str,
    first_name: str,
    location: Location | None,
    last_name: str = "",
    invited_by: User,
    role: Role = Role.PATIENT,
) -> Invitation:
    """Store an invitation and plan its email in the same transaction.

    The link's token is minted when the email is sent, and only its hash is stored. A staff
    invitation carries the role the account will have; only the roles of INVITABLE_STAFF_ROLES
    (never a superuser) can be given this way.
    """
    if role != Role.PATIENT and role not in INVITABLE_STAFF_ROLES:
        raise ValueError(f"{role!r} cannot be given by an invitation")
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=User.objects.normalize_email(email).lower(),
            first_name=first_name,
            last_name=last_name,
            role=role,
            location=location,
            invited_by=invited_by,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        emails.plan_invitation(invitation)
    return invitation


def _invitation_link(token: str) -> LinkToken:
    """The link behind an invitation token, or InvitationUnavailable saying why it cannot be
    used: the invitation (used with another of its links, expired) and the link itself."""
    link = links.find(TokenPurpose.INVITATION, token)
    invitation = link.invitation
    assert invitation is not None  # link_token_names_its_subject
    if invitation.used_at is not None:
        raise InvitationUnavailable(InvitationUnavailable.USED)
    links.check(link)
    if invitation.expires_at <= timezone.now():
        raise InvitationUnavailable(InvitationUnavailable.EXPIRED)
    return link


def usable_invitation(token: str) -> Invitation:
    """The invitation behind a link, or InvitationUnavailable saying why it cannot be used."""
    invitation = _invitation_link(token).invitation
    assert invitation is not None
    return invitation


def email_has_account(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def _claim(link: LinkToken, invitation: Invitation, now: dt.datetime) -> None:
    """Use the link and the invitation once: conditional UPDATEs whose row counts are checked."""
    links.use(link, now)
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
    link = _invitation_link(token)
    invitation = link.invitation
    assert invitation is not None
    if invitation.is_for_staff:
        raise InvitationUnavailable(InvitationUnavailable.UNKNOWN)
    if email_has_account(invitation.email):
        raise EmailAlreadyRegistered
    now = timezone.now()
    try:
        with transaction.atomic():
            _claim(link, invitation, now)
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
    link = _invitation_link(token)
    invitation = link.invitation
    assert invitation is not None
    if not invitation.is_for_staff:
        raise InvitationUnavailable(InvitationUnavailable.UNKNOWN)
    if email_has_account(invitation.email):
        raise EmailAlreadyRegistered
    now = timezone.now()
    try:
        with transaction.atomic():
            _claim(link, invitation, now)
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


# --- Password reset ------------------------------------------------------------------------------


def request_password_reset(email: str) -> int:
    """Plan a reset email for each active account with a password at this address.

    The caller answers the same whether or not one exists (no account enumeration), and the
    request does the same work either way, so that its time does not tell a known address: one
    outbox row written and committed, one wake-up of the dispatcher. For an address with no such
    account the row is about no account, and the worker skips it; the email, if any, goes out
    from the worker, so a slow or unreachable broker or mail server slows both alike. Returns
    how many were planned (for the admin).
    """
    planned = 0
    with transaction.atomic():
        for user in User.objects.filter(email__iexact=email.strip(), is_active=True):
            if emails.can_reset_password(user):
                emails.plan_password_reset(user)
                planned += 1
        if not planned:
            emails.plan_password_reset(None)
    return planned


def reset_link(user: User | None, token: str) -> LinkToken:
    """The reset link for `user` (the account its address names), or LinkUnavailable: UNKNOWN for
    a token that is not a reset link of this account (a guess), USED or EXPIRED otherwise."""
    link = links.find(TokenPurpose.PASSWORD_RESET, token)
    if user is None or link.user_id != user.pk:
        raise LinkUnavailable(LinkUnavailable.UNKNOWN)
    links.check(link)
    if not emails.can_reset_password(user):
        raise LinkUnavailable(LinkUnavailable.USED)
    return link


def reset_password(user: User, token: str, password: str) -> User:
    """Set the password chosen on a reset link's page, using the link exactly once.

    The account row is locked first, then its links (one order, as everywhere an account and its
    links are written): of two submissions at once, of the same link or of two reset emails, the
    first uses its link and voids every other unused reset link of the account; the second finds
    its link used and changes nothing. Sessions signed in with the old password end with it
    (Django checks the password's hash in each session).
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        link = reset_link(locked, token)
        now = timezone.now()
        links.use(link, now)
        links.void_siblings(link, now)
        locked.set_password(password)
        locked.save(update_fields=["password"])
    return locked
