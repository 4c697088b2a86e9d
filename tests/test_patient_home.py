"""The patient's home shows the real state (docs/roles/patient.md#the-patients-home): the next
appointment, confirm and cancel within the one cancellation policy, and what to do before it; the
appointments page likewise."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from scheduling import services
from scheduling.models import Session, Status
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 14, tzinfo=dt.UTC)  # Monday 09:00 in Stamford


@pytest.fixture
def booked():
    with time_machine.travel(NOW, tick=False):
        location = make_location(shifts_from=NOW.date())
        location.phone = "203 555 0100"
        location.save()
        plan = approved_plan("owner@example.org", location, infusions=2, min_days_between=2)
        series = services.book_series(
            plan,
            location,
            [
                services.Choice(dt.date(2026, 11, 4), dt.time(10)),
                services.Choice(dt.date(2026, 11, 6), dt.time(10)),
            ],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        )
    return plan.patient, series


@pytest.fixture
def client(booked, login):
    with time_machine.travel(NOW, tick=False):
        return login(booked[0])


def test_the_home_shows_the_next_appointment_with_its_zone_place_and_preparation(booked, client):
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("scheduling:patient_home")).content.decode()

    assert "front desk will contact you" not in html
    next_up = html[html.index('data-testid="next-appointment"') :]
    assert "Wednesday 4 November 2026" in next_up and "10:00 AM" in next_up
    assert "Eastern time (EST)" in next_up and "America/" not in next_up
    assert "Stamford" in next_up and "1 Example Street" in next_up
    assert "no solid food for 6 hours" in next_up.casefold() or "6 hours" in next_up
    assert "drive" in next_up
    assert "I will come" in next_up and "Cancel this appointment" in next_up


def test_the_patient_confirms_from_home_once(booked, client):
    _patient, series = booked
    session = series.sessions.get(number=1)
    url = reverse("scheduling:confirm_mine", args=[session.public_id])
    with time_machine.travel(NOW, tick=False):
        first = client.post(url, {"back": "home"})
        second = client.post(url, {"back": "home"})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == reverse("scheduling:patient_home")
    session.refresh_from_db()
    assert session.status == Status.CONFIRMED


def test_confirm_session_is_a_conditional_update():
    assert hasattr(services, "confirm_session")


def test_the_patient_cancels_within_policy_from_the_appointments_page(booked, client):
    _patient, series = booked
    session = series.sessions.get(number=1)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("scheduling:my_sessions")).content.decode()
        response = client.post(
            reverse("scheduling:cancel_mine", args=[session.public_id]), {"back": "sessions"}
        )

    assert "Cancel this appointment" in page and "I will come" in page
    assert response["Location"] == reverse("scheduling:my_sessions")
    session.refresh_from_db()
    assert session.status == Status.CANCELLED


def test_inside_the_late_window_the_patient_is_told_to_call(booked, client):
    _patient, series = booked
    session = series.sessions.get(number=1)
    late = session.starts_at - dt.timedelta(hours=3)
    with time_machine.travel(late, tick=False):
        html = client.get(reverse("scheduling:patient_home")).content.decode()
        response = client.post(reverse("scheduling:cancel_mine", args=[session.public_id]), {})

    next_up = html[html.index('data-testid="next-appointment"') :]
    assert "Cancel this appointment" not in next_up
    assert "203 555 0100" in next_up
    session.refresh_from_db()
    assert session.status == Status.BOOKED
    assert response.status_code == 302


def test_another_patient_cannot_confirm_or_cancel(booked, login):
    _patient, series = booked
    session = series.sessions.get(number=1)
    other = login(UserFactory.create(role=Role.PATIENT))

    assert (
        other.post(reverse("scheduling:confirm_mine", args=[session.public_id])).status_code == 404
    )
    assert (
        other.post(reverse("scheduling:cancel_mine", args=[session.public_id])).status_code == 404
    )
    assert Session.objects.get(pk=session.pk).status == Status.BOOKED
