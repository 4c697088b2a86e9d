from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q


class TreatmentParameters(models.Model):
    """The parameters a protocol template proposes and a treatment plan fixes.

    docs/product-rules.md#treatment-plan-and-dosing
    """

    indication = models.CharField(max_length=100, blank=True)
    infusions = models.PositiveSmallIntegerField("number of infusions", default=8)
    min_days_between = models.PositiveSmallIntegerField("minimum days between", default=2)
    max_days_between = models.PositiveSmallIntegerField("maximum days between", default=7)
    span_days = models.PositiveSmallIntegerField("whole series within (days)", default=28)
    dose_mg_per_kg = models.DecimalField(
        "dose (mg/kg)", max_digits=4, decimal_places=2, default=Decimal("0.50")
    )
    infusion_minutes = models.PositiveSmallIntegerField(default=40)
    chair_minutes_before = models.PositiveSmallIntegerField(
        "chair minutes before (IV start)", default=15
    )
    chair_minutes_after = models.PositiveSmallIntegerField(
        "chair minutes after (recovery)", default=45
    )
    dose_cap_mg = models.DecimalField(
        "dose cap (mg)", max_digits=6, decimal_places=1, null=True, blank=True
    )
    drug = models.CharField(
        max_length=100,
        default="ketamine",
        help_text="The drug as the infusion record prints it (e.g. ketamine hydrochloride).",
    )
    notes = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def chair_minutes(self) -> int:
        return self.chair_minutes_before + self.infusion_minutes + self.chair_minutes_after

    def dose_for(self, weight_kg: Decimal) -> DosePreview:
        """Dose = weight x mg/kg, capped; rounded to 0.1 mg and shown with its arithmetic."""
        return DosePreview.compute(weight_kg, self.dose_mg_per_kg, self.dose_cap_mg)


class DosePreview:
    def __init__(self, weight_kg: Decimal, mg_per_kg: Decimal, cap_mg: Decimal | None) -> None:
        self.weight_kg = weight_kg
        self.mg_per_kg = mg_per_kg
        self.cap_mg = cap_mg
        self.uncapped_mg = (weight_kg * mg_per_kg).quantize(Decimal("0.1"), ROUND_HALF_UP)
        self.capped = cap_mg is not None and self.uncapped_mg > cap_mg
        self.dose_mg = cap_mg if self.capped and cap_mg is not None else self.uncapped_mg

    @classmethod
    def compute(cls, weight_kg: Decimal, mg_per_kg: Decimal, cap_mg: Decimal | None) -> DosePreview:
        return cls(Decimal(weight_kg), Decimal(mg_per_kg), cap_mg)

    @property
    def weight_shown(self) -> Decimal:
        """The weight to 0.01 kg at most (74.8, 136.08): the dose uses it unrounded."""
        hundredths = self.weight_kg.quantize(Decimal("0.01"), ROUND_HALF_UP)
        tenths = hundredths.quantize(Decimal("0.1"), ROUND_HALF_UP)
        return tenths if tenths == hundredths else hundredths

    @property
    def arithmetic(self) -> str:
        text = f"{self.weight_shown} kg × {self.mg_per_kg} mg/kg = {self.uncapped_mg} mg"
        if self.capped:
            text += f", capped at {self.cap_mg} mg"
        return text


_PARAMETER_CHECKS = [
    Q(infusions__gte=1, infusions__lte=30),
    Q(min_days_between__gte=1),
    Q(max_days_between__gte=F("min_days_between")),
    Q(dose_mg_per_kg__gt=0, dose_mg_per_kg__lte=2),
    Q(infusion_minutes__gte=5),
]


class ProtocolTemplate(TreatmentParameters):
    """A clinic's standard protocol, from which a clinician starts a treatment plan."""

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="protocol_one_default"
            ),
            *[
                models.CheckConstraint(condition=check, name=f"protocol_parameters_{n}")
                for n, check in enumerate(_PARAMETER_CHECKS)
            ],
        ]

    def __str__(self) -> str:
        return self.name


