"""The nurse's chart of one infusion (PRODUCT.md 6): check-in, dose, vitals, discharge."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from charting import rules

# Side effects by code, as the nurse charts them during the infusion and the patient reports them
# at the check-in after it (outcomes): both are stored as these codes.
SIDE_EFFECTS = [
    ("nausea", "Nausea or vomiting"),
    ("dizziness", "Dizziness"),
    ("headache", "Headache"),
    ("drowsiness", "Drowsiness or tiredness"),
    ("dissociation", "Feeling unreal, detached or dreamy"),
    ("anxiety", "Anxiety or low mood"),
    ("bladder", "Pain or burning when passing urine"),
]


class InfusionRecord(models.Model):
    session = models.OneToOneField(
        "scheduling.Session", on_delete=models.PROTECT, related_name="record"
    )
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Check-in
    checked_in_at = models.DateTimeField()
    fasting_confirmed = models.BooleanField()
    escort_name = models.CharField(max_length=100)
    escort_phone = models.CharField(max_length=32)
    pregnancy_possible = models.BooleanField(null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    pain_before = models.PositiveSmallIntegerField()
    # Dose, computed from today's weight and the plan, confirmed before the infusion starts
    dose_mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2)
    dose_cap_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=1)
    dose_confirmed_at = models.DateTimeField(null=True, blank=True)
    infusion_started_at = models.DateTimeField(null=True, blank=True)
    infusion_ended_at = models.DateTimeField(null=True, blank=True)
    stopped_early_reason = models.CharField(max_length=300, blank=True)
    side_effects = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    interventions = models.TextField(blank=True)
    # Discharge
    alert_and_oriented = models.BooleanField(default=False)
    escort_present_at_discharge = models.BooleanField(default=False)
    instructions_given = models.BooleanField(default=False)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)

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
        ]
        indexes = [
            # The dashboard: actual chair time of sessions at a location in a week.
            models.Index(fields=["checked_in_at"], name="record_checked_in"),
        ]

    def __str__(self) -> str:
        return f"Chart of session {self.session_id}"


class VitalSign(models.Model):
    class Phase(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        INFUSION = "infusion", "During the infusion"
        RECOVERY = "recovery", "Recovery"

    record = models.ForeignKey(InfusionRecord, on_delete=models.CASCADE, related_name="vitals")
    taken_at = models.DateTimeField()
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
        ordering = ["taken_at"]
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
        ]

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic}, {self.pulse}/min, {self.spo2}%"

    def as_vitals(self) -> rules.Vitals:
        return rules.Vitals(self.systolic, self.diastolic, self.pulse, self.spo2, self.resp_rate)
