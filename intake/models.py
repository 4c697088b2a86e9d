from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ConsentText(models.Model):
    """A versioned text the patient agrees to; a signature records the version it agreed to."""

    class Kind(models.TextChoices):
        TREATMENT = "treatment", "Consent to treatment"
        ESCORT = "escort", "Driver and escort agreement"
        FASTING = "fasting", "Fasting instructions"
        SMS = "sms", "Text message reminders"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    version = models.CharField(max_length=20)
    # Each version is published in every language patients read (settings.LANGUAGES): a
    # signature records the version and the language of the text the patient read.
    language = models.CharField(max_length=10, default="en")
    title = models.CharField(max_length=200)
    body = models.TextField()
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "-published_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "version", "language"], name="consent_text_version_language_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} ({self.language})"


# The questionnaire's current form version (intake.steps.FORMS holds each version's steps).
CURRENT_FORM_VERSION = 2


class IntakeQuerySet(models.QuerySet["Intake"]):
    def drafts(self) -> IntakeQuerySet:
        return self.filter(status=Intake.Status.DRAFT)

    def submitted(self) -> IntakeQuerySet:
        return self.exclude(status=Intake.Status.DRAFT)

    def latest_for(self, patient: Any) -> Intake | None:
        return self.filter(patient=patient).order_by("-version").first()


class Intake(models.Model):
    """One version of a patient's intake questionnaire.

    A draft is edited step by step; submitting freezes it (its answers can no longer change, which
    the database enforces). A later change, asked for by a clinician or by the patient, starts a
    new version that copies the answers and keeps the old one for the record.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("In progress")
        SUBMITTED = "submitted", _("Submitted, waiting for review")
        MORE_INFO = "more_info", _("More information requested")
        APPROVED = "approved", _("Approved for treatment")
        DECLINED = "declined", _("Not suitable for treatment here")

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intakes"
    )
    version = models.PositiveSmallIntegerField(default=1)
    form_version = models.PositiveSmallIntegerField(
        default=CURRENT_FORM_VERSION,
        help_text="The version of the questionnaire this intake asks (intake.steps.FORMS).",
    )
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    location = models.ForeignKey(
        "locations.Location",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="intakes",
        help_text="The patient's preferred location, from the first step.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    scores = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    urgent = models.BooleanField(
        default=False, help_text="PHQ-9 item 9 above 0: thoughts of death or self-harm."
    )
    flags = models.JSONField(
        default=list, blank=True, help_text="Derived safety flags (intake.flags), set at submit."
    )
    answer_lines = models.JSONField(
        default=list,
        blank=True,
        help_text="The answers as the clinician reads them, written at submit in the site's "
        "language: [[step, [[question, answer], ...]], ...] (intake.answers.describe).",
    )
    status_message = models.TextField(
        blank=True, help_text="What the clinic tells the patient about this version, if anything."
    )
    reopened_steps = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        help_text="Steps a clinician asked the patient to revisit in the next version.",
    )

    objects = IntakeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="intake_version_unique"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="draft"),
                name="intake_one_draft_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="intake_submitted_has_time",
            ),
        ]
        indexes = [
            # The clinician's review queue (review.views.queue): a location's intakes in one
            # status, urgent first, then oldest, then id, so a page is the index's first rows.
            models.Index(
                fields=["location", "status", "-urgent", "submitted_at", "id"],
                name="intake_review_queue",
            ),
            # The front desk's view of the same queue: oldest first, urgency not shown.
            models.Index(
                fields=["location", "status", "submitted_at", "id"],
                name="intake_desk_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"Intake v{self.version} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class IntakeAnswer(models.Model):
    """The answers of one step of one intake version, with the instrument that asked them.

    `data` holds validated, normalised answers; `raw` holds what the patient last typed when it
    did not validate, so leaving after an error loses nothing. A step is finished when
    `completed_at` is set.
    """

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="answers")
    step = models.CharField(max_length=40)
    instrument = models.CharField(max_length=60)
    instrument_version = models.CharField(max_length=20)
    # The language the questions were asked in (PHQ-9 and GAD-7 in their authors' Spanish
    # version for "es"); the clinician's summary says so beside the English labels.
    language = models.CharField(max_length=10, default="en")
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    raw = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intake", "id"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "step"], name="intake_answer_step_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.step} ({self.instrument} v{self.instrument_version})"


# The stored extension of each accepted type, as detected from the bytes (intake.cards).
ATTACHMENT_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "application/pdf": "pdf"}


def _attachment_path(instance: IntakeAttachment, filename: str) -> str:
    # A generated name: the client's name may carry the patient's name, and its extension is a
    # claim (card.html); the extension is the one of the type found in the bytes.
    extension = ATTACHMENT_EXTENSIONS.get(instance.content_type, "bin")
    return f"intake/{instance.intake.public_id}/{uuid.uuid4().hex}.{extension}"


class IntakeAttachment(models.Model):
    """A file the patient uploaded with an intake (the insurance card)."""

    class Kind(models.TextChoices):
        INSURANCE_CARD = "insurance_card", "Insurance card"

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    file = models.FileField(upload_to=_attachment_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["intake", "kind"], name="intake_attachment_kind_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.content_type})"

    @property
    def extension(self) -> str:
        """The extension of the stored type (files stored before it was detected keep theirs)."""
        return ATTACHMENT_EXTENSIONS.get(self.content_type, "bin")


class UrgentFlagQuerySet(models.QuerySet["UrgentFlag"]):
    def open(self) -> UrgentFlagQuerySet:
        return self.filter(acknowledged_at__isnull=True)

    def for_clinician(self, user: Any) -> UrgentFlagQuerySet:
        """Flags at the clinician's locations, and those of intakes with no location yet."""
        return self.filter(Q(location__in=user.locations.all()) | Q(location__isnull=True))


class UrgentFlag(models.Model):
    """An urgent safety flag (PHQ-9 item 9 above 0) waiting for a clinician.

    Raised in the same transaction as the submission; the clinicians of the location are told by
    a background task within a minute; until a clinician acknowledges it with a note, the patient
    cannot be booked.
    """

    intake = models.OneToOneField(Intake, on_delete=models.PROTECT, related_name="urgent_flag")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="urgent_flags"
    )
    location = models.ForeignKey(
        "locations.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(blank=True)

    objects = UrgentFlagQuerySet.as_manager()

    class Meta:
        ordering = ["raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                    | (
                        Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False)
                        & ~Q(note="")
                    )
                ),
                name="urgent_flag_acknowledged_with_note",
            ),
        ]
        indexes = [
            # Clinician home and the booking check: open flags by location / by patient.
            models.Index(
                fields=["location"],
                condition=Q(acknowledged_at__isnull=True),
                name="urgent_flag_open_by_location",
            ),
            # The beat sweep: flags whose notification has not gone out yet.
            models.Index(
                fields=["raised_at"],
                condition=Q(notified_at__isnull=True),
                name="urgent_flag_unnotified",
            ),
        ]

    def __str__(self) -> str:
        state = "acknowledged" if self.acknowledged_at else "open"
        return f"Urgent flag ({state}) raised {self.raised_at:%Y-%m-%d %H:%M} UTC"
