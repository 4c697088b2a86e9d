"""The append-only audit log of every read and change of a patient's clinical record.

PostgreSQL refuses UPDATE and DELETE on this table (a trigger, see migration 0002), so not even
the application can rewrite history. References are plain ids without foreign-key constraints:
an event must outlive any change to the rows it mentions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        READ = "read", "Read"
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DECIDE = "decide", "Decision"
        ACCESS_ADMIN = "admin", "Administration"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    record_type = models.CharField(max_length=40)
    record_id = models.CharField(max_length=64)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    detail = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            # The admin's search: a patient's events, newest first.
            models.Index(fields=["patient", "-at"], name="audit_patient_at"),
            # ... and a user's events.
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.record_type} {self.record_id}"
