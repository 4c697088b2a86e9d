"""The staff worklist: things a person must look at, so that nothing falls through the cracks.

A task names its cause (why it exists) and what it is about (an opaque key such as
``patient:<id>`` or ``series:<id>``, chosen by the app that opens it). At most one task per cause
and subject is open at a time: the database says so (a partial unique constraint), and
`services.open_task` is the one idempotent way in. Tasks are for the front desk or for the
clinicians (`queue`, decided by the cause). This app knows nothing of the apps that feed it:
they call `open_task`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Queue(models.TextChoices):
    DESK = "desk", "Front desk"
    CLINICAL = "clinical", "Clinicians"


class Cause(models.TextChoices):
    URGENT_FLAG = "urgent_flag", "Urgent safety flag (PHQ-9 item 9)"
    SERIES_ENDED = "series_ended", "Series over, nothing booked next"
    UNCLEAR_REPLY = "unclear_reply", "Unclear reply by text"
    RESCHEDULE_REQUEST = "reschedule_request", "Asked by text to reschedule"
    UNDELIVERED_TEXT = "undelivered_text", "Text not delivered"
    MESSAGE_FAILED = "message_failed", "Message could not be sent"
    SELF_BOOKED = "self_booked", "Series booked online, to confirm"
    CLOSED_DAY = "closed_day", "Sessions booked on a day now closed"
    ESTIMATE_DUE = "estimate_due", "Good Faith Estimate not yet given"
    OVER_ESTIMATE = "over_estimate", "Billed $400 or more above the estimate"
    PAYMENT_FAILED = "payment_failed", "Card payment failed"
    FOLLOW_UP_DUE = "follow_up_due", "Book the follow-up visit"


# Who works each cause: clinical judgement for flags and the next step after a series,
# the front desk for everything about reaching the patient.
QUEUE_OF: dict[str, str] = {
    Cause.URGENT_FLAG: Queue.CLINICAL,
    Cause.SERIES_ENDED: Queue.CLINICAL,
    Cause.UNCLEAR_REPLY: Queue.DESK,
    Cause.RESCHEDULE_REQUEST: Queue.DESK,
    Cause.UNDELIVERED_TEXT: Queue.DESK,
    Cause.MESSAGE_FAILED: Queue.DESK,
    Cause.SELF_BOOKED: Queue.DESK,
    Cause.CLOSED_DAY: Queue.DESK,
    Cause.ESTIMATE_DUE: Queue.DESK,
    Cause.OVER_ESTIMATE: Queue.DESK,
    Cause.PAYMENT_FAILED: Queue.DESK,
    Cause.FOLLOW_UP_DUE: Queue.CLINICAL,
}


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        return self.filter(status=TaskStatus.OPEN)

    def in_queue(self, queue: str) -> TaskQuerySet:
        return self.filter(queue=queue)


class Task(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    queue = models.CharField(max_length=10, choices=Queue.choices)
    cause = models.CharField(max_length=30, choices=Cause.choices)
    about = models.CharField(
        max_length=80, help_text="What it is about, e.g. patient:<id>; one open task per cause."
    )
    urgent = models.BooleanField(default=False)
    subject = models.CharField(
        max_length=200, blank=True, help_text="Who or what, in words, for the list."
    )
    detail = models.TextField(blank=True, help_text="What happened; later events are added.")
    link = models.CharField(
        max_length=200, blank=True, help_text="The page where it is dealt with (a path)."
    )
    # A plain id, not a foreign key: the worklist knows no other app; the pages name it.
    location_pk = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-urgent", "opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cause", "about"],
                condition=Q(status="open"),
                name="worklist_one_open_task_per_cause",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | (Q(closed_at__isnull=False) & ~Q(note="")),
                name="worklist_done_with_a_note",
            ),
        ]
        indexes = [
            # The lists and the counts in the menu: a queue's open tasks.
            models.Index(
                fields=["queue", "opened_at"],
                condition=Q(status="open"),
                name="worklist_open_by_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_cause_display()} ({self.status})"
