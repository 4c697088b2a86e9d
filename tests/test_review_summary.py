"""The clinician's summary shows every answer in people's words; decisions are audited as made
or refused; urgent notices name the patient
(docs/roles/clinician.md#the-review-queue-and-the-summary)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django import forms
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from audit.models import AuditEvent
from intake.answers import describe
from intake.models import Intake
from intake.steps import FORMS
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import submitted_intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def stamford():
    return LocationFactory.create(slug="stamford", name="Stamford")


@pytest.fixture
def clinician(stamford):
    user = UserFactory.create(role=Role.CLINICIAN, email="doc@example.org")
    user.locations.set([stamford])
    return user


CHANGES: dict[str, dict[str, Any]] = {
    "reason": {
        "indications": ["fibromyalgia", "other"],
        "indication_other": "Complex regional pain syndrome",
        "prior_treatments": ["opioids", "ketamine"],
        "prior_treatments_detail": "Oxycodone for two years",
        "prior_treatments_side_effects": "Ketamine made me very sick",
    },
    "safety": {"recent_systolic": "150", "recent_diastolic": "95", "recent_bp_date": "2026-10-30"},
}


def _summary(login, clinician, intake) -> str:
    return login(clinician).get(reverse("review:summary", args=[intake.public_id])).content.decode()


def test_the_summary_shows_treatments_side_effects_other_text_blood_pressure_and_age(
    login, clinician, stamford
):
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)):
        intake = submitted_intake(UserFactory.create(role=Role.PATIENT), changes=CHANGES)
        html = _summary(login, clinician, intake)

    assert "Complex regional pain syndrome" in html
    assert "Opioid pain medicines" in html and "Oxycodone for two years" in html
    assert "Ketamine made me very sick" in html
    assert "150/95 mmHg" in html and "30 October 2026" in html
    assert "46 years" in html  # born 12 April 1980
    assert "1 year or more, but less than 5 years" in html
    assert "1to5years" not in html and "1_to_5_years" not in html


def test_the_summary_has_all_answers_by_step(login, clinician, stamford):
    intake = submitted_intake(UserFactory.create(role=Role.PATIENT), changes=CHANGES)

    html = _summary(login, clinician, intake)

    assert 'id="all-answers"' in html
    for step in FORMS[intake.form_version]:
        assert f'id="answers-{step.slug}"' in html
    assert "Emergency contact&#x27;s name" in html or "Emergency contact's name" in html


def _all_answers(html: str) -> str:
    return html[
        html.index('id="all-answers"') : html.index(
            "</section>\n\n", html.index('id="all-answers"')
        )
    ]


def test_the_answers_are_written_in_words_at_submit_and_the_summary_shows_those_words(
    login, clinician, stamford
):
    # Submitted by a patient reading Spanish: the words are written in the site's language.
    with translation.override("es"):
        intake = submitted_intake(UserFactory.create(role=Role.PATIENT), changes=CHANGES)
    intake.refresh_from_db()
    steps = dict(intake.answer_lines)
    assert [slug for slug, _lines in intake.answer_lines] == [
        step.slug for step in FORMS[intake.form_version]
    ]
    assert any(answer == "Oxycodone for two years" for _q, answer in steps["reason"])
    assert any(q == "Sex assigned at birth" for q, _a in steps["about"])

    # The page shows what was written, the same as describing the answers again would.
    written = _all_answers(_summary(login, clinician, intake))
    Intake.objects.filter(pk=intake.pk).update(answer_lines=[])
    described_now = _all_answers(_summary(login, clinician, intake))
    assert written == described_now
    assert "Oxycodone for two years" in written and "Sex assigned at birth" in written

    # ...and reads them from the version, not from the forms of today.
    lines = [[slug, [[f"Asked then: {q}", a] for q, a in rows]] for slug, rows in steps.items()]
    Intake.objects.filter(pk=intake.pk).update(answer_lines=lines)
    assert "Asked then: Sex assigned at birth" in _summary(login, clinician, intake)


def test_every_choice_of_every_intake_field_is_shown_in_words():
    raw_codes = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
    for version, steps in FORMS.items():
        for step in steps:
            form = step.form_class(intake=None)
            fields = dict(form.fields)
            for name, field in fields.items():
                choices = [c for c, _ in getattr(field, "choices", []) if c != ""]
                if not isinstance(field, forms.ChoiceField) or not choices:
                    continue
                for code in choices:
                    value = [code] if isinstance(field, forms.MultipleChoiceField) else code
                    if isinstance(field, forms.TypedChoiceField):
                        value = field.coerce(code)
                    lines = describe(step, {name: value})
                    shown = " ".join(answer for _q, answer in lines)
                    assert not raw_codes.match(shown), (version, step.slug, name, code, shown)
                    assert str(code) not in shown or not raw_codes.match(str(code)), shown


def test_the_plans_indication_is_prefilled_from_the_intake(login, clinician, stamford):
    intake = submitted_intake(UserFactory.create(role=Role.PATIENT))  # fibromyalgia, depression

    html = _summary(login, clinician, intake)

    field = html[html.index('name="plan-indication"') :][:300]
    assert 'value="Fibromyalgia' in field
    assert "Chronic pain" not in field


def test_a_refused_approval_is_audited_as_refused(login, clinician, stamford):
    intake = submitted_intake(UserFactory.create(role=Role.PATIENT))
    client = login(clinician)

    client.post(reverse("review:approve", args=[intake.public_id]), {"plan-infusions": "0"})

    event = AuditEvent.objects.filter(action="decide").latest("id")
    assert "refused" in event.detail


def test_an_approval_on_an_intake_already_decided_is_audited_as_refused(login, clinician, stamford):
    intake = submitted_intake(UserFactory.create(role=Role.PATIENT))
    client = login(clinician)
    client.post(
        reverse("review:decline", args=[intake.public_id]), {"decline-patient_message": "No"}
    )

    client.post(
        reverse("review:decline", args=[intake.public_id]), {"decline-patient_message": "No"}
    )

    details = list(
        AuditEvent.objects.filter(action="decide").order_by("id").values_list("detail", flat=True)
    )
    assert "refused" not in details[0]
    assert "refused" in details[1]


def test_urgent_notices_name_the_patient_for_clinicians(login, clinician, stamford):
    patient = UserFactory.create(role=Role.PATIENT)
    submitted_intake(patient, changes={"mood": {"phq9_9": "2"}})
    desk = UserFactory.create(role=Role.FRONT_DESK)

    html = login(clinician).get(reverse("review:queue")).content.decode()
    notices = html[html.index('data-testid="urgent-notices"') :].split("</section>")[0]

    assert "Avery Testperson" in notices
    assert "Intake at Stamford" not in notices
    desk_html = login(desk).get(reverse("review:queue")).content.decode()
    assert 'data-testid="urgent-notices"' not in desk_html


def test_answers_are_escaped_wherever_the_summary_shows_them(login, clinician, stamford):
    hostile = '<script>alert(1)</script> & "quoted"'
    changes = {
        "reason": {**CHANGES["reason"], "prior_treatments_detail": hostile},
        "about": {"preferred_name": hostile},
    }
    intake = submitted_intake(UserFactory.create(role=Role.PATIENT), changes=changes)

    for _written_at_submit in (True, False):
        html = _summary(login, clinician, intake)
        assert "<script>alert(1)" not in html
        answers = _all_answers(html)
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;" in answers
        Intake.objects.filter(pk=intake.pk).update(answer_lines=[])  # described again


def test_the_approve_form_starts_from_the_protocol_and_groups_its_fields(
    login, clinician, stamford
):
    """The protocol the plan starts from comes first (it fills the fields after it), then the
    fields in named groups a clinician reads at a glance, not eleven boxes in a column."""
    intake = submitted_intake(UserFactory.create(role=Role.PATIENT))

    html = _summary(login, clinician, intake)
    form = html[html.index('action="' + reverse("review:approve", args=[intake.public_id])) :]
    form = form[: form.index("</form>")]

    assert form.index('name="plan-template"') < form.index('name="plan-indication"')
    legends = [
        "Protocol and indication",
        "Course",
        "Dose",
        "Time in the chair",
        "Notes and messages",
    ]
    positions = [form.index(f">{legend}</legend>") for legend in legends]
    assert positions == sorted(positions)
    dose = form[positions[2] : positions[3]]
    assert 'name="plan-dose_mg_per_kg"' in dose and 'name="plan-dose_cap_mg"' in dose
    course = form[positions[1] : positions[2]]
    for name in ("infusions", "min_days_between", "max_days_between", "span_days"):
        assert f'name="plan-{name}"' in course
