"""Writing, cancelling, claiming and sending outbox messages."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.backends import PermanentDeliveryError, TransientDeliveryError, deliver
from notifications.models import Channel, Message, MessageStatus

QUIET_STARTS = dt.time(21)
QUIET_ENDS = dt.time(8)


def defer_out_of_quiet_hours(when: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """No text message between 21:00 and 08:00 local: move it to 08:00 (PRODUCT.md 5)."""
    local = when.astimezone(zone)
    if local.time() >= QUIET_STARTS:
        morning = local.date() + dt.timedelta(days=1)
    elif local.time() < QUIET_ENDS:
        morning = local.date()
    else:
        return when
    return dt.datetime.combine(morning, QUIET_ENDS, tzinfo=zone).astimezone(dt.UTC)


def enqueue(
    *,
    channel: str,
    kind: str,
    group: str,
    recipient: str,
    send_at: dt.datetime,
    body_text: str,
    subject: str = "",
    body_html: str = "",
    attachment_name: str = "",
    attachment: str = "",
) -> Message:
    """One outbox row; call inside the transaction of the change that causes the message."""
    return Message.objects.create(
        channel=channel,
        kind=kind,
        group=group,
        recipient=recipient,
        send_at=send_at,
        subject=subject[:200],
        body_text=body_text,
        body_html=body_html,
        attachment_name=attachment_name,
        attachment=attachment,
    )


def cancel_group(group: str) -> int:
    """Cancel a group's messages that have not gone out (a cancelled or moved session)."""
    return (
        Message.objects.in_group(group)
        .pending()
        .update(status=MessageStatus.CANCELLED, last_error="cancelled before sending")
    )


def claim_due(limit: int = 1000) -> list[int]:
    """Mark up to `limit` due rows queued and return their ids.

    SELECT ... FOR UPDATE SKIP LOCKED lets several dispatchers (more beat-driven workers on more
    machines) claim disjoint rows; rows claimed but never sent (their broker message was lost
    when Redis restarted) are claimed again after NOTIFICATIONS_REQUEUE_AFTER seconds.
    """
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_message SET status = 'queued', claimed_at = %s"
            " WHERE id IN (SELECT id FROM notifications_message"
            "   WHERE (status = 'pending' AND send_at <= %s)"
            "      OR (status = 'queued' AND claimed_at < %s)"
            "   ORDER BY send_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING id",
            [now, now, stale, limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... minutes, at most an hour, between attempts after a transient failure."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def send(message_id: int) -> str:
    """Deliver one claimed message and record the outcome; safe to run twice.

    The row is locked (a duplicate task skips it) and marked sent by a conditional update in the
    same transaction, so it is recorded sent exactly once; delivery itself carries the message id
    as an idempotency key.
    """
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=MessageStatus.QUEUED)
            .first()
        )
        if message is None:
            return "skipped"
        now = timezone.now()
        try:
            deliver(message)
        except TransientDeliveryError as error:
            attempts = message.attempts + 1
            if attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
                _fail(message, attempts, f"gave up after {attempts} attempts: {error}")
                return "failed"
            Message.objects.filter(pk=message.pk).update(
                status=MessageStatus.PENDING,
                attempts=attempts,
                send_at=now + backoff(attempts),
                claimed_at=None,
                last_error=str(error)[:300],
            )
            return "retry"
        except PermanentDeliveryError as error:
            _fail(message, message.attempts + 1, str(error))
            return "failed"
        marked = Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENT, sent_at=now, attempts=message.attempts + 1, last_error=""
        )
        assert marked == 1  # we hold the row lock
        return "sent"


def _fail(message: Message, attempts: int, reason: str) -> None:
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, attempts=attempts, last_error=reason[:300]
    )


def channels_for(*, email: str, email_ok: bool, phone: str, sms_ok: bool) -> list[tuple[str, str]]:
    """(channel, recipient) pairs the person agreed to."""
    pairs = []
    if email_ok and email:
        pairs.append((Channel.EMAIL.value, email))
    if sms_ok and phone:
        pairs.append((Channel.SMS.value, phone))
    return pairs