class TreatmentPlanQuerySet(models.QuerySet["TreatmentPlan"]):
    def active(self) -> TreatmentPlanQuerySet:
        return self.filter(status=TreatmentPlan.Status.ACTIVE)


class TreatmentPlan(TreatmentParameters):
    """What a clinician approved for one patient: the series the front desk may book."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        REVISED = "revised", "Replaced by a revision"

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treatment_plans"
    )
    # Revisions (docs/visits.md#plan-revisions): each version is a row of its own; the first
    # is the root of the others, so the version in force is one indexed read.
    version = models.PositiveSmallIntegerField(default=1)
    root = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The first version of this plan; blank on the first version itself.",
    )
    revises = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
        help_text="The version this one replaced.",
    )
    revision_reason = models.TextField(blank=True)
    # Boosters (docs/visits.md#boosters): one infusion every N weeks after the series, for a
    # number of boosters or until a date.
    booster_every_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    booster_count = models.PositiveSmallIntegerField(null=True, blank=True)
    booster_until = models.DateField(null=True, blank=True)
    intake = models.ForeignKey(
        "intake.Intake", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    template = models.ForeignKey(
        ProtocolTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(auto_now_add=True)

    objects = TreatmentPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-approved_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="active"), name="plan_one_active_per_patient"
            ),
            *[
                models.CheckConstraint(condition=check, name=f"plan_parameters_{n}")
                for n, check in enumerate(_PARAMETER_CHECKS)
            ],
            # Boosters every 4 to 12 weeks, for a count or a period (not both, not neither).
            models.CheckConstraint(
                condition=Q(booster_every_weeks__isnull=True, booster_count__isnull=True)
                & Q(booster_until__isnull=True)
                | Q(booster_every_weeks__gte=4, booster_every_weeks__lte=12)
                & (
                    Q(booster_count__gte=1, booster_count__lte=26, booster_until__isnull=True)
                    | Q(booster_count__isnull=True, booster_until__isnull=False)
                ),
                name="plan_boosters_shape",
            ),
            # One version of each number per plan; a revision names what it replaced.
            models.UniqueConstraint(fields=["root", "version"], name="plan_one_version_per_number"),
            models.CheckConstraint(
                condition=Q(version=1, root__isnull=True, revises__isnull=True)
                | Q(version__gt=1, root__isnull=False, revises__isnull=False),
                name="plan_revision_names_its_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.infusions} × {self.dose_mg_per_kg} mg/kg ({self.get_status_display()})"

    @property
    def has_boosters(self) -> bool:
        return self.booster_every_weeks is not None

    def in_force(self) -> TreatmentPlan:
        """The version of this plan in force now: itself, or the latest revision of it (what
        the nurse's check-in doses by: docs/visits.md#plan-revisions)."""
        if self.status != self.Status.REVISED:
            return self
        root_id = self.root_id or self.pk
        latest = (
            TreatmentPlan.objects.filter(Q(root_id=root_id) | Q(pk=root_id))
            .order_by("-version")
            .first()
        )
        return latest or self


class Decision(models.Model):
    """A clinician's decision on one intake version: who, when, what, and what the patient sees."""

    class Kind(models.TextChoices):
        APPROVE = "approve", "Approved"
        DECLINE = "decline", "Declined"
        MORE_INFO = "more_info", "More information requested"

    intake = models.ForeignKey("intake.Intake", on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    patient_message = models.TextField(
        blank=True, help_text="Shown to the patient, in neutral words."
    )
    internal_note = models.TextField(blank=True, help_text="Seen by staff only.")
    reopened_steps = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    plan = models.OneToOneField(
        TreatmentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="decision"
    )

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="approve", plan__isnull=False) | ~Q(kind="approve"),
                name="decision_approval_has_plan",
            ),
            models.CheckConstraint(
                condition=~Q(kind="more_info") | ~Q(reopened_steps=[]),
                name="decision_more_info_names_steps",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.decided_by} at {self.decided_at:%Y-%m-%d}"
