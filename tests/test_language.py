"""Patients read the site in English or Spanish (docs/languages.md): the browser's language before
signing in, the language switch on every patient page, and the patient's stored language once signed
in, which wins over the browser's. Staff pages stay in English."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import PatientProfile, Role, User
from tests.factories import PASSWORD, UserFactory

COOKIE = settings.LANGUAGE_COOKIE_NAME


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang>"
    return match.group(1)


def patient(language: str = "", email: str = "lucia.ramos@example.org") -> User:
    user = UserFactory.create(role=Role.PATIENT, email=email, first_name="Lucía")
    PatientProfile.objects.create(
        user=user,
        date_of_birth=dt.date(1979, 5, 2),
        preferred_language=language,
        email_verified_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    return user


def sign_in(client: Client, user: User) -> None:
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, "the login form refused the test patient"


@pytest.mark.django_db
def test_a_visitor_whose_browser_asks_for_spanish_gets_the_sign_in_page_in_spanish(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")

    assert response.status_code == 200
    assert html_lang(response) == "es"
    html = response.content.decode()
    assert "Iniciar sesión" in html
    assert "Sign in" not in html
    assert response["Content-Language"] == "es"


@pytest.mark.django_db
def test_the_switch_before_sign_in_sets_the_cookie_and_returns_to_the_page(client):
    page = client.get("/register/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-testid="language-switch"' in page.content.decode()
    assert 'lang="es"' in page.content.decode()  # the button names Spanish in Spanish

    response = client.post("/language/", {"language": "es", "next": "/register/"})

    assert response.status_code == 302
    assert response["Location"] == "/register/"
    assert response.cookies[COOKIE].value == "es"
    after = client.get("/register/", HTTP_ACCEPT_LANGUAGE="en")
    assert html_lang(after) == "es"
    assert "Crear una cuenta" in after.content.decode()


@pytest.mark.django_db
def test_the_switch_ignores_an_unknown_language_and_a_foreign_next_address(client):
    response = client.post("/language/", {"language": "xx", "next": "https://evil.example/"})

    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")
    assert COOKIE not in response.cookies


@pytest.mark.django_db
def test_a_patient_s_stored_spanish_wins_over_an_english_browser_after_sign_in():
    user = patient("es")
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    client.cookies[COOKIE] = "en"

    sign_in(client, user)
    home = client.get("/intake/")

    assert home.status_code == 200
    assert html_lang(home) == "es"
    assert "Mi atención" in home.content.decode()  # the navigation
    assert client.cookies[COOKIE].value == "es"  # set for the pages after signing out


@pytest.mark.django_db
def test_the_switch_stores_a_signed_in_patient_s_choice_and_the_next_sign_in_uses_it():
    user = patient("en")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, user)

    client.post("/language/", {"language": "es", "next": "/intake/"})

    user.patient_profile.refresh_from_db()
    assert user.patient_profile.preferred_language == "es"
    assert html_lang(client.get("/intake/")) == "es"
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(elsewhere, user)
    assert html_lang(elsewhere.get("/sessions/")) == "es"


@pytest.mark.django_db
def test_a_patient_without_a_stored_language_keeps_the_one_they_signed_in_with():
    user = patient("")
    client = Client(HTTP_ACCEPT_LANGUAGE="es")

    sign_in(client, user)

    user.patient_profile.refresh_from_db()
    assert user.patient_profile.preferred_language == "es"
    assert html_lang(client.get("/intake/", HTTP_ACCEPT_LANGUAGE="en")) == "es"


@pytest.mark.django_db
def test_a_patient_who_registers_in_spanish_is_written_to_in_spanish(client, inbox):
    client.cookies[COOKIE] = "es"
    client.post(
        "/register/",
        {
            "first_name": "Lucía",
            "last_name": "Ramos",
            "email": "lucia.ramos@example.org",
            "date_of_birth": "1979-05-02",
        },
    )

    profile = PatientProfile.objects.get(user__email="lucia.ramos@example.org")
    assert profile.preferred_language == "es"
    (email,) = inbox.deliver()
    assert "Confirme su correo electrónico" in email.subject
    assert "Gracias por crear una cuenta" in email.body


@pytest.mark.django_db
def test_an_account_email_follows_the_language_the_patient_has_when_it_is_sent(client, inbox):
    client.cookies[COOKIE] = "es"
    client.post(
        "/register/",
        {
            "first_name": "Lucía",
            "last_name": "Ramos",
            "email": "lucia.ramos@example.org",
            "date_of_birth": "1979-05-02",
        },
    )
    PatientProfile.objects.filter(user__email="lucia.ramos@example.org").update(
        preferred_language="en"
    )

    (email,) = inbox.deliver()
    assert email.subject.startswith("Confirm your email address")


@pytest.mark.django_db
def test_staff_pages_stay_in_english_whatever_the_cookie_and_the_browser_say(login):
    clinician = UserFactory.create(role=Role.CLINICIAN)
    client = login(clinician)
    client.cookies[COOKIE] = "es"

    response = client.get("/review/", HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 200
    assert html_lang(response) == "en"
    assert "Review queue" in response.content.decode()
    assert 'data-testid="language-switch"' not in response.content.decode()
