"""A Spanish-speaking patient told "no" online is told in Spanish (docs/languages.md#tests).

The page scans (test_spanish_pages.py) render each page as it first appears; these drive the
self-service forms into each refusal a patient can meet and scan the page that shows it.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from intake.models import Intake, IntakeAnswer
from scheduling import self_booking, services
from scheduling.models import Series, Session, WaitlistEntry
from tests.factories import LocationFactory
from tests.intake_data import valid_steps
from tests.scheduling_data import approved_plan, make_location
from tests.spanish_scan import english_runs, text_nodes

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 25, 17, tzinfo=dt.UTC)  # Monday, 12:00 in Stamford
MONDAY = dt.date(2027, 2, 1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booked():
    """A Spanish-speaking patient's three sessions, Monday, Wednesday and Friday at 10:00."""
    location = make_location(
        "espanol", chairs=1, nurses=1, shifts_from=NOW.date(), self_booking=True
    )
    plan = approved_plan(
        "refusals@example.org",
        location,
        infusions=3,
        min_days_between=2,
        max_days_between=7,
        span_days=21,
    )
    days = [MONDAY + dt.timedelta(days=2 * n) for n in range(3)]
    series = self_booking.book_own_series(
        plan.patient, location, [services.Choice(day, dt.time(10)) for day in days]
    )
    return _spanish_client(plan.patient), series


def _in_spanish(client: Client) -> Client:
    """The client after the language switch, as a patient uses it."""
    client.post("/language/", {"language": "es", "next": "/"})
    return client


def _spanish_client(patient) -> Client:
    client = Client()
    client.force_login(patient)
    return _in_spanish(client)


def _english_on(response, *typed: str) -> list[str]:
    """Runs of English words on the page; `typed`: what the patient typed, kept as typed."""
    page = response.content.decode()
    assert '<html lang="es">' in page
    allowed = frozenset({"Espanol", *typed})
    return [run for node in text_nodes(page) for run in english_runs(node, allowed)]


def _move(client, session: Session, date: str, time: str = "10:00"):
    return client.post(
        reverse("scheduling:self_move", args=[session.public_id]),
        {"date": date, "time": time},
        follow=True,
    )


def test_a_move_that_breaks_the_plans_spacing_is_refused_in_spanish(booked):
    client, series = booked
    second = series.sessions.get(number=2)

    response = _move(client, second, MONDAY.isoformat(), "14:00")  # the day of session 1

    assert "días" in response.content.decode()
    assert _english_on(response) == []
    second.refresh_from_db()
    assert second.local_start().date() == MONDAY + dt.timedelta(days=2)


def test_a_move_too_close_to_the_appointment_is_refused_in_spanish(booked):
    client, series = booked
    first = series.sessions.get(number=1)

    with time_machine.travel(first.starts_at - dt.timedelta(hours=3), tick=False):
        response = _move(client, first, MONDAY.isoformat(), "15:00")

    assert _english_on(response) == []
    first.refresh_from_db()
    assert first.local_start().time() == dt.time(10)


def test_booking_two_sessions_on_one_day_is_refused_in_spanish(booked):
    location = booked[1].location
    plan = approved_plan("nuevo@example.org", location, infusions=3, min_days_between=2)
    client = _spanish_client(plan.patient)

    response = client.post(
        reverse("scheduling:self_book"),
        {
            "location": location.pk,
            "first_date": MONDAY.isoformat(),
            "weekdays": ["0", "2", "4"],
            "window_starts": "09:00",
            "window_ends": "12:00",
            "action": "book",
            "session_1": "2027-02-08T10:00",
            "session_2": "2027-02-08T13:00",  # the same day: the plan needs 2 to 7 days
            "session_3": "2027-02-10T10:00",
        },
    )

    assert response.status_code == 200
    assert _english_on(response) == []
    assert not Series.objects.filter(patient=plan.patient).exists()


def test_a_waitlist_request_ending_before_it_starts_is_refused_in_spanish(booked):
    client, series = booked
    third = series.sessions.get(number=3)

    response = client.post(
        reverse("scheduling:self_waitlist", args=[third.public_id]),
        {
            "earliest_date": "2027-02-04",
            "latest_date": "2027-02-02",
            "window_starts": "08:00",
            "window_ends": "10:00",
        },
        follow=True,
    )

    assert _english_on(response) == []
    assert not WaitlistEntry.objects.exists()


def test_a_change_that_lost_a_race_is_explained_in_spanish():
    with translation.override("es"):
        spanish = str(services.ConcurrentChange())
    with translation.override("en"):
        english = str(services.ConcurrentChange())

    assert spanish != english
    assert english_runs(spanish, frozenset()) == []


def test_a_consent_signed_with_another_name_is_refused_in_spanish(make_user, login):
    LocationFactory.create(slug="stamford", name="Stamford")
    client = _in_spanish(login(make_user(role=Role.PATIENT, first_name="", last_name="")))
    client.post(reverse("intake:start"))
    intake = Intake.objects.get()
    steps = valid_steps()
    steps["consents"]["signature"] = "Someone Else"
    step = "intake:step"

    client.post(reverse(step, args=[intake.public_id, "about"]), steps["about"])
    response = client.post(reverse(step, args=[intake.public_id, "consents"]), steps["consents"])

    assert response.status_code == 200
    assert "Avery Testperson" in response.content.decode()
    assert _english_on(response, "Avery Testperson", "Someone Else") == []
    # What she typed is kept as a draft, and the step is not complete.
    consents = IntakeAnswer.objects.get(intake=intake, step="consents")
    assert consents.completed_at is None
    assert consents.raw["signature"] == ["Someone Else"]
