from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import PatientProfile, Role
from intake.models import Intake, IntakeAnswer, IntakeAttachment
from intake.steps import STEPS
from review.services import request_more_information
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import valid_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(make_user):
    return make_user(role=Role.PATIENT, first_name="", last_name="")


@pytest.fixture
def stamford():
    return LocationFactory.create(slug="stamford", name="Stamford")


@pytest.fixture
def patient_client(patient, login, stamford):
    return login(patient)


def step_url(intake: Intake, slug: str) -> str:
    return reverse("intake:step", args=[intake.public_id, slug])


def start(client) -> Intake:
    response = client.post(reverse("intake:start"))
    assert response.status_code == 302
    return Intake.objects.get()


def fill_all(client, intake: Intake, steps: dict | None = None) -> None:
    for slug, data in (steps or valid_steps()).items():
        response = client.post(step_url(intake, slug), data)
        assert response.status_code == 302, (slug, _errors(response))


def _errors(response) -> object:
    context = getattr(response, "context", None)
    return context["form"].errors if context else response.content[:500]


def test_the_home_page_says_not_started_then_in_progress(patient_client):
    response = patient_client.get(reverse("scheduling:patient_home"))
    assert "Not started" in response.content.decode()

    intake = start(patient_client)
    patient_client.post(step_url(intake, "about"), valid_steps()["about"])

    response = patient_client.get(reverse("scheduling:patient_home"))
    html = response.content.decode()
    assert "In progress: 1 of 10 steps done" in html
    assert step_url(intake, "contacts") in html


def test_starting_twice_keeps_one_draft(patient_client):
    start(patient_client)
    patient_client.post(reverse("intake:start"))

    assert Intake.objects.count() == 1


def test_each_step_is_saved_as_a_draft_with_its_instrument(patient_client):
    intake = start(patient_client)

    response = patient_client.post(step_url(intake, "about"), valid_steps()["about"])

    assert response["Location"] == step_url(intake, "contacts")
    answer = IntakeAnswer.objects.get(intake=intake, step="about")
    assert answer.completed_at is not None
    assert (answer.instrument, answer.instrument_version) == ("clinic-about-you", "1")
    assert answer.data["date_of_birth"] == "1980-04-12"
    assert answer.data["mobile_phone"] == "+12035550199"
    intake.refresh_from_db()
    assert intake.location.slug == "stamford"


