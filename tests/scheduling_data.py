"""A small clinic for scheduling tests: hours, chairs, nurses on shift, approved patients."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from accounts.models import Role
from locations.models import Chair, Location, NurseShift, OpeningHours
from review import services as review
from review.models import ProtocolTemplate, TreatmentPlan
from tests.factories import UserFactory
from tests.intake_data import submitted_intake


def make_location(
    slug: str = "stamford",
    zone: str = "America/New_York",
    *,
    chairs: int = 3,
    nurses: int = 2,
    capacity: int = 1,
    opens: dt.time = dt.time(8),
    closes: dt.time = dt.time(18),
    weekdays: range = range(5),
    shifts_from: dt.date | None = None,
    shift_days: int = 70,
    **fields: Any,
) -> Location:
    """`fields`: any other of the location's own fields (`self_booking=True`, `phone=…`)."""
    location = Location.objects.create(
        name=slug.title(),
        slug=slug,
        time_zone=zone,
        address="1 Example Street",
        nurse_monitor_capacity=capacity,
        **fields,
    )
    for weekday in weekdays:
        OpeningHours.objects.create(location=location, weekday=weekday, opens=opens, closes=closes)
    for number in range(1, chairs + 1):
        Chair.objects.create(location=location, name=f"Chair {number}", position=number)
    tz = zoneinfo.ZoneInfo(zone)
    start = shifts_from or dt.date.today()
    shifts = []
    for n in range(nurses):
        nurse = UserFactory.create(role=Role.NURSE, email=f"nurse{n}.{slug}@example.org")
        nurse.locations.add(location)
        for offset in range(shift_days):
            day = start + dt.timedelta(days=offset)
            if day.weekday() in weekdays:
                shifts.append(
                    NurseShift(
                        location=location,
                        nurse=nurse,
                        starts_at=dt.datetime.combine(day, opens, tzinfo=tz),
                        ends_at=dt.datetime.combine(day, closes, tzinfo=tz),
                    )
                )
    NurseShift.objects.bulk_create(shifts)
    return location


def approved_plan(
    email: str,
    location: Location,
    *,
    intake_changes: dict | None = None,
    **parameters: object,
) -> TreatmentPlan:
    """A patient with a submitted intake approved with the default protocol (adjusted)."""
    patient = UserFactory.create(role=Role.PATIENT, email=email)
    intake = submitted_intake(patient, location_slug=location.slug, changes=intake_changes)
    clinician = UserFactory.create(role=Role.CLINICIAN)
    template = ProtocolTemplate.objects.get(is_default=True)
    values = {field: getattr(template, field) for field in review.PLAN_FIELDS}
    values.update(parameters)
    return review.approve(intake, clinician, values)
