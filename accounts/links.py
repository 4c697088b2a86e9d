"""Single-use link tokens of account emails: minted when the email is sent, stored by hash.

A token is `secrets.token_urlsafe(32)` (256 bits, URL- and slug-safe); the database keeps its
SHA-256 only (models.LinkToken), so neither a copy of the database nor the outbox's record of
what was sent (which shows the token's first characters) opens anything. A link is looked up by
the hash of what the URL carries, with its purpose, so a password-reset token does not open an
invitation.

Sending an email again (at least once: a retry, a second request) mints a new token; the older
ones stay valid until they expire or, for password resets, until one of them is used (using one
voids its siblings). Verification and invitation links need no such rule: using one verifies the
account or uses the invitation, which every sibling then finds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone

from accounts.models import Invitation, LinkToken, TokenPurpose, User


class LinkUnavailable(Exception):
    """The link cannot be used; `reason` says why, so the page can say what to do."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint(
    purpose: TokenPurpose,
    *,
    expires_at: dt.datetime,
    user: User | None = None,
    invitation: Invitation | None = None,
) -> str:
    """A fresh token for a link of `purpose`; only its hash is stored. Returns the raw token,
    which the caller puts in the email and nowhere else."""
    token = secrets.token_urlsafe(32)
    LinkToken.objects.create(
        purpose=purpose,
        token_hash=hash_token(token),
        user=user,
        invitation=invitation,
        expires_at=expires_at,
    )
    return token


def find(purpose: TokenPurpose, token: str) -> LinkToken:
    """The link behind a token, whether or not it can still be used; UNKNOWN if none."""
    link = (
        LinkToken.objects.select_related("user", "invitation__location")
        .filter(purpose=purpose, token_hash=hash_token(token))
        .first()
    )
    if link is None:
        raise LinkUnavailable(LinkUnavailable.UNKNOWN)
    return link


def check(link: LinkToken, now: dt.datetime | None = None) -> None:
    """Raise USED or EXPIRED if the link can no longer be used (read only)."""
    now = now or timezone.now()
    if link.used_at is not None:
        raise LinkUnavailable(LinkUnavailable.USED)
    if link.expires_at <= now:
        raise LinkUnavailable(LinkUnavailable.EXPIRED)


def use(link: LinkToken, now: dt.datetime) -> None:
    """Use the link once: a conditional UPDATE whose row count is checked, so of two clicks at
    once (two transactions) exactly one gets the row; the other waits for it, finds `used_at`
    set and is refused. Call inside the transaction of what the link does."""
    used = LinkToken.objects.filter(pk=link.pk).usable(now).update(used_at=now)
    if used != 1:
        raise LinkUnavailable(LinkUnavailable.USED)
    link.used_at = now


def void_siblings(link: LinkToken, now: dt.datetime) -> int:
    """The other unused links of the same purpose and user stop working (a password was just
    reset: an older reset email must not change it again)."""
    return (
        LinkToken.objects.filter(purpose=link.purpose, user=link.user, used_at__isnull=True)
        .exclude(pk=link.pk)
        .update(used_at=now)
    )


# How long an expired link is still recognised ("This link has expired", not a guess).
KEEP_AFTER_EXPIRY = dt.timedelta(days=30)


def prune(now: dt.datetime | None = None) -> int:
    """Delete the tokens that expired more than KEEP_AFTER_EXPIRY ago."""
    before = (now or timezone.now()) - KEEP_AFTER_EXPIRY
    return LinkToken.objects.filter(expires_at__lt=before).delete()[0]
