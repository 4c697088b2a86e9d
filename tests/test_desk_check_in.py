"""The desk's check-in: on the session's local day only, from a set time before its start, and
undone with a reason when it was a mistake."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from locations.models import Location
from scheduling import services
from scheduling.models import Session, Status
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 2, 1)


@pytest.fixture
def clinic() -> Location:
    return make_location("stamford", chairs=2, nurses=1, shifts_from=MONDAY)


@pytest.fixture
def session(clinic: Location) -> Session:
    with time_machine.travel(dt.datetime(2027, 1, 25, 12, tzinfo=dt.UTC)):
        plan = approved_plan("p@example.org", clinic, infusions=1)
        return services.book_series(
            plan,
            clinic,
            [services.Choice(MONDAY, dt.time(10))],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        ).sessions.get()


def _local(clinic: Location, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clinic.zone)


def _check_in(desk: Client, session: Session):
    return desk.post(
        reverse("scheduling:transition", args=[session.public_id, "check-in"]), follow=True
    )


def test_a_session_three_days_ahead_cannot_be_checked_in(clinic, session, login):
    with time_machine.travel(_local(clinic, MONDAY - dt.timedelta(days=3), 10)):
        desk = login(UserFactory.create(role=Role.FRONT_DESK))
        response = _check_in(desk, session)

    text = response.content.decode()
    assert "check in done" not in text
    assert "Check-in opens 60 minutes before the start: from 09:00 EST on Mon 1 Feb." in text
    session.refresh_from_db()
    assert session.status == Status.BOOKED


def test_check_in_opens_the_set_minutes_before_the_start_on_the_local_day(clinic, session, login):
    clinic.check_in_opens_minutes = 30
    clinic.save()
    with time_machine.travel(_local(clinic, MONDAY, 9, 20)):
        desk = login(UserFactory.create(role=Role.FRONT_DESK))
        early = _check_in(desk, session)
    session.refresh_from_db()
    assert session.status == Status.BOOKED
    assert "from 09:30 EST on Mon 1 Feb" in early.content.decode()

    with time_machine.travel(_local(clinic, MONDAY, 9, 35)):
        desk = login(UserFactory.create(role=Role.FRONT_DESK))
        response = _check_in(desk, session)
    assert "Session 1: checked in." in response.content.decode()
    session.refresh_from_db()
    assert session.status == Status.CHECKED_IN


def test_a_check_in_of_an_earlier_day_is_refused_after_local_midnight(clinic, session, login):
    # 00:30 on Tuesday in Stamford, still Monday in California and later than the start.
    with time_machine.travel(_local(clinic, MONDAY + dt.timedelta(days=1), 0, 30)):
        desk = login(UserFactory.create(role=Role.FRONT_DESK))
        response = _check_in(desk, session)
    assert "Check-in is only on the session&#x27;s day" in response.content.decode()
    session.refresh_from_db()
    assert session.status == Status.BOOKED


def test_a_mistaken_check_in_is_undone_with_a_reason_and_audited(clinic, session, login):
    person = UserFactory.create(role=Role.FRONT_DESK)
    with time_machine.travel(_local(clinic, MONDAY, 9, 50)):
        desk = login(person)
        _check_in(desk, session)
        page = desk.get(reverse("scheduling:series", args=[session.series.public_id]))
        assert "Undo check-in" in page.content.decode()
        url = reverse("scheduling:undo_check_in", args=[session.public_id])
        refused = desk.post(url, {"reason": ""}, follow=True)
        session.refresh_from_db()
        assert session.status == Status.CHECKED_IN
        assert "Say why the check-in was a mistake" in refused.content.decode()

        response = desk.post(url, {"reason": "Wrong patient ticked"}, follow=True)

    text = response.content.decode()
    assert "Session 1: check-in undone; it is booked again." in text
    assert "No-show" in text and "Change" in text
    session.refresh_from_db()
    assert session.status == Status.BOOKED
    event = AuditEvent.objects.filter(record_type="session", record_id=str(session.public_id))
    assert list(event.values_list("actor", "detail")) == [
        (person.pk, "check-in undone: Wrong patient ticked"),
        (person.pk, "checked in (was booked)"),
    ]


def test_undoing_a_check_in_returns_a_confirmed_session_to_confirmed(clinic, session, login):
    services.confirm_session(session)
    with time_machine.travel(_local(clinic, MONDAY, 9, 50)):
        desk = login(UserFactory.create(role=Role.FRONT_DESK))
        _check_in(desk, session)
        desk.post(
            reverse("scheduling:undo_check_in", args=[session.public_id]),
            {"reason": "Checked in the wrong row"},
        )
    session.refresh_from_db()
    assert session.status == Status.CONFIRMED
