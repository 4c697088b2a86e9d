"""The outbox (docs/product-rules.md#reminders): every message is a PostgreSQL row before anything
is sent.

A row is written in the same transaction as the change that causes it: its kind, what it is
about (`group`, e.g. ``session:<id>``, cancelled together), the channel and its send time in UTC.
What it says and to whom is decided when it is sent (notifications/registry.py) and then kept on
the row as the record of what went out. Nothing waits in the broker: a periodic dispatcher
claims due rows and hands their ids to sending tasks. This app knows nothing of the apps that use
it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Not sent"


class DeliveryStatus(models.TextChoices):
    """What the provider reports after it took a text (its status callbacks)."""

    UNKNOWN = "", "Not reported"
    QUEUED = "queued", "Queued at the provider"
    SENT = "sent", "Sent to the carrier"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Not delivered"
    FAILED = "failed", "Failed at the provider"
    OPTED_OUT = "opted_out", "Not delivered: the number opted out"


# A delivery status only moves forward (callbacks arrive out of order): a report is applied only
# over a lower rank. The last rank is final.
DELIVERY_RANK: dict[str, int] = {
    DeliveryStatus.UNKNOWN: 0,
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.UNDELIVERED: 3,
    DeliveryStatus.FAILED: 3,
    DeliveryStatus.OPTED_OUT: 3,
}


class MessageQuerySet(models.QuerySet["Message"]):
    def pending(self) -> MessageQuerySet:
        return self.filter(status__in=[MessageStatus.PENDING, MessageStatus.QUEUED])

    def in_group(self, group: str) -> MessageQuerySet:
        return self.filter(group=group)


class Message(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=40, help_text="What the message is for, e.g. reminder.")
    group = models.CharField(
        max_length=80, help_text="What it belongs to, e.g. session:<id>; cancelled together."
    )
    recipient = models.CharField(
        max_length=254, blank=True, help_text="Resolved when sent; blank until then."
    )
    subject = models.CharField(max_length=200, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment = models.TextField(blank=True, help_text="A text attachment, e.g. an .ics.")
    context = models.JSONField(
        default=dict,
        blank=True,
        help_text="Ids and choices the resolver needs (e.g. which sessions); never patient data.",
    )
    send_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    provider_id = models.CharField(
        max_length=64, blank=True, help_text="The provider's id of a text (Twilio's MessageSid)."
    )
    delivery_status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, blank=True, default=DeliveryStatus.UNKNOWN
    )
    delivery_error = models.CharField(
        max_length=10, blank=True, help_text="The provider's error code (Twilio's ErrorCode)."
    )
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["send_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"),
                name="message_sent_has_time",
            ),
        ]
        indexes = [
            # The dispatcher: due pending rows in send-time order.
            models.Index(
                fields=["send_at"], condition=Q(status="pending"), name="message_due_pending"
            ),
            # The requeue sweep: rows claimed but never recorded (a lost broker message, a
            # worker that died while sending).
            models.Index(
                fields=["claimed_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="message_in_flight",
            ),
            # Cancelling or re-planning a session's messages; staff's per-session list.
            models.Index(fields=["group"], name="message_group"),
            # The front desk's list of failed messages.
            models.Index(fields=["-send_at"], condition=Q(status="failed"), name="message_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.kind} ({self.status})"

    @property
    def status_callback_url(self) -> str:
        """Where the provider reports this text's delivery: the public address (SITE_URL) and
        the message's opaque id, so a report that beats the send's own answer still finds it."""
        from notifications.backends import status_callback_url

        return status_callback_url(str(self.public_id))

    @property
    def kind_label(self) -> str:
        """The kind in words, as the app that planned it names it."""
        from notifications.registry import label_for

        return label_for(self.kind)


class WebhookReceipt(models.Model):
    """A provider's webhook already handled, by its idempotency token (Twilio's
    I-Twilio-Idempotency-Token): a callback Twilio sends again, after a slow or lost answer,
    carries the same token and changes nothing the second time. Kept a few days
    (tasks.prune_webhook_receipts): Twilio's retries come within minutes."""

    token = models.CharField(max_length=128, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The daily prune: receipts older than a few days.
            models.Index(fields=["received_at"], name="webhook_receipt_received"),
        ]

    def __str__(self) -> str:
        return f"Webhook at {self.received_at:%Y-%m-%d %H:%M} UTC"


class InboundText(models.Model):
    """A text someone sent to the clinic's number, as received, and what it did.

    `group` is what it answered (e.g. ``session:<id>``, as on messages) and `outcome` what the
    app that handled it made of it (its own words: confirmed, unclear ...).
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    provider_id = models.CharField(max_length=64, unique=True, help_text="Twilio's MessageSid.")
    sender = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    received_at = models.DateTimeField()
    group = models.CharField(max_length=80, blank=True)
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["received_at"]
        indexes = [
            # The series page: the replies about its sessions.
            models.Index(fields=["group"], name="inbound_text_group"),
        ]

    def __str__(self) -> str:
        return f"Text received {self.received_at:%Y-%m-%d %H:%M} UTC ({self.outcome or 'new'})"
