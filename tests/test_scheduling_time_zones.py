"""A series across a daylight-saving change keeps its local wall-clock time in both demo zones."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import Role
from scheduling import planner, services
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("zone", "first", "offsets"),
    [
        # US daylight saving starts on 14 March 2027 and ends on 7 November 2027.
        ("America/New_York", dt.date(2027, 3, 8), {-5, -4}),
        ("America/Los_Angeles", dt.date(2027, 3, 8), {-8, -7}),
        ("America/New_York", dt.date(2027, 11, 1), {-4, -5}),
        ("America/Los_Angeles", dt.date(2027, 11, 1), {-7, -8}),
    ],
)
def test_a_series_across_a_dst_change_keeps_ten_oclock_local(zone, first, offsets):
    with time_machine.travel(
        dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=10)
    ):
        location = make_location(
            zone.split("/")[1].lower(), zone, shifts_from=first - dt.timedelta(days=3)
        )
        plan = approved_plan(f"dst.{location.slug}@example.org", location)
        request = planner.Request(
            shape=planner.PlanShape.from_plan(plan),
            first_date=first,
            weekdays=frozenset({0, 2, 4}),
            windows=(planner.Window(dt.time(10), dt.time(10)),),
        )
        proposal = planner.propose(location, plan.patient_id, request)
        series = services.book_series(
            plan,
            location,
            [services.Choice(s.slot.date, s.slot.local_time) for s in proposal.sessions],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        )

    sessions = list(series.sessions.order_by("number"))
    assert {s.local_start().time() for s in sessions} == {dt.time(10)}
    seen = {int(s.local_start().utcoffset().total_seconds() // 3600) for s in sessions}
    assert seen == offsets
    # Stored in UTC: the UTC hour moves by one across the change, the local hour does not.
    assert len({s.starts_at.astimezone(dt.UTC).hour for s in sessions}) == 2
