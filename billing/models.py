"""The clinic's one price list: what each service costs at each location, line by line.

A service (an infusion, an evaluation, a follow-up, a booster) is billed as one or more lines,
each with its procedure or supply code, units and charge: an infusion is typically the first hour
of infusion, each further hour and the drug. The payments, the Good Faith Estimates and the
superbills all read these lines (`billing.prices`); nothing else holds a price.

A price is never edited in place: a change ends the current line (`valid_until`) and starts a new
one, so what a booking was shown stays readable, and a change applies to new bookings only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Service(models.TextChoices):
    INFUSION = "infusion", _("Infusion")
    EVALUATION = "evaluation", _("Evaluation visit")
    FOLLOW_UP = "follow_up", _("Follow-up visit")
    BOOSTER = "booster", _("Booster infusion")


class PriceLine(models.Model):
    """One billable line of a service at a location, in force from `valid_from` until replaced."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="price_lines"
    )
    service = models.CharField(max_length=20, choices=Service.choices)
    code = models.CharField(
        max_length=10, help_text="Procedure or supply code billed for this line, e.g. 96365."
    )
    description = models.CharField(max_length=200, help_text="The clinic's own words for it.")
    units = models.PositiveSmallIntegerField(default=1)
    amount = models.PositiveIntegerField(help_text="The line's charge in minor units (cents).")
    currency = models.CharField(max_length=3, default="USD")
    position = models.PositiveSmallIntegerField(default=0)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["location", "service", "position", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="price_line_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="price_line_validity_order",
            ),
            models.CheckConstraint(condition=Q(units__gte=1), name="price_line_units_positive"),
        ]
        indexes = [models.Index(fields=["location", "service", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.location} {self.service} {self.code} ×{self.units}"
