"""Periodic work of the accounts app (declared in settings.CELERY_BEAT_SCHEDULE, in UTC)."""

from __future__ import annotations

from celery import shared_task

from accounts import links, lockout


@shared_task
def prune_sign_in_records() -> int:
    """Delete failed sign-ins older than the lockout window and sign-in records older than
    SIGN_IN_LOG_DAYS. Safe to run twice: it deletes by age only."""
    return lockout.prune()


@shared_task
def prune_link_tokens() -> int:
    """Daily: forget link tokens that expired over 30 days ago (links.KEEP_AFTER_EXPIRY). Until
    then an old link still gets "This link has expired" rather than "does not work" (and is not
    counted as a guess). Safe to run twice: it deletes by age only."""
    return links.prune()
