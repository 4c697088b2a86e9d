"""Celery tasks of the outbox: they take ids only and are safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from clinic.celery import enqueue_on_commit
from notifications import services

BATCH = 50
CLAIM = 1000


@shared_task
def dispatch_due() -> int:
    """Every minute (beat, UTC): claim due messages and hand their ids to sending tasks.

    A backlog larger than one claim continues at once in a follow-up task instead of waiting
    for the next minute.
    """
    ids = services.claim_due(CLAIM)
    for start in range(0, len(ids), BATCH):
        send_messages.delay(ids[start : start + BATCH])
    if len(ids) == CLAIM:
        dispatch_due.delay()
    return len(ids)


@shared_task(
    time_limit=settings.NOTIFICATIONS_SENDING_TIMEOUT,
    # The soft limit stops a batch in time for it to return cleanly (services.send_batch), every
    # outcome so far recorded. With a short hard limit (the fault tests use 10 s) ten seconds of
    # margin would leave a one-second soft limit, which a loaded machine overruns mid-batch; a
    # quarter of the limit, at least a second, is margin enough there.
    soft_time_limit=settings.NOTIFICATIONS_SENDING_TIMEOUT
    - max(1, min(10, settings.NOTIFICATIONS_SENDING_TIMEOUT // 4)),
)
def send_messages(message_ids: list[int]) -> dict[str, int]:
    """Send a claimed batch (services.send_batch): one SMTP connection for its emails."""
    return services.send_batch(message_ids)


def dispatch_soon() -> None:
    """After a booking commits, confirmations need not wait for the next minute."""
    enqueue_on_commit(dispatch_due)


@shared_task
def prune_webhook_receipts() -> int:
    """Daily (beat): forget idempotency tokens older than a week; Twilio retries within hours."""
    return services.prune_webhook_receipts()
