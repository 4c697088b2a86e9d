"""The ten steps of the intake, in order, each with the instrument whose answers it stores.

Form versions (docs/roles/patient.md#form-versions). A question that changes gets a new instrument
version on its step, and the set of steps becomes a new form version in FORMS. Each intake records
the form version it started on (`Intake.form_version`), and every page, form and score of that
intake reads the steps of that version (`steps_for`): a draft in progress finishes on the questions
it began with, however the form changes meanwhile. A new version of an intake starts on the current
form; an answer of a step whose instrument and version are the same in both forms is carried forward
as finished, an answer of a changed step is carried forward as a starting point the patient confirms
(`intake.services.start_draft`).

Form 1: the first questionnaire. Form 2: duration asked once in ranges that do not touch (with
side effects of earlier treatments), the ACR 3-month answer derived from it, the safety screen
asking severe and moderate liver disease apart, "now or in the past" for psychosis and
substance use, blood-pressure control, and the date of the reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from intake import forms
from intake.models import CURRENT_FORM_VERSION


@dataclass(frozen=True)
class Step:
    slug: str
    title: StrOrPromise
    form_class: type[forms.StepForm]
    instrument: str
    instrument_version: str

    @property
    def template_name(self) -> str:
        return f"intake/steps/{self.slug}.html"


_ABOUT = Step("about", _("About you"), forms.AboutYouForm, "clinic-about-you", "1")
_CONTACTS = Step(
    "contacts", _("Emergency contact and driver"), forms.ContactsForm, "clinic-contacts", "1"
)
_PAIN = Step("pain", _("Pain and daily life"), forms.PainForm, "peg-3", "2009")
_MOOD = Step("mood", _("Mood"), forms.MoodForm, "phq-9+gad-7", "2001+2006")
_MEASUREMENTS = Step(
    "measurements", _("Height and weight"), forms.MeasurementsForm, "clinic-measurements", "1"
)
_INSURANCE = Step("insurance", _("Insurance"), forms.InsuranceForm, "clinic-insurance", "1")
_CONSENTS = Step(
    "consents", _("Reminders and consents"), forms.ConsentsForm, "clinic-consents", "1"
)

FORMS: dict[int, tuple[Step, ...]] = {
    1: (
        _ABOUT,
        _CONTACTS,
        Step("reason", _("Reason for care"), forms.ReasonFormV1, "clinic-reason-for-care", "1"),
        Step(
            "fibromyalgia",
            _("Pain areas and symptoms"),
            forms.FibromyalgiaFormV1,
            "acr-2016",
            "2016",
        ),
        _PAIN,
        _MOOD,
        Step("safety", _("Health and safety"), forms.SafetyFormV1, "clinic-safety-screen", "1"),
        _MEASUREMENTS,
        _INSURANCE,
        _CONSENTS,
    ),
    2: (
        _ABOUT,
        _CONTACTS,
        Step("reason", _("Reason for care"), forms.ReasonForm, "clinic-reason-for-care", "2"),
        # The instrument is still ACR 2016; ".2" is this clinic's second form of it.
        Step(
            "fibromyalgia",
            _("Pain areas and symptoms"),
            forms.FibromyalgiaForm,
            "acr-2016",
            "2016.2",
        ),
        _PAIN,
        _MOOD,
        Step("safety", _("Health and safety"), forms.SafetyForm, "clinic-safety-screen", "2"),
        _MEASUREMENTS,
        _INSURANCE,
        _CONSENTS,
    ),
}

STEPS: tuple[Step, ...] = FORMS[CURRENT_FORM_VERSION]

# Every form version has the same ten steps, in the same order: only their questions differ.
STEP_BY_SLUG = {step.slug: step for step in STEPS}
STEP_NUMBER = {step.slug: number for number, step in enumerate(STEPS, start=1)}


def steps_for(intake: Any) -> tuple[Step, ...]:
    """The steps of the form version the intake started on (an unknown one reads as current)."""
    return FORMS.get(getattr(intake, "form_version", CURRENT_FORM_VERSION), STEPS)


def step_for(intake: Any, slug: str) -> Step | None:
    return next((step for step in steps_for(intake) if step.slug == slug), None)


def next_step(step: Step, steps: tuple[Step, ...] = STEPS) -> Step | None:
    number = STEP_NUMBER[step.slug]
    return steps[number] if number < len(steps) else None


def previous_step(step: Step, steps: tuple[Step, ...] = STEPS) -> Step | None:
    number = STEP_NUMBER[step.slug]
    return steps[number - 2] if number > 1 else None
