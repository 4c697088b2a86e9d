"""The desk's calendar over HTTP (docs/roles/front-desk.md#the-desks-calendar): a move from it
goes through the move service with the chair and the version the desk saw, a stale version is
refused with what changed, a move that breaks the plan's spacing is refused with the reason, the
version that pages poll changes with every change, an empty slot books one session, and only
the desk's roles open any of it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from scheduling import calendar, services
from scheduling.models import Session, Status
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 2, 1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(dt.datetime(2027, 1, 25, 12, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def clinic():
    return make_location("stamford", chairs=3, nurses=2, shifts_from=MONDAY)


def _series(clinic, email="cal@example.org", infusions=2):
    plan = approved_plan(email, clinic, infusions=infusions, min_days_between=2)
    choices = [
        services.Choice(MONDAY + dt.timedelta(days=2 * n), dt.time(9)) for n in range(infusions)
    ]
    return services.book_series(
        plan, clinic, choices, booked_by=UserFactory.create(role=Role.FRONT_DESK)
    )


def _move(client, session, **fields):
    data = {
        "date": session.local_start().date().isoformat(),
        "time": "09:00",
        "seen": calendar.session_version(session.starts_at, session.chair_id),
        "back": "calendar",
        **fields,
    }
    return client.post(reverse("scheduling:move", args=[session.public_id]), data, follow=True)


def test_a_session_dropped_on_another_chair_and_time_moves_there(clinic, login):
    session = _series(clinic).sessions.get(number=1)
    chair = clinic.chairs.exclude(pk=session.chair_id).order_by("position").last()
    desk_user = UserFactory.create(role=Role.FRONT_DESK, first_name="Dana", last_name="Desk")
    desk = login(desk_user)

    response = _move(desk, session, time="11:15", chair=chair.pk)

    assert response.redirect_chain[-1][0] == reverse(
        "scheduling:day", args=["stamford", MONDAY.isoformat()]
    )
    assert "Moved 1 session." in response.content.decode()
    session.refresh_from_db()
    assert session.chair_id == chair.pk
    assert session.local_start().time() == dt.time(11, 15)
    assert AuditEvent.objects.filter(
        record_id=str(session.public_id), actor=desk_user, detail__startswith="moved to"
    ).exists()


def test_a_move_with_the_version_of_before_another_desks_move_is_refused_with_what_changed(
    clinic, login
):
    session = _series(clinic).sessions.get(number=1)
    seen_before = calendar.session_version(session.starts_at, session.chair_id)
    first = login(UserFactory.create(role=Role.FRONT_DESK, first_name="Ana", last_name="First"))
    second = login(UserFactory.create(role=Role.FRONT_DESK))
    _move(first, session, time="13:00")

    response = _move(second, session, time="15:00", seen=seen_before)

    html = response.content.decode()
    assert "This session was moved by Ana First to Mon 1 Feb 13:00 EST" in html
    assert "while you were looking" in html
    session.refresh_from_db()
    assert session.local_start().time() == dt.time(13)


def test_a_move_that_breaks_the_plans_spacing_is_refused_with_the_reason(clinic, login):
    second = _series(clinic).sessions.get(number=2)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    response = _move(desk, second, date=(MONDAY + dt.timedelta(days=1)).isoformat())

    assert "Session 2 is 1 day after the one before; the plan needs 2 to" in (
        response.content.decode()
    )
    second.refresh_from_db()
    assert second.local_start().date() == MONDAY + dt.timedelta(days=2)


def test_a_move_to_a_chair_of_another_location_changes_nothing(clinic, login):
    session = _series(clinic).sessions.get(number=1)
    elsewhere = make_location("norwalk", chairs=1, nurses=1, shifts_from=MONDAY)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    response = _move(desk, session, time="11:00", chair=elsewhere.chairs.get().pk)

    assert "Choose a chair of this location; nothing was changed." in response.content.decode()
    assert Session.objects.get(pk=session.pk).starts_at == session.starts_at


def test_the_version_changes_with_a_move_and_answers_304_while_unchanged(clinic, login):
    session = _series(clinic).sessions.get(number=1)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    url = reverse("scheduling:day_version", args=["stamford", MONDAY.isoformat()])

    first = desk.get(url)
    again = desk.get(url, headers={"If-None-Match": first["ETag"]})
    with CaptureQueriesContext(connection) as queries:
        plain = desk.get(url)
    assert plain.status_code == 200
    polled = [q["sql"] for q in queries.captured_queries]
    _move(desk, session, time="12:00")
    after = desk.get(url, headers={"If-None-Match": first["ETag"]})

    assert first.status_code == 200 and again.status_code == 304
    assert after.status_code == 200
    assert after.json()["version"] != first.json()["version"]
    # The one aggregate over the sessions, besides the user, the location and the sign-in.
    assert sum("scheduling_session" in sql for sql in polled) == 1
    assert len(polled) <= 6


def test_an_empty_slot_books_one_session_in_its_chair_for_an_approved_plan(clinic, login):
    plan = approved_plan("slot@example.org", clinic, infusions=3, min_days_between=2)
    chair = clinic.chairs.order_by("position").last()
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    slot_url = reverse("scheduling:slot", args=["stamford", MONDAY.isoformat()])

    page = desk.post(f"{slot_url}?chair={chair.pk}&time=10:30", {"q": "slot@example"})
    response = desk.post(
        reverse("scheduling:book_slot", args=["stamford", MONDAY.isoformat()]),
        {"plan": plan.public_id, "chair": chair.pk, "time": "10:30"},
        follow=True,
    )

    assert "Book session 1 here" in page.content.decode()
    assert "Plan a series from here" in page.content.decode()
    assert "Booked session 1 for" in response.content.decode()
    session = Session.objects.get(patient=plan.patient)
    assert (session.chair_id, session.local_start()) == (
        chair.pk,
        dt.datetime.combine(MONDAY, dt.time(10, 30), tzinfo=clinic.zone),
    )
    # The next click books the series' next session, with the plan's spacing checked.
    refused = desk.post(
        reverse("scheduling:book_slot", args=["stamford", MONDAY.isoformat()]),
        {"plan": plan.public_id, "chair": chair.pk, "time": "14:00"},
        follow=True,
    )
    assert "the plan needs 2 to" in refused.content.decode()
    assert Session.objects.filter(patient=plan.patient).count() == 1


def test_an_empty_slot_on_a_closed_day_books_nothing(clinic, login):
    plan = approved_plan("closed@example.org", clinic, infusions=1)
    saturday = MONDAY + dt.timedelta(days=5)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    response = desk.post(
        reverse("scheduling:book_slot", args=["stamford", saturday.isoformat()]),
        {"plan": plan.public_id, "chair": clinic.chairs.first().pk, "time": "10:00"},
        follow=True,
    )

    assert "cannot be booked there" in response.content.decode()
    assert not Session.objects.filter(patient=plan.patient).exists()


def test_the_session_actions_offer_check_in_only_on_its_day(clinic, login):
    session = _series(clinic).sessions.get(number=1)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    url = reverse("scheduling:session", args=[session.public_id])

    ahead = desk.get(url).content.decode()
    with time_machine.travel(session.starts_at - dt.timedelta(minutes=30)):
        on_the_day = login(UserFactory.create(role=Role.FRONT_DESK)).get(url).content.decode()

    assert "Check-in opens 60 minutes before the start" in ahead
    assert ">Check in</button>" not in ahead
    assert ">Check in</button>" in on_the_day
    assert reverse("scheduling:patient", args=[session.patient.public_id]) in ahead
    assert 'name="seen"' in ahead


def test_a_check_in_from_the_calendar_returns_to_its_day_and_shows_there(clinic, login):
    session = _series(clinic).sessions.get(number=1)

    with time_machine.travel(session.starts_at - dt.timedelta(minutes=30)):
        desk = login(UserFactory.create(role=Role.FRONT_DESK))
        response = desk.post(
            reverse("scheduling:transition", args=[session.public_id, "check-in"]),
            {"back": "calendar"},
            follow=True,
        )
        week = desk.get(reverse("scheduling:week", args=["stamford", MONDAY.isoformat()]))

    assert response.redirect_chain[-1][0].endswith(f"/day/{MONDAY.isoformat()}/")
    assert 'class="block status-checked_in"' in response.content.decode()
    assert 'class="week-block status-checked_in"' in week.content.decode()
    assert Session.objects.get(pk=session.pk).status == Status.CHECKED_IN


@pytest.mark.parametrize("role", [Role.NURSE, Role.CLINICIAN, Role.PATIENT])
def test_only_the_desks_roles_open_the_calendar_and_its_actions(clinic, login, role):
    session = _series(clinic).sessions.get(number=1)
    client = login(UserFactory.create(role=role))
    day = MONDAY.isoformat()

    for url in (
        reverse("scheduling:session", args=[session.public_id]),
        reverse("scheduling:slot", args=["stamford", day]),
        reverse("scheduling:day_version", args=["stamford", day]),
        reverse("scheduling:week_version", args=["stamford", day]),
    ):
        assert client.get(url).status_code == 403, url
    assert _move(client, session, time="12:00").status_code == 403
    assert Session.objects.get(pk=session.pk).starts_at == session.starts_at


def test_a_clinic_admin_moves_from_the_calendar_like_the_desk(clinic, login):
    session = _series(clinic).sessions.get(number=1)
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    response = _move(admin, session, time="12:00")

    assert "Moved 1 session." in response.content.decode()
