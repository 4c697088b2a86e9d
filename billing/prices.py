"""Reading the price list: the lines in force for a service at a location at a moment."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.models import PriceLine
from billing.money import Money


def lines_in_force(
    location_id: int, service: str, at: dt.datetime | None = None
) -> QuerySet[PriceLine]:
    at = at or timezone.now()
    return PriceLine.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=at),
        location_id=location_id,
        service=service,
        valid_from__lte=at,
    ).order_by("position", "id")


def service_total(location_id: int, service: str, at: dt.datetime | None = None) -> Money | None:
    """What one `service` costs at the location at `at`, or None when it has no price."""
    lines = list(lines_in_force(location_id, service, at))
    if not lines:
        return None
    total = Money.zero(lines[0].currency)
    for line in lines:
        total += Money(line.amount, line.currency)
    return total
