"""The desk finds a patient by any spelling of a phone, by email, by date of birth, and by a
name typed without its accents or capitals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import PatientProfile, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana() -> User:
    patient = UserFactory.create(
        role=Role.PATIENT, email="ana.f@example.org", first_name="Ana", last_name="Fernández"
    )
    PatientProfile.objects.create(
        user=patient, date_of_birth=dt.date(1984, 3, 7), mobile_phone="+19495550123"
    )
    return patient


@pytest.fixture
def other() -> User:
    patient = UserFactory.create(
        role=Role.PATIENT, email="bo@example.org", first_name="Bo", last_name="Fernandes"
    )
    PatientProfile.objects.create(
        user=patient, date_of_birth=dt.date(1990, 1, 2), mobile_phone="+12035550111"
    )
    return patient


def _found(desk: Client, query: str) -> list[str]:
    response = desk.post(reverse("scheduling:search"), {"q": query})
    assert response.status_code == 200
    return [p.email for p in response.context["patients"]]


@pytest.mark.parametrize(
    "query",
    [
        "(949) 555-0123",
        "949 555 0123",
        "949-555-0123",
        "+1 949 555 0123",
        "9495550123",
        "555-0123",
    ],
)
def test_a_phone_in_any_format_finds_the_patient(ana, other, login, query):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    assert _found(desk, query) == ["ana.f@example.org"]
    assert PatientProfile.objects.get(user=ana).mobile_phone == "+19495550123"


@pytest.mark.parametrize("query", ["Fernandez", "fernández", "FERNANDEZ", "ana fernandez"])
def test_a_name_is_found_without_its_accents_or_capitals(ana, other, login, query):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    assert _found(desk, query) == ["ana.f@example.org"]


@pytest.mark.parametrize("query", ["03/07/1984", "1984-03-07", "3/7/1984"])
def test_a_date_of_birth_finds_the_patient(ana, other, login, query):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    assert _found(desk, query) == ["ana.f@example.org"]


def test_an_email_finds_the_patient_and_the_phone_is_shown_as_the_app_writes_it(ana, other, login):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    response = desk.post(reverse("scheduling:search"), {"q": "ANA.F@example.org"})
    assert [p.email for p in response.context["patients"]] == ["ana.f@example.org"]
    html = response.content.decode()
    assert "(949) 555-0123" in html
    assert "+19495550123" not in html
    assert "7 Mar 1984" in html
