"""What patients report after infusions: check-ins and questionnaires at series milestones."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class CheckIn(models.Model):
    """The follow-up check-in 24 hours after an infusion: pain now and side effects."""

    session = models.OneToOneField(
        "scheduling.Session", on_delete=models.PROTECT, related_name="check_in"
    )
    pain = models.PositiveSmallIntegerField()
    side_effects = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    other_side_effects = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(pain__lte=10), name="checkin_pain_0_10"),
        ]

    def __str__(self) -> str:
        return f"Check-in after session {self.session_id}"


class Milestone(models.TextChoices):
    BASELINE = "baseline", "Before the series"
    MID = "mid", "Middle of the series"
    END = "end", "End of the series"


class QuestionnaireResponse(models.Model):
    """PHQ-9 and PEG at a series milestone, with the scores computed when answered."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="questionnaires"
    )
    series = models.ForeignKey(
        "scheduling.Series", on_delete=models.PROTECT, related_name="questionnaires"
    )
    milestone = models.CharField(max_length=10, choices=Milestone.choices)
    # The language the PHQ-9 was given in (the authors' Spanish version for "es").
    language = models.CharField(max_length=10, default="en")
    answers = models.JSONField(encoder=DjangoJSONEncoder)
    phq9_total = models.PositiveSmallIntegerField()
    phq9_band = models.CharField(max_length=20)
    peg = models.DecimalField(max_digits=3, decimal_places=1)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "milestone"], name="questionnaire_once_per_milestone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_milestone_display()} questionnaire"
