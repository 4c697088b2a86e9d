"""The paperwork of a self-pay clinic: who bills, the plan's diagnosis codes, the Good Faith
Estimates given to patients and when each one is due (docs/paperwork.md)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.money import Money
from paperwork.identifiers import validate_npi, validate_tin


class ClinicIdentity(models.Model):
    """The clinic as it bills: one row (pk 1), kept by clinic admins in the admin's settings.

    An estimate names the billing provider with its legal name, NPI (type 2, the organisation)
    and TIN; without this row no estimate is issued and the desk's worklist says so
    (docs/paperwork.md#who-and-what).
    """

    legal_name = models.CharField(max_length=200)
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])
    tin = models.CharField("TIN (EIN)", max_length=11, validators=[validate_tin])
    address = models.TextField(help_text="The billing address, as printed on documents.")
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    submits_claims = models.BooleanField(
        default=False,
        help_text=(
            "Whether the clinic bills health insurance. When it does not, every patient is "
            "self-pay and receives a Good Faith Estimate."
        ),
    )

    class Meta:
        verbose_name = "clinic identity (billing)"
        verbose_name_plural = "clinic identity (billing)"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="clinic_identity_one_row")]

    def __str__(self) -> str:
        return self.legal_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> ClinicIdentity | None:
        return cls.objects.filter(pk=1).first()


class ProviderIdentity(models.Model):
    """A clinician as an estimate names them: name (the account's), NPI (type 1), credentials,
    and the TIN they bill under (the clinic's when blank)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider_identity"
    )
    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_npi])
    credentials = models.CharField(max_length=40, blank=True, help_text="e.g. MD, DO, NP")
    tin = models.CharField(
        "TIN",
        max_length=11,
        blank=True,
        validators=[validate_tin],
        help_text="Blank: the clinic's.",
    )

    class Meta:
        verbose_name = "provider identity"
        verbose_name_plural = "provider identities"

    def __str__(self) -> str:
        return f"{self.user.get_full_name()} ({self.npi})"


class PlanDiagnosis(models.Model):
    """One diagnosis code of a treatment plan, as estimates and superbills print it.

    Suggested from the indication when the plan is first read (paperwork.diagnoses) and edited by
    a clinician; the first (by position) is the primary (docs/paperwork.md#diagnosis-codes).
    """

    plan = models.ForeignKey(
        "review.TreatmentPlan", on_delete=models.PROTECT, related_name="diagnoses"
    )
    code = models.CharField(max_length=8)
    description = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    suggested = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["plan", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="plan_diagnosis_code_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Reason(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    REQUESTED = "requested", "Requested by the patient"
    CHANGED = "changed", "Scope changed"


class EstimateQuerySet(models.QuerySet["Estimate"]):
    def current(self) -> EstimateQuerySet:
        """Not superseded by a later estimate."""
        return self.filter(superseded_at__isnull=True)


class Estimate(models.Model):
    """A Good Faith Estimate as issued: its content frozen at issue, kept six years.

    `content` holds everything the document prints (the patient, the providers, the items with
    codes and charges, the diagnoses, the time frame), so that the document and its page are
    drawn from it alone and read the same in six years. PostgreSQL refuses an UPDATE of any of
    it and any DELETE within six years of issue (migration 0002); only the one-way marks may be
    set once: the stored PDF and its hash, the patient's acknowledgement, and the supersession
    by a later estimate (docs/paperwork.md#immutable-and-kept-six-years).
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="estimates"
    )
    series = models.ForeignKey(
        "scheduling.Series",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="estimates",
    )
    plan = models.ForeignKey("review.TreatmentPlan", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    language = models.CharField(max_length=10, default="en")
    issued_at = models.DateTimeField(default=timezone.now)
    content = models.JSONField()
    total_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    scope_hash = models.CharField(max_length=64)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # One-way marks (the trigger lets each be set once).
    superseded_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    pdf_name = models.CharField(max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    objects = EstimateQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series"],
                condition=Q(superseded_at__isnull=True, series__isnull=False),
                name="estimate_one_current_per_series",
            ),
        ]
        indexes = [
            # The patient's pages and over_estimate: a patient's estimates, newest first.
            models.Index(fields=["patient", "-issued_at"], name="estimate_patient_issued"),
        ]

    def __str__(self) -> str:
        return f"Good Faith Estimate {self.reference}"

    @property
    def reference(self) -> str:
        return f"GFE-{self.issued_at:%Y}-{self.pk:06d}"

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class EstimateDueQuerySet(models.QuerySet["EstimateDue"]):
    def open(self) -> EstimateDueQuerySet:
        return self.filter(estimate__isnull=True, withdrawn_at__isnull=True)


class EstimateDue(models.Model):
    """A Good Faith Estimate owed to a patient and by when (45 CFR 149.610(b)(1)): opened when a
    series is scheduled, its scope changes or the patient asks; closed by the estimate that
    meets it. The worklist shows the open ones as their deadline nears
    (docs/paperwork.md#deadlines)."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    series = models.ForeignKey(
        "scheduling.Series", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField(help_text="The last local date the estimate may be given on.")
    service_on = models.DateField(null=True, blank=True)
    estimate = models.ForeignKey(
        Estimate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="Nothing left to estimate (the series was cancelled)."
    )
    problem = models.CharField(
        max_length=200, blank=True, help_text="Why it could not be issued yet (no prices, …)."
    )

    objects = EstimateDueQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            # The periodic sweep: the open ones by deadline.
            models.Index(
                fields=["due_on"],
                condition=Q(estimate__isnull=True, withdrawn_at__isnull=True),
                name="estimate_due_open",
            ),
        ]

    def __str__(self) -> str:
        return f"estimate due {self.due_on} ({self.reason})"
