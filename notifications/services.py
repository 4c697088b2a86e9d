"""Writing, cancelling, claiming and sending outbox messages."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.backends import (
    Delivered,
    DeliveryError,
    RecipientOptedOut,
    TransientDeliveryError,
    Withheld,
    deliver_all,
)
from notifications.models import (
    DELIVERY_RANK,
    Channel,
    DeliveryStatus,
    Message,
    MessageStatus,
)
from notifications.registry import Defer, Resolved, Skip, resolver_for
from notifications.signals import (
    message_failed,
    message_sent,
    recipient_opted_out,
    text_undelivered,
)

logger = logging.getLogger(__name__)

QUIET_STARTS = dt.time(21)
QUIET_ENDS = dt.time(8)


def defer_out_of_quiet_hours(when: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """No text message between 21:00 and 08:00 local: move it to 08:00.

    docs/product-rules.md#quiet-hours
    """
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
    send_at: dt.datetime,
    recipient: str = "",
    body_text: str = "",
    subject: str = "",
    body_html: str = "",
    attachment_name: str = "",
    attachment: str = "",
    context: dict[str, object] | None = None,
) -> Message:
    """One outbox row; call inside the transaction of the change that causes the message.

    A kind with a registered resolver is planned without its words or address (they are
    resolved when it is sent); other kinds are written complete."""
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
        context=context or {},
    )


def cancel_group(group: str) -> int:
    """Cancel a group's messages that have not gone out (a cancelled or moved session)."""
    return (
        Message.objects.in_group(group)
        .pending()
        .update(status=MessageStatus.CANCELLED, last_error="cancelled before sending")
    )


OPTED_OUT_REASON = "cancelled: the number opted out of texts"


def cancel_texts(groups: list[str]) -> int:
    """Cancel the texts of these groups that have not gone out (the number opted out); they are
    marked so that `restore_texts` can plan them again if the person opts back in."""
    return (
        Message.objects.filter(group__in=groups, channel=Channel.SMS)
        .pending()
        .update(status=MessageStatus.CANCELLED, last_error=OPTED_OUT_REASON)
    )


def restore_texts(groups: list[str]) -> int:
    """Plan again the texts an opt-out cancelled that are still to come (the person opted back
    in); their resolver decides at send time whether each still applies."""
    return Message.objects.filter(
        group__in=groups,
        channel=Channel.SMS,
        status=MessageStatus.CANCELLED,
        last_error=OPTED_OUT_REASON,
        send_at__gt=timezone.now(),
    ).update(status=MessageStatus.PENDING, last_error="", claimed_at=None)


