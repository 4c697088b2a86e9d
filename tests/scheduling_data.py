"""A small clinic for scheduling tests: hours, chairs, nurses on shift, approved patients."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from accounts.models import Role, User
from locations.models import Chair, Location, NurseShift, OpeningHours
from review import services as review
from review.models import ProtocolTemplate, TreatmentPlan
from scheduling import services
from scheduling.models import Hold, Series, Session, WaitlistEntry
from tests.factories import UserFactory
from tests.intake_data import submitted_intake
from worklist.models import Cause, Task
from worklist.services import open_task


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


STAFF_ROLES = (Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN, Role.CLINIC_ADMIN)


@dataclass
class World:
    """One of everything a URL can be about, and a user of every role to ask for it."""

    location: Location
    plan: TreatmentPlan
    desk: User  # booked the series; not one of `users`
    series: Series
    session: Session  # the first of the series
    first: dt.date  # the first session's day
    hold: Hold  # a live waitlist offer of the first session's slot
    desk_task: Task
    clinical_task: Task
    # "patient" owns the plan; "other" is a patient with nothing; one user per staff role (the
    # nurse works at the location).
    users: dict[str, User]


def build_world(email: str = "owner@example.org") -> World:
    """A patient's approved plan with two sessions booked ten to twelve days from today (the
    first on a Monday to a Wednesday, the second two days later, both at 10:00), a waitlist
    hold on the first session's slot, a task for the desk and one for clinicians.

    It is built in real time, not under a frozen clock: the tests sign people in with it and
    their sessions must stay valid while the test runs.
    """
    today = dt.date.today()
    first = today + dt.timedelta(days=10)
    while first.weekday() > 2:
        first += dt.timedelta(days=1)
    location = make_location(shifts_from=today, shift_days=21)
    plan = approved_plan(email, location, infusions=2, min_days_between=2)
    desk = UserFactory.create(role=Role.FRONT_DESK, locations=[location])
    series = services.book_series(
        plan,
        location,
        [
            services.Choice(first, dt.time(10)),
            services.Choice(first + dt.timedelta(days=2), dt.time(10)),
        ],
        booked_by=desk,
    )
    session = series.sessions.get(number=1)
    entry = WaitlistEntry.objects.create(
        location=location,
        session=session,
        earliest_date=first,
        latest_date=first,
        window_starts=dt.time(8),
        window_ends=dt.time(12),
    )
    hold = Hold.objects.create(
        entry=entry,
        location=location,
        chair=session.chair,
        nurse=session.nurse,
        starts_at=session.starts_at,
        setup_ends_at=session.setup_ends_at,
        ends_at=session.ends_at,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    desk_task = open_task(Cause.UNCLEAR_REPLY, f"patient:{plan.patient.pk}", subject="x")
    clinical_task = open_task(Cause.SERIES_ENDED, f"series:{series.pk}", subject="y")
    users = {
        "patient": plan.patient,
        "other": UserFactory.create(role=Role.PATIENT),
        # Staff of the patient's location: the desk, nurses and clinicians see the patients of
        # their locations (docs/security.md#which-locations-patients-each-role-sees).
        **{str(role): UserFactory.create(role=role, locations=[location]) for role in STAFF_ROLES},
    }
    return World(
        location, plan, desk, series, session, first, hold, desk_task, clinical_task, users
    )
