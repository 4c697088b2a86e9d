"""Changed questions get a new form version (docs/roles/patient.md#form-versions); a draft finishes
on the version it started."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from intake import services
from intake.models import CURRENT_FORM_VERSION, Intake
from intake.steps import FORMS, steps_for
from review import services as review
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stamford():
    return LocationFactory.create(slug="stamford", name="Stamford")


def test_a_changed_step_has_a_new_instrument_version():
    old, new = {s.slug: s for s in FORMS[1]}, {s.slug: s for s in FORMS[CURRENT_FORM_VERSION]}

    for slug in ("reason", "fibromyalgia", "safety"):
        assert (old[slug].instrument, old[slug].instrument_version) != (
            new[slug].instrument,
            new[slug].instrument_version,
        )
    assert old["pain"] == new["pain"]


def test_a_new_draft_starts_on_the_current_form():
    intake = services.start_draft(UserFactory.create(role=Role.PATIENT))

    assert intake.form_version == CURRENT_FORM_VERSION


def test_a_draft_started_on_form_1_finishes_on_form_1(login):
    patient = UserFactory.create(role=Role.PATIENT)
    intake = services.start_draft(patient)
    Intake.objects.filter(pk=intake.pk).update(form_version=1)
    intake.refresh_from_db()
    client = login(patient)

    html = client.get(reverse("intake:step", args=[intake.public_id, "fibromyalgia"])).content
    assert b'name="symptoms_3_months"' in html
    html = client.get(reverse("intake:step", args=[intake.public_id, "safety"])).content
    assert b'name="liver_disease"' in html and b'name="liver_severe"' not in html

    from intake.samples import fill_intake_on

    fill_intake_on(intake)
    submitted = services.submit(intake)
    safety = submitted.answers.get(step="safety")
    assert safety.instrument_version == "1"
    assert submitted.scores["acr_2016"]["duration_met"] is True


def test_a_new_version_carries_unchanged_answers_forward_and_reopens_changed_steps():
    from intake.samples import fill_intake_on

    patient = UserFactory.create(role=Role.PATIENT)
    first = services.start_draft(patient)
    Intake.objects.filter(pk=first.pk).update(form_version=1)
    first.refresh_from_db()
    first = services.submit(fill_intake_on(first))
    assert first.answers.get(step="safety").instrument_version == "1"
    clinician = UserFactory.create(role=Role.CLINICIAN)
    review.request_more_information(first, clinician, steps=["pain"], patient_message="Check")

    second = services.start_draft(patient)

    assert second.form_version == CURRENT_FORM_VERSION
    answers = {a.step: a for a in second.answers.all()}
    assert answers["about"].completed_at is not None  # unchanged question: carried forward
    assert answers["pain"].completed_at is None  # reopened
    assert answers["safety"].completed_at is None  # changed question: asked again, prefilled
    assert answers["reason"].completed_at is None
    assert answers["safety"].data  # its answers kept as a starting point
    assert [s.slug for s in services.missing_steps(answers, second)] == [
        "reason",
        "fibromyalgia",
        "pain",
        "safety",
    ]
    assert steps_for(second) == FORMS[CURRENT_FORM_VERSION]
