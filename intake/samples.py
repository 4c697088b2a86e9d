"""Sample answers for every intake step, as a browser posts them: a fictional patient.

Used by the demo data (`load_demo`) and by the tests, so both exercise the real forms.
"""

from __future__ import annotations

from typing import Any

from intake.models import CURRENT_FORM_VERSION
from intake.vocabulary import SAFETY_ITEMS, SAFETY_ITEMS_FORM_1


def sample_steps(
    location_slug: str = "stamford", form_version: int = CURRENT_FORM_VERSION
) -> dict[str, dict[str, object]]:
    """The answers of one patient as the given form version asks them."""
    items = SAFETY_ITEMS_FORM_1 if form_version == 1 else SAFETY_ITEMS
    safety: dict[str, object] = {code: "no" for code, _question, _detail in items}
    safety.update(
        {
            "high_blood_pressure": "yes",
            "high_blood_pressure_detail": "Treated, well controlled",
            "recent_systolic": "132",
            "recent_diastolic": "84",
            "medications-TOTAL_FORMS": "2",
            "medications-INITIAL_FORMS": "0",
            "medications-0-name": "Duloxetine",
            "medications-0-dose": "60 mg",
            "medications-0-frequency": "daily",
            "medications-1-name": "",
            "allergies-TOTAL_FORMS": "1",
            "allergies-INITIAL_FORMS": "0",
            "allergies-0-substance": "Penicillin",
            "allergies-0-reaction": "Rash",
        }
    )
    if form_version >= 2:
        safety.update(
            {
                "high_blood_pressure_detail": "Lisinopril",
                "high_blood_pressure_control": "controlled",
                "recent_bp_date": "2026-10-01",
            }
        )
    steps: dict[str, dict[str, object]] = {
        "about": {
            "legal_first_name": "Avery",
            "legal_last_name": "Testperson",
            "preferred_name": "Ave",
            "date_of_birth": "1980-04-12",
            "sex_at_birth": "female",
            "pronouns": "she/her",
            "address_line1": "12 Elm Street",
            "city": "Stamford",
            "state": "CT",
            "postal_code": "06902",
            "mobile_phone": "(203) 555-0199",
            "email": "avery@example.org",
            "preferred_location": location_slug,
            "preferred_language": "en",
        },
        "contacts": {
            "emergency_name": "Jamie Testperson",
            "emergency_phone": "203 555 0111",
            "emergency_relationship": "Spouse",
            "escort_name": "Jamie Testperson",
            "escort_phone": "203 555 0111",
            "escort_relationship": "Spouse",
        },
        "reason": {
            "indications": ["fibromyalgia", "depression"],
            "pain_duration": "1_to_5_years",
            "prior_treatments": ["physical_therapy", "anticonvulsants"],
        },
        "fibromyalgia": {
            "painful_areas": [
                "left_shoulder_girdle",
                "right_shoulder_girdle",
                "left_hip",
                "right_hip",
                "neck",
                "lower_back",
                "left_upper_leg",
                "right_jaw",
            ],
            "fatigue": "3",
            "waking_unrefreshed": "2",
            "cognitive_symptoms": "1",
            "headaches": "yes",
            "lower_abdominal_pain": "no",
            "depression": "yes",
        },
        "pain": {
            "pain_now": "6",
            "pain_average": "7",
            "pain_worst": "9",
            "peg_enjoyment": "6",
            "peg_activity": "8",
        },
        "mood": {
            **{f"phq9_{n}": "1" for n in range(1, 9)},
            "phq9_9": "0",
            **{f"gad7_{n}": "2" for n in range(1, 8)},
        },
        "safety": safety,
        "measurements": {
            "weight": "165",
            "weight_unit": "lb",
            "height_unit": "ft_in",
            "height_feet": "5",
            "height_inches": "6",
        },
        "insurance": {"payment": "self_pay"},
        "consents": {
            "email_reminders": "on",
            "sms_reminders": "on",
            "sms_consent": "on",
            "escort_agreement": "on",
            "fasting_acknowledged": "on",
            "treatment_consent": "on",
            "signature": "avery testperson",
        },
    }
    if form_version == 1:
        steps["fibromyalgia"]["symptoms_3_months"] = "yes"
    return steps


def _as_lists(data: dict[str, object]) -> dict[str, list[object]]:
    return {key: value if isinstance(value, list) else [value] for key, value in data.items()}


def fill_intake(
    patient: Any, *, location_slug: str = "stamford", changes: dict[str, Any] | None = None
) -> Any:
    """A draft with every step saved through the real forms and services (no HTTP)."""
    from intake import services

    return fill_intake_on(
        services.start_draft(patient), location_slug=location_slug, changes=changes
    )


def fill_intake_on(
    intake: Any, *, location_slug: str = "stamford", changes: dict[str, Any] | None = None
) -> Any:
    """Every step of this draft saved through its own form version's forms (no HTTP)."""
    from django.utils.datastructures import MultiValueDict

    from intake import services
    from intake.steps import steps_for

    steps = sample_steps(location_slug, intake.form_version)
    for slug, fields in (changes or {}).items():
        steps[slug] = {**steps[slug], **fields}
    for step in steps_for(intake):
        about = steps["about"]
        legal_name = f"{about['legal_first_name']} {about['legal_last_name']}"
        extra = {"legal_name": legal_name} if step.slug == "consents" else {}
        form = step.form_class(MultiValueDict(_as_lists(steps[step.slug])), intake=intake, **extra)
        assert form.is_valid(), (step.slug, form.errors)
        services.save_step(intake, step, form.answers(), ip="127.0.0.1", **form.attachments())
    return intake


def submitted_intake(patient: Any, **kwargs: Any) -> Any:
    from intake import services

    return services.submit(fill_intake(patient, **kwargs))