def test_a_validation_error_shows_next_to_the_field_and_keeps_everything_typed(patient_client):
    intake = start(patient_client)
    data = {**valid_steps()["about"], "postal_code": "ABCDE", "date_of_birth": "2015-01-01"}

    response = patient_client.post(step_url(intake, "about"), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a ZIP code like 06902" in html
    assert "This service is for adults (18 or over)" in html
    assert 'value="12 Elm Street"' in html
    answer = IntakeAnswer.objects.get(intake=intake, step="about")
    assert answer.completed_at is None
    assert answer.raw["address_line1"] == ["12 Elm Street"]

    # Leaving and coming back shows what was typed, with the same messages.
    again = patient_client.get(step_url(intake, "about")).content.decode()
    assert 'value="12 Elm Street"' in again
    assert "Enter a ZIP code like 06902" in again


def test_resuming_goes_to_the_first_unfinished_step(patient_client):
    intake = start(patient_client)
    steps = valid_steps()
    for slug in ("about", "contacts", "reason"):
        patient_client.post(step_url(intake, slug), steps[slug])

    response = patient_client.post(reverse("intake:start"))

    assert response["Location"] == step_url(intake, "fibromyalgia")


def test_back_keeps_an_unfinished_step_and_goes_to_the_previous_one(patient_client):
    intake = start(patient_client)
    steps = valid_steps()
    patient_client.post(step_url(intake, "about"), steps["about"])

    response = patient_client.post(
        step_url(intake, "contacts"), {"emergency_name": "Jamie", "action": "back"}
    )

    assert response["Location"] == step_url(intake, "about")
    answer = IntakeAnswer.objects.get(intake=intake, step="contacts")
    assert answer.raw["emergency_name"] == ["Jamie"]


def test_submitting_computes_and_stores_every_score(patient_client, patient):
    intake = start(patient_client)
    fill_all(patient_client, intake)

    response = patient_client.post(reverse("intake:submit", args=[intake.public_id]))

    assert response["Location"] == reverse("intake:submitted", args=[intake.public_id])
    intake.refresh_from_db()
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.submitted_at is not None
    assert intake.urgent is False
    acr = intake.scores["acr_2016"]
    # 8 areas; regions: left upper, right upper, left lower, right lower, axial (the right jaw
    # alone would not count, but the right shoulder makes right upper painful anyway).
    assert (acr["wpi"], acr["sss"]) == (8, 8)
    assert acr["generalized_pain"] is True
    assert acr["criteria_met"] is True
    assert acr["polysymptomatic_distress"] == 16
    assert intake.scores["phq9"] == {
        "total": 8,
        "band": "mild",
        "item9": 0,
        "self_harm_flag": False,
    }
    assert intake.scores["gad7"] == {"total": 14, "band": "moderate"}
    assert intake.scores["peg"] == "7.0"
    assert intake.scores["measurements"] == {
        "weight_kg": "74.8",
        "height_cm": "167.6",
        "bmi": "26.6",
    }
    profile = PatientProfile.objects.get(user=patient)
    assert profile.mobile_phone == "+12035550199"
    assert profile.date_of_birth == dt.date(1980, 4, 12)
    assert profile.sms_reminders is True and profile.sms_consent_at is not None
    patient.refresh_from_db()
    assert (patient.first_name, patient.last_name) == ("Avery", "Testperson")


def test_the_consent_records_signature_time_address_and_text_versions(patient_client):
    intake = start(patient_client)
    fill_all(patient_client, intake)

    consents = IntakeAnswer.objects.get(intake=intake, step="consents").data

    assert consents["signature"] == "avery testperson"
    assert consents["ip"] == "127.0.0.1"
    assert dt.datetime.fromisoformat(consents["signed_at"]).tzinfo is not None
    assert consents["consent_versions"] == {
        "treatment": "2026-11",
        "escort": "2026-11",
        "fasting": "2026-11",
        "sms": "2026-11",
    }


def test_a_signature_that_is_not_the_legal_name_is_refused(patient_client):
    intake = start(patient_client)
    steps = valid_steps()
    steps["consents"]["signature"] = "Someone Else"

    patient_client.post(step_url(intake, "about"), steps["about"])
    response = patient_client.post(step_url(intake, "consents"), steps["consents"])

    assert response.status_code == 200
    assert "Type your legal name exactly as in step 1: Avery Testperson" in (
        response.content.decode()
    )


def test_submitting_with_missing_steps_lists_them_and_changes_nothing(patient_client):
    intake = start(patient_client)
    patient_client.post(step_url(intake, "about"), valid_steps()["about"])

    response = patient_client.post(reverse("intake:submit", args=[intake.public_id]), follow=True)

    assert "A few steps still need answers" in response.content.decode()
    intake.refresh_from_db()
    assert intake.status == Intake.Status.DRAFT


def test_the_review_page_shows_every_answer_with_a_link_to_change_it(patient_client):
    intake = start(patient_client)
    fill_all(patient_client, intake)

    html = patient_client.get(reverse("intake:review", args=[intake.public_id])).content.decode()

    for step in STEPS:
        assert f"{step_url(intake, step.slug)}?from=review" in html
    assert "Duloxetine 60 mg daily" in html
    assert "Penicillin (Rash)" in html
    assert "74.8 kg (165 lb)" in html
    assert "Left shoulder girdle" in html


def test_a_submitted_intake_cannot_change_and_a_change_makes_a_new_version(patient_client):
    intake = start(patient_client)
    fill_all(patient_client, intake)
    patient_client.post(reverse("intake:submit", args=[intake.public_id]))

    response = patient_client.post(step_url(intake, "pain"), valid_steps()["pain"])
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:patient_home")

    # The database itself refuses to alter the frozen answers.
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeAnswer.objects.filter(intake=intake).update(data={})

    # Nobody asked for a change yet: starting again leaves the submitted version alone.
    response = patient_client.post(reverse("intake:start"))
    assert response["Location"] == reverse("scheduling:patient_home")
    assert Intake.objects.count() == 1

    clinician = UserFactory.create(role=Role.CLINICIAN)
    request_more_information(
        intake, clinician, steps=["pain"], patient_message="Please check your pain scores."
    )
    home = patient_client.get(reverse("scheduling:patient_home")).content.decode()
    assert "Please check your pain scores." in home
    assert "Pain and daily life" in home

    response = patient_client.post(reverse("intake:start"))
    second = Intake.objects.get(version=2)
    assert response["Location"] == step_url(second, "pain")
    assert second.previous_id == intake.pk
    assert second.answers.count() == 10
    assert second.answers.get(step="pain").completed_at is None
    patient_client.post(step_url(second, "pain"), {**valid_steps()["pain"], "pain_now": "2"})
    assert IntakeAnswer.objects.get(intake=intake, step="pain").data["pain_now"] == 6
    assert IntakeAnswer.objects.get(intake=second, step="pain").data["pain_now"] == 2


def test_item_9_above_zero_shows_crisis_resources_and_flags_the_intake(patient_client):
    intake = start(patient_client)
    steps = valid_steps()
    steps["mood"]["phq9_9"] = "1"
    fill_all(patient_client, intake, steps)

    step_page = patient_client.get(step_url(intake, "safety")).content.decode()
    assert "Call or text 988" in step_page
    assert "not monitored in real time" in step_page

    patient_client.post(reverse("intake:submit", args=[intake.public_id]))
    intake.refresh_from_db()
    assert intake.urgent is True
    assert intake.scores["phq9"]["self_harm_flag"] is True
    done = patient_client.get(reverse("intake:submitted", args=[intake.public_id]))
    assert "Call or text 988" in done.content.decode()


def test_the_crisis_panel_is_on_the_mood_page_hidden_until_item_9_is_answered(patient_client):
    intake = start(patient_client)

    html = patient_client.get(step_url(intake, "mood")).content.decode()

    assert 'id="crisis-resources"' in html
    assert "hidden" in html.split('id="crisis-resources"')[1].split(">")[0]


def test_measurements_in_metric_are_stored_in_si(patient_client):
    intake = start(patient_client)
    data = {"weight": "80", "weight_unit": "kg", "height_unit": "cm", "height_cm": "172"}

    patient_client.post(step_url(intake, "measurements"), data)

    answer = IntakeAnswer.objects.get(intake=intake, step="measurements").data
    assert (Decimal(answer["weight_kg"]), Decimal(answer["height_cm"])) == (80, 172)


def test_an_implausible_weight_gets_a_clear_message(patient_client):
    intake = start(patient_client)
    data = {"weight": "20", "weight_unit": "lb", "height_unit": "cm", "height_cm": "172"}

    response = patient_client.post(step_url(intake, "measurements"), data)

    assert "Weight must be between 30 and 300 kg" in response.content.decode()


def _png() -> io.BytesIO:
    from PIL import Image

    upload = io.BytesIO()
    Image.new("RGB", (30, 20), "white").save(upload, format="PNG")
    upload.seek(0)
    upload.name = "card.png"
    return upload


def test_an_insurance_card_image_is_checked_and_stored(patient_client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    intake = start(patient_client)
    data = {"payment": "insurance", "payer": "Acme Health", "member_id": "X123", "card": _png()}

    response = patient_client.post(step_url(intake, "insurance"), data)

    assert response.status_code == 302
    card = IntakeAttachment.objects.get(intake=intake)
    assert card.content_type == "image/png"
    assert card.file.name is not None
    assert "card" not in card.file.name  # opaque file names
    assert card.file.storage.exists(card.file.name)


def test_a_card_that_is_not_an_image_or_pdf_is_refused(patient_client):
    intake = start(patient_client)
    fake = io.BytesIO(b"MZ this is an executable")
    fake.name = "card.jpg"
    data = {"payment": "insurance", "payer": "Acme", "member_id": "X1", "card": fake}

    response = patient_client.post(step_url(intake, "insurance"), data)

    assert response.status_code == 200
    assert "Upload a photo or scan as JPEG, PNG or PDF" in response.content.decode()
    assert not IntakeAttachment.objects.exists()


def test_a_patient_cannot_open_another_patients_intake(patient_client, make_user, login):
    intake = start(patient_client)
    other = login(make_user(role=Role.PATIENT))

    for url in (
        step_url(intake, "about"),
        reverse("intake:review", args=[intake.public_id]),
        reverse("intake:submitted", args=[intake.public_id]),
    ):
        assert other.get(url).status_code == 404
    assert other.post(reverse("intake:submit", args=[intake.public_id])).status_code == 404


def test_staff_cannot_open_the_patient_intake_pages(patient_client, make_user, login):
    intake = start(patient_client)
    desk = login(make_user(role=Role.FRONT_DESK))

    assert desk.get(step_url(intake, "mood")).status_code == 403
