"""A session about to start today, booked directly (charting does not care how it was booked)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import Role
from scheduling.models import Series, Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location


def session_today(slug: str = "stamford", email: str = "chart@example.org", starts_in=30):
    location = make_location(slug, chairs=2, nurses=1, shifts_from=timezone.localdate())
    plan = approved_plan(email, location)
    nurse = UserFactory.create(role=Role.NURSE, email=f"charting.nurse.{slug}@example.org")
    nurse.locations.add(location)
    series = Series.objects.create(
        plan=plan, patient=plan.patient, location=location, booked_by=nurse
    )
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=starts_in)
    session = Session.objects.create(
        series=series,
        number=1,
        patient=plan.patient,
        location=location,
        chair=location.chairs.get(position=1),
        nurse=nurse,
        starts_at=start,
        setup_ends_at=start + dt.timedelta(minutes=15),
        ends_at=start + dt.timedelta(minutes=100),
    )
    return session, nurse
