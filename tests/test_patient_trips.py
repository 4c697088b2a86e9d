"""What patients tripped over in real use: each test is the patient's side of one of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import PatientProfile
from locations.models import Location
from review.models import TreatmentPlan
from scheduling.models import Series
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 25, 17, tzinfo=dt.UTC)  # Monday, 12:00 in Stamford


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def irvine() -> Location:
    # Created first, so it is the first location a plain query returns.
    return make_location(
        "irvine",
        "America/Los_Angeles",
        chairs=1,
        nurses=1,
        shifts_from=NOW.date(),
        self_booking=True,
    )


@pytest.fixture
def stamford() -> Location:
    return make_location(
        "stamford",
        chairs=1,
        nurses=1,
        shifts_from=NOW.date(),
        self_booking=True,
        phone="+1 203 555 0142",
    )


def _plan(email: str, location: Location, **parameters: Any) -> TreatmentPlan:
    values: dict[str, Any] = {
        "infusions": 3,
        "min_days_between": 2,
        "max_days_between": 7,
        "span_days": 21,
    }
    values.update(parameters)
    return approved_plan(email, location, **values)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The booking form's clinic --------------------------------------------------------------


def test_the_booking_form_preselects_the_patients_preferred_location(
    irvine: Location, stamford: Location
) -> None:
    plan = _plan("stamford@example.org", stamford)

    page = _client(plan.patient).get(reverse("scheduling:self_book"))

    assert PatientProfile.objects.get(user=plan.patient).preferred_location == stamford
    assert page.status_code == 200
    assert page.context["form"]["location"].value() == stamford.pk
    assert f'<option value="{stamford.pk}" selected>' in page.content.decode()


def test_without_a_preferred_location_the_form_preselects_the_last_series_location(
    irvine: Location, stamford: Location
) -> None:
    plan = _plan("returning@example.org", stamford)
    PatientProfile.objects.filter(user=plan.patient).update(preferred_location=None)
    Series.objects.create(
        plan=plan,
        patient=plan.patient,
        location=stamford,
        booked_by=plan.patient,
        status=Series.SeriesStatus.COMPLETED,
    )

    page = _client(plan.patient).get(reverse("scheduling:self_book"))

    assert page.status_code == 200
    assert page.context["form"]["location"].value() == stamford.pk
    assert not Series.objects.filter(patient=plan.patient, status="active").exists()
