"""The nurse's chart of one infusion (docs/product-rules.md#the-chart-is-a-record): a clinical
record.

Every step keeps two instants: when it happened (entered by the nurse, or now) and when it was
charted. The database refuses a timeline that cannot have happened, and once the nurse signs,
refuses every change to the chart and its entries (migration 0005's triggers); corrections are
addenda, which are append-only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from charting import rules

# Side effects by code, as the nurse charts them during the infusion and the patient reports them
# at the check-in after it (outcomes): both are stored as these codes.
# Patients tick these after an infusion (outcomes.forms.CheckInForm): translated where shown.
SIDE_EFFECTS = [
    ("nausea", gettext_lazy("Nausea or vomiting")),
    ("dizziness", gettext_lazy("Dizziness")),
    ("headache", gettext_lazy("Headache")),
    ("drowsiness", gettext_lazy("Drowsiness or tiredness")),
    ("dissociation", gettext_lazy("Feeling unreal, detached or dreamy")),
    ("anxiety", gettext_lazy("Anxiety or low mood")),
    ("bladder", gettext_lazy("Pain or burning when passing urine")),
]


def _after(later: str, earlier: str) -> Q:
    """`later` is empty or not before `earlier`."""
    return Q(**{f"{later}__isnull": True}) | Q(**{f"{later}__gte": F(earlier)})


def _needs(field: str, before: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{before}__isnull": False})


class InfusionRecord(models.Model):
    session = models.OneToOneField(
        "scheduling.Session", on_delete=models.PROTECT, related_name="record"
    )
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Check-in
    checked_in_at = models.DateTimeField()
    checked_in_charted_at = models.DateTimeField(default=timezone.now)
    fasting_confirmed = models.BooleanField()
    last_solid_food_at = models.DateTimeField(null=True, blank=True)
    last_clear_liquid_at = models.DateTimeField(null=True, blank=True)
    escort_name = models.CharField(max_length=100)
    escort_phone = models.CharField(max_length=32)
    pregnancy_possible = models.BooleanField(null=True, blank=True)
    # Exact: a weight in pounds is converted without rounding (1 lb = 0.45359237 kg), so the
    # dose is computed from what was weighed and only the figures shown are rounded.
    weight_kg = models.DecimalField(max_digits=13, decimal_places=9)
    weight_unit = models.CharField(
        max_length=2, default="kg", help_text="The unit the nurse weighed in (stored in kg)."
    )
    pain_before = models.PositiveSmallIntegerField()
    # The rules in force at check-in, kept with the record so that the database can check the
    # timeline against them even after the plan or the location's settings change.
    planned_infusion = models.DurationField(default=dt.timedelta(minutes=40))
    min_recovery = models.DurationField(default=dt.timedelta(minutes=30))
    # Dose, computed from today's weight and the plan, confirmed before the infusion starts
    dose_mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2)
    dose_cap_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=1)
    dose_confirmed_at = models.DateTimeField(null=True, blank=True)
    infusion_started_at = models.DateTimeField(null=True, blank=True)
    started_charted_at = models.DateTimeField(null=True, blank=True)
    infusion_ended_at = models.DateTimeField(null=True, blank=True)
    ended_charted_at = models.DateTimeField(null=True, blank=True)
    stopped_early_reason = models.CharField(max_length=300, blank=True)
    # Discharge
    alert_and_oriented = models.BooleanField(default=False)
    escort_present_at_discharge = models.BooleanField(default=False)
    instructions_given = models.BooleanField(default=False)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_charted_at = models.DateTimeField(null=True, blank=True)
    short_recovery_reason = models.CharField(max_length=300, blank=True)
    # Sign-off: the nurse signs, then (when the location asks) a clinician co-signs.
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cosign_required = models.BooleanField(default=False)
    # What the sign-off found missing (charting.rules), kept as it was named when signed; an
    # incomplete chart is signed only with a second member of staff and their reason.
    signed_gaps = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    incomplete_cosigner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    incomplete_reason = models.CharField(max_length=300, blank=True)
    timing_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the check-in was far from the booked start, given at sign-off.",
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(pain_before__lte=10)
                & (Q(pain_after__isnull=True) | Q(pain_after__lte=10)),
                name="record_pain_0_10",
            ),
            models.CheckConstraint(
                condition=Q(infusion_started_at__isnull=True) | Q(dose_confirmed_at__isnull=False),
                name="record_dose_confirmed_before_start",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__gte=30, weight_kg__lte=300), name="record_weight_range"
            ),
            # No step before the one before it, and none charted before it happened.
            models.CheckConstraint(
                condition=_after("infusion_started_at", "checked_in_at")
                & _after("infusion_ended_at", "infusion_started_at")
                & _after("discharged_at", "infusion_ended_at")
                & _needs("infusion_ended_at", "infusion_started_at")
                & _needs("discharged_at", "infusion_ended_at"),
                name="record_timeline_in_order",
            ),
            models.CheckConstraint(
                condition=Q(checked_in_charted_at__gte=F("checked_in_at"))
                & _after("started_charted_at", "infusion_started_at")
                & _after("ended_charted_at", "infusion_ended_at")
                & _after("discharged_charted_at", "discharged_at"),
                name="record_charted_after_it_happened",
            ),
            models.CheckConstraint(
                condition=Q(infusion_ended_at__isnull=True)
                | Q(infusion_ended_at__gte=F("infusion_started_at") + F("planned_infusion"))
                | ~Q(stopped_early_reason=""),
                name="record_early_stop_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True)
                | Q(discharged_at__gte=F("infusion_ended_at") + F("min_recovery"))
                | ~Q(short_recovery_reason=""),
                name="record_short_recovery_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True)
                | Q(signed_by__isnull=False, discharged_at__isnull=False),
                name="record_signed_after_discharge",
            ),
            models.CheckConstraint(
                condition=Q(cosigned_at__isnull=True)
                | Q(cosigned_by__isnull=False, signed_at__isnull=False, cosign_required=True),
                name="record_cosigned_after_signing",
            ),
        ]
        indexes = [
            # The dashboard: actual chair time of sessions at a location in a week.
            models.Index(fields=["checked_in_at"], name="record_checked_in"),
            # The clinician's list of signed charts waiting for a co-signature.
            models.Index(
                fields=["signed_at"],
                condition=Q(cosign_required=True, cosigned_at__isnull=True),
                name="record_waiting_cosign",
            ),
        ]

    def __str__(self) -> str:
        return f"Chart of session {self.session_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def waiting_for_cosign(self) -> bool:
        return self.is_signed and self.cosign_required and self.cosigned_at is None

    @property
    def ran_minutes(self) -> int | None:
        if self.infusion_started_at is None or self.infusion_ended_at is None:
            return None
        return rules.whole_minutes(self.infusion_ended_at - self.infusion_started_at)

    @property
    def recovery_minutes(self) -> int | None:
        if self.infusion_ended_at is None or self.discharged_at is None:
            return None
        return rules.whole_minutes(self.discharged_at - self.infusion_ended_at)

    def stage(self) -> str:
        """Where the day stands: checked_in, infusing, recovering, discharged, signed."""
        if self.signed_at:
            return "signed"
        if self.discharged_at:
            return "discharged"
        if self.infusion_ended_at:
            return "recovering"
        if self.infusion_started_at:
            return "infusing"
        return "checked_in"


class VitalSign(models.Model):
    class Phase(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        INFUSION = "infusion", "During the infusion"
        RECOVERY = "recovery", "Recovery"

    record = models.ForeignKey(InfusionRecord, on_delete=models.CASCADE, related_name="vitals")
    taken_at = models.DateTimeField()
    charted_at = models.DateTimeField(default=timezone.now)
    phase = models.CharField(max_length=10, choices=Phase.choices)
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    pulse = models.PositiveSmallIntegerField()
    spo2 = models.PositiveSmallIntegerField()
    resp_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    alerts = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["taken_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    systolic__range=(40, 300),
                    diastolic__range=(20, 200),
                    pulse__range=(20, 250),
                    spo2__range=(50, 100),
                ),
                name="vitals_plausible",
            ),
            models.CheckConstraint(
                condition=Q(charted_at__gte=F("taken_at")), name="vitals_charted_after_taken"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic}, {self.pulse}/min, {self.spo2}%"

    def as_vitals(self) -> rules.Vitals:
        return rules.Vitals(self.systolic, self.diastolic, self.pulse, self.spo2, self.resp_rate)


class Observation(models.Model):
    """A side effect seen or an intervention given, at the time it happened."""

    class Kind(models.TextChoices):
        SIDE_EFFECT = "side_effect", "Side effect"
        INTERVENTION = "intervention", "Intervention"

    record = models.ForeignKey(
        InfusionRecord, on_delete=models.CASCADE, related_name="observations"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    side_effect = models.CharField(max_length=40, blank=True)
    text = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()
    charted_at = models.DateTimeField(default=timezone.now)
    charted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="side_effect", text="") & ~Q(side_effect="")
                | Q(kind="intervention", side_effect="") & ~Q(text=""),
                name="observation_says_what",
            ),
            models.CheckConstraint(
                condition=Q(charted_at__gte=F("at")), name="observation_charted_after_it_happened"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.kind == self.Kind.SIDE_EFFECT:
            return str(dict(SIDE_EFFECTS).get(self.side_effect, self.side_effect))
        return self.text


class Addendum(models.Model):
    """A correction or late note to a signed chart: who, when and why. Append-only."""

    record = models.ForeignKey(InfusionRecord, on_delete=models.PROTECT, related_name="addenda")
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200)
    text = models.TextField()

    class Meta:
        ordering = ["written_at", "pk"]
        verbose_name_plural = "addenda"
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason="") & ~Q(text=""), name="addendum_says_what_and_why"
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum to {self.record}"


class WorkUp(models.Model):
    """A work-up prompt of the intake (e.g. "needs ECG") marked done, by whom and with what."""

    intake = models.ForeignKey("intake.Intake", on_delete=models.PROTECT, related_name="work_ups")
    code = models.CharField(max_length=40)
    note = models.CharField(max_length=300)
    done_at = models.DateTimeField(default=timezone.now)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "code"], name="work_up_done_once"),
            models.CheckConstraint(condition=~Q(note=""), name="work_up_says_what"),
        ]

    def __str__(self) -> str:
        return f"{self.code} done"


class VisitNote(models.Model):
    """The clinician's short structured note of a visit (docs/visits.md#the-visit-note):
    findings and a decision, signed and then locked like the chart (migration 0009's triggers);
    corrections are addenda, append-only."""

    class Decision(models.TextChoices):
        SUITABLE = "suitable", "Suitable for treatment"
        NOT_SUITABLE = "not_suitable", "Not suitable"
        NEEDS_MORE = "needs_more", "Needs more information"
        CONTINUE = "continue", "Continue the plan"
        REVISE = "revise", "Revise the plan"
        STOP = "stop", "Stop treatment"

    visit = models.OneToOneField("scheduling.Visit", on_delete=models.PROTECT, related_name="note")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    findings = models.TextField(max_length=4000)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    plan_text = models.TextField("plan", max_length=2000, blank=True)
    written_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(findings=""), name="visit_note_has_findings"),
        ]

    def __str__(self) -> str:
        return f"Note of visit {self.visit_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class VisitNoteAddendum(models.Model):
    """A correction or late note to a signed visit note: who, when and why. Append-only."""

    note = models.ForeignKey(VisitNote, on_delete=models.PROTECT, related_name="addenda")
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200)
    text = models.TextField()

    class Meta:
        ordering = ["written_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason="") & ~Q(text=""), name="visit_addendum_says_what_and_why"
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum to {self.note}"