def claim_due(limit: int = 1000) -> list[int]:
    """Mark up to `limit` due rows queued and return their ids.

    SELECT ... FOR UPDATE SKIP LOCKED lets several dispatchers (more beat-driven workers on more
    machines) claim disjoint rows. Rows claimed but never taken by a sending task (their broker
    message was lost when Redis restarted) are claimed again after NOTIFICATIONS_REQUEUE_AFTER
    seconds; rows a task took but never recorded (the worker died while sending) only after
    NOTIFICATIONS_SENDING_TIMEOUT, the sending task's hard time limit, when no live task can still
    be delivering them.
    """
    now = timezone.now()
    lost = now - dt.timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER)
    dead = now - dt.timedelta(
        seconds=max(settings.NOTIFICATIONS_REQUEUE_AFTER, settings.NOTIFICATIONS_SENDING_TIMEOUT)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_message SET status = 'queued', claimed_at = %s"
            " WHERE id IN (SELECT id FROM notifications_message"
            "   WHERE (status = 'pending' AND send_at <= %s)"
            "      OR (status = 'queued' AND claimed_at < %s)"
            "      OR (status = 'sending' AND claimed_at < %s)"
            "   ORDER BY send_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING id",
            [now, now, lost, dead, limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... minutes, at most an hour, between attempts after a transient failure."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def send(message_id: int) -> str:
    """Send one claimed message (see send_batch); its outcome."""
    outcomes = send_batch([message_id])
    return next(iter(outcomes), "skipped")


def _take(message_ids: list[int]) -> list[Message]:
    """The batch's rows that are still queued, marked sending in one committed statement: a
    duplicate task (a redelivered broker message) finds them taken and sends nothing."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_message SET status = 'sending', claimed_at = %s"
            " WHERE id = ANY(%s) AND status = 'queued' RETURNING id",
            [now, list(message_ids)],
        )
        taken = [row[0] for row in cursor.fetchall()]
    return list(Message.objects.filter(pk__in=taken).order_by("send_at", "pk"))


def send_batch(message_ids: list[int]) -> dict[str, int]:
    """Resolve, deliver and record a batch of claimed messages; safe to run twice.

    Nothing is held open while the network is talked to: the rows are taken (one committed
    UPDATE), each message is resolved from the current state, the emails go out over one SMTP
    connection, the texts one by one, and each outcome is recorded by a conditional UPDATE from
    `sending`. Delivery is therefore at least once: a message is delivered twice only if the
    worker dies (or the database is lost) after handing it to the provider and before recording
    it, and then it is sent again when the row is claimed again after
    NOTIFICATIONS_SENDING_TIMEOUT. At most the messages in flight at that moment are affected: the
    workers' concurrency times the batch size (each outcome is recorded as soon as it is known, so
    in practice one message per worker process).
    """
    outcomes: dict[str, int] = {}

    def count(outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    ready: list[tuple[Message, Resolved]] = []
    try:
        for message in _take(message_ids):
            try:
                ready.append((message, _resolve(message)))
            except Skip as reason:
                _record(message, status=MessageStatus.SKIPPED, last_error=str(reason)[:300])
                count("skipped")
            except Defer as later:
                _record(
                    message,
                    status=MessageStatus.PENDING,
                    send_at=later.until,
                    claimed_at=None,
                )
                count("deferred")
        for message, outcome in deliver_all(ready):
            count(_record_outcome(message, outcome))
    except SoftTimeLimitExceeded:
        # Out of time (a slow provider): every outcome so far is recorded; the rest stays
        # `sending` and is claimed again after NOTIFICATIONS_SENDING_TIMEOUT, undelivered.
        logger.warning("a sending batch ran out of time; the rest is claimed again later")
        count("out_of_time")
    return outcomes


def _resolve(message: Message) -> Resolved:
    resolver = resolver_for(message.kind)
    if resolver is None:  # written complete when planned
        return Resolved(
            recipient=message.recipient,
            subject=message.subject,
            body_text=message.body_text,
            body_html=message.body_html,
            attachments=(
                [(message.attachment_name, message.attachment, "text/calendar")]
                if message.attachment
                else []
            ),
        )
    return resolver(message)


def _record(message: Message, **fields: object) -> int:
    return Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(**fields)


def _record_outcome(message: Message, outcome: Delivered | Withheld | DeliveryError) -> str:
    if isinstance(outcome, Withheld):
        _record(
            message, status=MessageStatus.SKIPPED, last_error=f"not sent: {outcome.reason}"[:300]
        )
        return "skipped"
    attempts = message.attempts + 1
    if isinstance(outcome, Delivered):
        resolved = outcome.resolved
        attachment = resolved.attachments[0] if resolved.attachments else ("", "", "")
        recorded = _record(
            message,
            status=MessageStatus.SENT,
            sent_at=timezone.now(),
            provider_id=outcome.provider_id[:64],
            delivery_status=DeliveryStatus.QUEUED if outcome.provider_id else "",
            attempts=attempts,
            last_error="",
            recipient=resolved.recipient[:254],
            subject=resolved.redacted(resolved.subject)[:200],
            body_text=resolved.redacted(resolved.body_text),
            body_html=resolved.redacted(resolved.body_html),
            attachment_name=attachment[0][:100],
            attachment=resolved.redacted(attachment[1]),
        )
        if recorded:
            message_sent.send(
                sender=Message, message_id=message.pk, kind=message.kind, group=message.group
            )
        return "sent"
    if isinstance(outcome, RecipientOptedOut):
        if _record(
            message, status=MessageStatus.SKIPPED, attempts=attempts, last_error=str(outcome)[:300]
        ):
            recipient_opted_out.send(
                sender=Message,
                message_id=message.pk,
                recipient=outcome.recipient,
                source=f"provider refused the number (Twilio error {OPTED_OUT_CODE})",
            )
        return "skipped"
    if (
        isinstance(outcome, TransientDeliveryError)
        and attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS
    ):
        _record(
            message,
            status=MessageStatus.PENDING,
            attempts=attempts,
            send_at=timezone.now() + backoff(attempts),
            claimed_at=None,
            last_error=str(outcome)[:300],
        )
        return "retry"
    reason = (
        f"gave up after {attempts} attempts: {outcome}"
        if isinstance(outcome, TransientDeliveryError)
        else str(outcome)
    )
    if _record(message, status=MessageStatus.FAILED, attempts=attempts, last_error=reason[:300]):
        message_failed.send(
            sender=Message,
            message_id=message.pk,
            kind=message.kind,
            group=message.group,
            reason=reason,
        )
    return "failed"


OPTED_OUT_CODE = "21610"
# Twilio's statuses in the order they happen; those after delivery (read) count as delivered,
# those before queueing as queued.
PROVIDER_STATUSES: dict[str, str] = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
}


def record_delivery(message: Message, provider_status: str, error_code: str = "") -> bool:
    """Apply a provider's delivery report; True if it moved the message's delivery status.

    Reports arrive out of order, so a status only moves forward (DELIVERY_RANK): one conditional
    UPDATE over the lower ranks, so two reports at once cannot move it back either. A text that
    did not arrive is announced once (`text_undelivered`); error 21610 (the number opted out) is
    recorded as an opt-out (`recipient_opted_out`), not a failure. Call inside a transaction.
    """
    status = PROVIDER_STATUSES.get(provider_status.lower())
    if status is None:
        return False
    code = error_code.strip()[:10]
    if code == OPTED_OUT_CODE and status in (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED):
        status = DeliveryStatus.OPTED_OUT
    lower = [name for name, rank in DELIVERY_RANK.items() if rank < DELIVERY_RANK[status]]
    moved = Message.objects.filter(pk=message.pk, delivery_status__in=lower).update(
        delivery_status=status, delivery_error=code, delivery_updated_at=timezone.now()
    )
    if not moved:
        return False
    if status == DeliveryStatus.OPTED_OUT:
        recipient_opted_out.send(
            sender=Message,
            message_id=message.pk,
            recipient=message.recipient,
            source=f"provider reported an opt-out (Twilio error {OPTED_OUT_CODE})",
        )
    elif status in (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED):
        text_undelivered.send(
            sender=Message,
            message_id=message.pk,
            kind=message.kind,
            group=message.group,
            error_code=code,
        )
    return True


def prune_webhook_receipts(days: int = 7) -> int:
    from notifications.models import WebhookReceipt

    before = timezone.now() - dt.timedelta(days=days)
    return WebhookReceipt.objects.filter(received_at__lt=before).delete()[0]
