"""People's words (docs/product-rules.md#intake): every page title carries SITE_NAME, a 403 is one
log line, and no Django default message text reaches a page in the intake and review journeys."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.default_messages import assert_in_peoples_words
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import submitted_intake, valid_steps

pytestmark = pytest.mark.django_db


def test_the_login_page_title_carries_the_site_name(client, settings):
    settings.SITE_NAME = "Example Ketamine Clinic"

    html = client.get(reverse("accounts:login")).content.decode()

    title = html.split("<title>")[1].split("</title>")[0]
    assert "Example Ketamine Clinic" in title
    assert "testserver" not in html


def test_a_403_is_logged_as_one_line_without_a_traceback(login, caplog):
    patient = login(UserFactory.create(role=Role.PATIENT))

    with caplog.at_level(logging.DEBUG):
        response = patient.get(reverse("review:queue"))

    assert response.status_code == 403
    forbidden = [r for r in caplog.records if "Forbidden" in r.getMessage()]
    assert len(forbidden) == 1
    assert forbidden[0].exc_info is None and not forbidden[0].exc_text
    assert "\n" not in forbidden[0].getMessage()


def test_the_detector_finds_a_django_default_message():
    with pytest.raises(AssertionError):
        assert_in_peoples_words("<p>Ensure this value is less than or equal to 260.</p>")
    with pytest.raises(AssertionError):
        assert_in_peoples_words("<p>This field is required.</p>")


# Bad answers for each step, as a hurried or hostile person might type them.
BAD: dict[str, dict[str, object]] = {
    "about": {
        "date_of_birth": "31/02/1980",
        "email": "not-an-email",
        "legal_first_name": "x" * 300,
        "preferred_location": "nowhere",
        "sex_at_birth": "",
        "city": "",
    },
    "contacts": {"emergency_phone": "abc", "escort_name": ""},
    "reason": {"indications": ["nonsense"], "pain_duration": ""},
    "fibromyalgia": {"painful_areas": ["tail"], "fatigue": "9"},
    "pain": {"pain_now": "11", "pain_average": ""},
    "mood": {"phq9_1": "x"},
    "safety": {
        "recent_systolic": "300",
        "recent_diastolic": "abc",
        "heart_attack": "",
        "recent_bp_date": "yesterday",
        "medications-0-name": "y" * 500,
    },
    "measurements": {"weight": "abc", "height_cm": "-1", "height_unit": "cm", "weight_unit": "st"},
    "insurance": {"payment": "insurance", "payer": ""},
    "consents": {"signature": "", "treatment_consent": ""},
}


def test_bad_answers_on_every_step_get_messages_in_peoples_words(make_user, login):
    LocationFactory.create(slug="stamford", name="Stamford")
    client = login(make_user(role=Role.PATIENT))
    client.post(reverse("intake:start"))
    from intake.models import Intake

    intake = Intake.objects.get()
    for slug, bad in BAD.items():
        data = {**valid_steps()[slug], **bad}
        response = client.post(reverse("intake:step", args=[intake.public_id, slug]), data)
        assert response.status_code == 200, slug
        html = response.content.decode()
        assert "Please check the answers marked below" in html, slug
        assert_in_peoples_words(html, where=slug)


def test_bad_decisions_get_messages_in_peoples_words(login):
    stamford = LocationFactory.create(slug="stamford", name="Stamford")
    clinician = UserFactory.create(role=Role.CLINICIAN)
    clinician.locations.set([stamford])
    intake = submitted_intake(UserFactory.create(role=Role.PATIENT))
    client = login(clinician)

    for name, data in [
        (
            "approve",
            {"plan-infusions": "-1", "plan-dose_mg_per_kg": "abc", "plan-indication": "x" * 300},
        ),
        ("decline", {"decline-patient_message": ""}),
        ("more_info", {"more-steps": ["nowhere"]}),
    ]:
        response = client.post(reverse(f"review:{name}", args=[intake.public_id]), data)
        assert response.status_code == 200, name
        assert_in_peoples_words(response.content.decode(), where=name)
