"""The ten steps of the intake, in order, each with the instrument whose answers it stores."""

from __future__ import annotations

from dataclasses import dataclass

from intake import forms


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form_class: type[forms.StepForm]
    instrument: str
    instrument_version: str

    @property
    def template_name(self) -> str:
        return f"intake/steps/{self.slug}.html"


STEPS: tuple[Step, ...] = (
    Step("about", "About you", forms.AboutYouForm, "clinic-about-you", "1"),
    Step("contacts", "Emergency contact and driver", forms.ContactsForm, "clinic-contacts", "1"),
    Step("reason", "Reason for care", forms.ReasonForm, "clinic-reason-for-care", "1"),
    Step("fibromyalgia", "Pain areas and symptoms", forms.FibromyalgiaForm, "acr-2016", "2016"),
    Step("pain", "Pain and daily life", forms.PainForm, "peg-3", "2009"),
    Step("mood", "Mood", forms.MoodForm, "phq-9+gad-7", "2001+2006"),
    Step("safety", "Health and safety", forms.SafetyForm, "clinic-safety-screen", "1"),
    Step("measurements", "Height and weight", forms.MeasurementsForm, "clinic-measurements", "1"),
    Step("insurance", "Insurance", forms.InsuranceForm, "clinic-insurance", "1"),
    Step("consents", "Reminders and consents", forms.ConsentsForm, "clinic-consents", "1"),
)

STEP_BY_SLUG = {step.slug: step for step in STEPS}
STEP_NUMBER = {step.slug: number for number, step in enumerate(STEPS, start=1)}


def next_step(step: Step) -> Step | None:
    number = STEP_NUMBER[step.slug]
    return STEPS[number] if number < len(STEPS) else None


def previous_step(step: Step) -> Step | None:
    number = STEP_NUMBER[step.slug]
    return STEPS[number - 2] if number > 1 else None
