"""Closed days are one rule every booking path asks (`Location.openings`): the location's public
holidays from the `holidays` package (country and subdivision chosen in Settings, each holiday
switchable) and its own closures. A closure added over booked sessions opens a desk task whose
one step moves each to a proposed new time, the patient told as for any move."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from locations.models import Closure
from notifications.models import Message
from scheduling import planner, services
from scheduling.models import Session, Status
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from worklist.models import Task

pytestmark = pytest.mark.django_db

THANKSGIVING = dt.date(2026, 11, 26)
CHRISTMAS = dt.date(2026, 12, 25)
COLUMBUS_DAY = dt.date(2026, 10, 12)


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(dt.datetime(2026, 11, 16, 14, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def stamford():
    return make_location(
        "stamford",
        chairs=4,
        nurses=3,
        shifts_from=dt.date(2026, 10, 1),
        shift_days=120,
        holiday_country="US",
        holiday_subdivision="CT",
    )


def test_public_holidays_close_the_location_unless_switched_open(stamford):
    assert stamford.hours_on(THANKSGIVING) is None
    assert stamford.hours_on(CHRISTMAS) is None
    assert stamford.hours_on(COLUMBUS_DAY) is None
    assert stamford.closed_days(CHRISTMAS, CHRISTMAS) == {CHRISTMAS: "Christmas Day"}

    stamford.open_on_holidays = ["Columbus Day"]
    stamford.save()

    assert stamford.hours_on(COLUMBUS_DAY) is not None
    assert stamford.hours_on(THANKSGIVING) is None


def test_a_holiday_switched_open_keeps_its_observed_day_open_too():
    location = make_location(
        "irvine", "America/Los_Angeles", nurses=0, holiday_country="US", holiday_subdivision="CA"
    )
    observed = dt.date(2027, 12, 24)  # Christmas 2027 falls on a Saturday
    assert location.hours_on(observed) is None

    location.open_on_holidays = ["Christmas Day"]
    location.save()

    assert location.hours_on(observed) is not None


def test_a_series_planned_across_thanksgiving_and_christmas_lands_around_them(stamford):
    plan = approved_plan("holidays@example.org", stamford, infusions=12)
    request = planner.Request(
        shape=planner.PlanShape.from_plan(plan),
        first_date=dt.date(2026, 11, 23),
        weekdays=frozenset(range(5)),
    )

    proposal = planner.propose(stamford, plan.patient_id, request)

    dates = [proposed.slot.date for proposed in proposal.sessions]
    assert proposal.complete and len(dates) == 12
    assert THANKSGIVING not in dates and CHRISTMAS not in dates
    assert not set(dates) & set(stamford.public_holidays(dates[0], dates[-1]))


def test_moving_a_session_onto_a_holiday_is_refused_and_moves_nothing(stamford):
    plan = approved_plan("move@example.org", stamford, infusions=1)
    desk = UserFactory.create(role=Role.FRONT_DESK)
    series = services.book_series(
        plan, stamford, [services.Choice(dt.date(2026, 11, 24), dt.time(10))], booked_by=desk
    )
    session = series.sessions.get()

    with pytest.raises(services.BookingConflict):
        services.move_sessions(session, services.Choice(THANKSGIVING, dt.time(10)))

    session.refresh_from_db()
    assert session.local_start().date() == dt.date(2026, 11, 24)


def test_the_admin_chooses_the_holidays_and_switches_one_open(stamford, login):
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    url = reverse("scheduling:closed_days", args=[stamford.slug])

    page = admin.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Thanksgiving Day" in html and "Christmas Day" in html

    saved = admin.post(
        url,
        {
            "action": "holidays",
            "holiday_country": "us",
            "holiday_subdivision": "ct",
            "open_on_holidays": ["Columbus Day"],
        },
    )

    assert saved.status_code == 302
    stamford.refresh_from_db()
    assert (stamford.holiday_country, stamford.holiday_subdivision) == ("US", "CT")
    assert stamford.open_on_holidays == ["Columbus Day"]


def test_an_unknown_subdivision_is_refused_in_plain_words(stamford, login):
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    url = reverse("scheduling:closed_days", args=[stamford.slug])

    refused = admin.post(
        url, {"action": "holidays", "holiday_country": "US", "holiday_subdivision": "ZZ"}
    )

    assert refused.status_code == 200
    assert "ZZ is not a subdivision of US." in refused.content.decode()
    stamford.refresh_from_db()
    assert stamford.holiday_subdivision == "CT"


def test_the_desk_cannot_change_the_closed_days(stamford, login):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    response = desk.get(reverse("scheduling:closed_days", args=[stamford.slug]))

    assert response.status_code == 403


def test_a_closure_over_booked_sessions_opens_a_task_whose_step_moves_each(stamford, login):
    desk_user = UserFactory.create(role=Role.FRONT_DESK)
    storm_day = dt.date(2026, 11, 24)
    booked = []
    for n, time in enumerate([dt.time(9), dt.time(11)]):
        plan = approved_plan(f"storm{n}@example.org", stamford, infusions=1)
        series = services.book_series(
            plan, stamford, [services.Choice(storm_day, time)], booked_by=desk_user
        )
        booked.append(series.sessions.get())
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    added = admin.post(
        reverse("scheduling:closed_days", args=[stamford.slug]),
        {"action": "closure", "starts_on": "2026-11-24", "ends_on": "2026-11-24", "reason": "Snow"},
    )

    assert added.status_code == 302
    closure = Closure.objects.get(location=stamford)
    (task,) = Task.objects.filter(cause="closed_day", status="open")
    assert task.queue == "desk"
    assert "2 sessions" in task.detail
    assert task.link == reverse("scheduling:closure_rebook", args=[closure.pk])

    desk = login(desk_user)
    page = desk.get(task.link)
    assert page.status_code == 200
    proposals = page.context["proposals"]
    assert len(proposals) == 2
    assert all(p.choice is not None and p.choice.date != storm_day for p in proposals)

    messages_before = Message.objects.count()
    moved = desk.post(task.link, {"move": [str(s.public_id) for s in booked]})

    assert moved.status_code == 302
    for session in booked:
        session.refresh_from_db()
        assert session.status == Status.BOOKED
        assert session.local_start().date() != storm_day
        assert stamford.hours_on(session.local_start().date()) is not None
    assert Message.objects.count() > messages_before  # the patients are told, as for any move
    task.refresh_from_db()
    assert task.status == "done"
    assert not Session.objects.filter(
        location=stamford, starts_at__date=storm_day, status=Status.BOOKED
    ).exists()
