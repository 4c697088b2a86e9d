"""The intake's questions (docs/product-rules.md#intake) are asked once, clearly, with details only
after a yes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from accounts.models import PatientProfile, Role
from intake.forms import FibromyalgiaForm, ReasonForm, SafetyForm
from intake.models import Intake
from tests.factories import LocationFactory
from tests.intake_data import valid_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_user, login):
    LocationFactory.create(slug="stamford", name="Stamford")
    patient = make_user(role=Role.PATIENT)
    PatientProfile.objects.create(user=patient, date_of_birth=dt.date(1980, 3, 3))
    client = login(patient)
    client.post(reverse("intake:start"))
    return client, Intake.objects.get(patient=patient)


def _url(intake, slug):
    return reverse("intake:step", args=[intake.public_id, slug])


def _safety(**changes):
    return MultiValueDict(
        {
            k: v if isinstance(v, list) else [v]
            for k, v in {**valid_steps()["safety"], **changes}.items()
        }
    )


def test_the_blood_pressure_reading_has_its_unit_and_date():
    form = SafetyForm(_safety(recent_bp_date="2026-11-20"))

    assert form.is_valid(), form.errors
    html = str(form["recent_systolic"].label) + str(form["recent_systolic"].help_text)
    assert "mmHg" in html
    assert form.answers()["recent_bp_date"] == dt.date(2026, 11, 20)


def test_a_reading_needs_its_date_and_an_out_of_range_number_is_named_in_plain_words():
    missing_date = SafetyForm(_safety(recent_bp_date=""))
    too_high = SafetyForm(_safety(recent_systolic="300", recent_bp_date="2026-11-20"))

    assert not missing_date.is_valid()
    assert "recent_bp_date" in missing_date.errors
    assert not too_high.is_valid()
    messages = " ".join(str(e) for errors in too_high.errors.values() for e in errors)
    assert "Ensure this value" not in messages
    assert "Give both numbers" not in messages  # both were given
    assert "mmHg" in messages


def test_empty_medicine_and_allergy_rows_are_not_marked_required():
    form = SafetyForm()

    assert not form.medications.forms[0].fields["name"].required
    assert not form.allergies.forms[0].fields["substance"].required
    assert "required" not in str(form.medications.forms[0]["name"])


def test_a_dose_without_a_medicine_name_is_refused_in_words():
    form = SafetyForm(_safety(**{"medications-1-dose": "5 mg"}))

    assert not form.is_valid()
    assert "medicine" in str(form.medications.errors).casefold()


def test_duration_is_asked_once_without_overlapping_ranges():
    assert "symptoms_3_months" not in FibromyalgiaForm().fields
    labels = [str(label) for _code, label in ReasonForm().fields["pain_duration"].choices]  # type: ignore[attr-defined]  # a ChoiceField
    # No number is both the end of one range and the start of the next ("3 to 6", "6 to 12").
    assert not any(re.search(r"\d+ to \d+", label) for label in labels)
    assert all("or more" in label or label.startswith("Less than") for label in labels)
    form = ReasonForm(
        MultiValueDict({"indications": ["fibromyalgia"], "pain_duration": ["3_to_6_months"]})
    )
    assert form.is_valid()
    assert form.answers()["pain_3_months_or_more"] is True


def test_symptom_severity_buttons_show_their_number():
    labels = [label for _code, label in FibromyalgiaForm().fields["fatigue"].choices]  # type: ignore[attr-defined]  # a ChoiceField

    assert [label.split()[0] for label in labels] == ["0", "1", "2", "3"]


def test_step_1_carries_the_date_of_birth_from_registration(draft):
    client, intake = draft

    html = client.get(_url(intake, "about")).content.decode()

    assert 'value="1980-03-03"' in html


def test_the_crisis_box_sits_next_to_item_9_and_is_announced(draft):
    client, intake = draft

    html = client.get(_url(intake, "mood")).content.decode()

    item9 = html.index('name="phq9_9"')
    crisis = html.index('id="crisis-resources"')
    gad = html.index('name="gad7_1"')
    assert item9 < crisis < gad
    box = html[html.rindex("<section", 0, crisis) : html.index(">", crisis)]
    assert 'role="alert"' in box or "aria-live" in box


def test_the_crisis_box_stays_on_later_pages(draft):
    client, intake = draft
    client.post(_url(intake, "mood"), {**valid_steps()["mood"], "phq9_9": "1"})

    html = client.get(_url(intake, "safety")).content.decode()

    assert 'id="crisis-resources"' in html
    section = html[
        html.index('id="crisis-resources"') - 200 : html.index('id="crisis-resources"') + 200
    ]
    assert "hidden" not in section


def test_safety_details_are_revealed_by_a_yes_and_shown_without_javascript(draft):
    client, intake = draft

    html = client.get(_url(intake, "safety")).content.decode()

    # Each detail is tied to its question; nothing is hidden in the HTML itself (JS hides it).
    assert 'data-reveal-for="heart_attack"' in html
    detail = html[html.index('data-reveal-for="heart_attack"') :][:300]
    assert " hidden" not in detail.split(">")[0]
