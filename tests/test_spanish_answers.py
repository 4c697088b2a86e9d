"""A Spanish-speaking patient's answers (docs/languages.md#the-instruments): the PHQ-9 and GAD-7
asked in their authors' Spanish wording, the consent texts in Spanish, each answer set stored with
its instrument, version and language, and the clinician's summary in English saying which language
they were given in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import PatientProfile, Role
from intake import instrument_texts, services
from intake.models import IntakeAnswer
from intake.samples import fill_intake
from tests.factories import PASSWORD, UserFactory
from tests.scheduling_data import make_location

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    user = UserFactory.create(role=Role.PATIENT, email="lucia@example.org", first_name="Lucía")
    PatientProfile.objects.create(
        user=user, date_of_birth=dt.date(1979, 5, 2), preferred_language="es"
    )
    return user


def _signed_in(user) -> Client:
    client = Client()
    assert client.post("/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_the_mood_step_asks_the_phq9_and_gad7_in_the_authors_spanish_wording(patient):
    make_location()
    client = _signed_in(patient)
    draft = services.start_draft(patient)

    html = client.get(reverse("intake:step", args=[draft.public_id, "mood"])).content.decode()

    assert "Poco interés o placer en hacer cosas" in html
    assert "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera" in html
    assert "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta" in html
    assert instrument_texts.SPANISH.phq9_prompt in html
    assert "Más de la mitad de los días" in html
    assert "Little interest or pleasure" not in html


def test_answers_given_in_spanish_are_stored_with_instrument_version_and_language(patient):
    make_location()
    client = _signed_in(patient)
    draft = services.start_draft(patient)
    posted = {f"phq9_{n}": "1" for n in range(1, 10)} | {f"gad7_{n}": "2" for n in range(1, 8)}
    posted["phq9_9"] = "0"

    response = client.post(reverse("intake:step", args=[draft.public_id, "mood"]), posted)

    assert response.status_code == 302
    answer = IntakeAnswer.objects.get(intake=draft, step="mood")
    assert (answer.instrument, answer.instrument_version, answer.language) == (
        "phq-9+gad-7",
        "2001+2006",
        "es",
    )
    assert answer.data["phq9_1"] == 1 and answer.data["gad7_7"] == 2


def test_a_consent_signed_in_spanish_records_the_spanish_texts_version_and_language(patient):
    make_location()
    with translation.override("es"):
        intake = fill_intake(patient)
        page_texts = services.current_consent_texts()

    consents = IntakeAnswer.objects.get(intake=intake, step="consents")
    assert consents.language == "es"
    assert consents.data["consent_versions"]["treatment"] == "2026-11"
    assert consents.data["consent_languages"] == {
        "escort": "es",
        "fasting": "es",
        "sms": "es",
        "treatment": "es",
    }
    assert page_texts["treatment"].title.startswith("Consentimiento para el tratamiento")


def test_the_consent_step_shows_the_spanish_texts(patient):
    make_location()
    client = _signed_in(patient)
    draft = services.start_draft(patient)

    html = client.get(reverse("intake:step", args=[draft.public_id, "consents"])).content.decode()

    assert "Consentimiento para el tratamiento con ketamina intravenosa" in html
    assert "Consent to treatment with intravenous ketamine" not in html


def test_the_clinicians_summary_shows_spanish_answers_in_english_and_names_the_language(
    patient, login
):
    make_location()
    with translation.override("es"):
        intake = services.submit(fill_intake(patient))
    clinician = UserFactory.create(role=Role.CLINICIAN)

    html = login(clinician).get(reverse("review:summary", args=[intake.public_id])).content
    page = html.decode()

    assert "The patient answered in <strong>Spanish</strong>" in page
    assert "answered in Spanish" in page
    assert "Little interest or pleasure in doing things" in page  # the English label
    assert "Poco interés o placer" not in page
    assert '<html lang="en">' in page


def test_date_fields_keep_the_iso_format_a_date_input_needs_in_spanish(patient):
    """Spanish writes 02/05/1979, which an <input type="date"> refuses and shows empty."""
    make_location()
    client = _signed_in(patient)
    draft = services.start_draft(patient)

    html = client.get(reverse("intake:step", args=[draft.public_id, "about"])).content.decode()

    assert 'value="1979-05-02"' in html
