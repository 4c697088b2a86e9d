"""The forms of the intake steps (PRODUCT.md section 2).

Each form validates and normalises one step and returns its answers as plain JSON-ready values
through `answers()`; saving, scoring and side effects happen in `intake.services`.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from accounts.validators import validate_adult_birth_date
from clinic.wording import FORMSET_MESSAGES, in_peoples_words
from intake import cards, scoring
from locations.models import Location

YES_NO = [("yes", "Yes"), ("no", "No")]


class _SharedChoices:
    """A choice field whose choices are fixed with the form class: each form's copy shares them.

    Django deep-copies and re-normalises every choice list each time it builds a form, which was
    most of the Python work of saving an intake step. Setting `choices` on one form's field (the
    preferred location does) still replaces them on that form's copy only.
    """

    widget: forms.Widget
    error_messages: dict[str, Any]
    validators: list[Any]

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        result = copy.copy(self)
        memo[id(self)] = result
        result.widget = copy.copy(self.widget)
        result.widget.attrs = self.widget.attrs.copy()
        result.error_messages = self.error_messages.copy()
        result.validators = self.validators[:]
        return result


class ChoiceField(_SharedChoices, forms.ChoiceField):
    pass


class TypedChoiceField(_SharedChoices, forms.TypedChoiceField):
    pass


class MultipleChoiceField(_SharedChoices, forms.MultipleChoiceField):
    pass


def _yes_no(label: str, **kwargs: Any) -> TypedChoiceField:
    return TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        **kwargs,
    )


def _scale(label: str, low: int, high: int, labels: dict[int, str] | None = None) -> forms.Field:
    labels = labels or {}
    return TypedChoiceField(
        label=label,
        choices=[(str(n), labels.get(n, str(n))) for n in range(low, high + 1)],
        coerce=int,
        widget=forms.RadioSelect,
    )


_PHONE_ALLOWED = re.compile(r"^\+?[\d\s().-]+$")


def normalise_phone(value: str) -> str:
    """Keep digits and a leading +; a US number of 10 digits gets +1 (the clinics are in the US)."""
    value = value.strip()
    if not _PHONE_ALLOWED.match(value):
        raise ValidationError("Enter a phone number using digits, for example 203 555 0142.")
    digits = re.sub(r"\D", "", value)
    if len(digits) == 10 and not value.startswith("+"):
        digits = "1" + digits
    if not 11 <= len(digits) <= 15:
        raise ValidationError("Enter a full phone number with its area code, e.g. 203 555 0142.")
    return "+" + digits


class PhoneField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return normalise_phone(value) if value else value


class StepForm(forms.Form):
    """A step's form: `answers()` gives the JSON-ready answers to store."""

    template_name = "intake/_fields.html"

    def __init__(self, *args: Any, intake: Any = None, **kwargs: Any) -> None:
        self.intake = intake
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        # Fields added in a subclass's __init__ get the same words: set them just before use.
        in_peoples_words(self)
        super().full_clean()

    def answers(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


# --- 1. About you ---------------------------------------------------------------------------------


class AboutYouForm(StepForm):
    legal_first_name = forms.CharField(label="Legal first name", max_length=100)
    legal_last_name = forms.CharField(label="Legal last name", max_length=100)
    preferred_name = forms.CharField(
        label="Preferred name", max_length=100, required=False, help_text="What should we call you?"
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        validators=[validate_adult_birth_date],
        error_messages={"invalid": "Enter your date of birth as a date, e.g. 1980-01-31."},
    )
    sex_at_birth = ChoiceField(
        label="Sex assigned at birth",
        choices=[
            ("female", "Female"),
            ("male", "Male"),
            ("intersex", "Intersex"),
            ("prefer_not_to_say", "Prefer not to say"),
        ],
        widget=forms.RadioSelect,
        help_text="Some medicines and safety questions depend on it.",
    )
    pronouns = forms.CharField(label="Pronouns", max_length=40, required=False)
    address_line1 = forms.CharField(
        label="Street address",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label="Apartment, suite (optional)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label="City or town",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    state = forms.CharField(
        label="State",
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    postal_code = forms.RegexField(
        label="ZIP code",
        regex=r"^\d{5}(-\d{4})?$",
        max_length=10,
        error_messages={"invalid": "Enter a ZIP code like 06902 or 06902-1234."},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    mobile_phone = PhoneField(label="Mobile phone")
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    preferred_location = ChoiceField(label="Preferred location")
    preferred_language = ChoiceField(
        label="Preferred language",
        choices=[("en", "English"), ("es", "Spanish"), ("other", "Another language")],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locations = self.fields["preferred_location"]
        assert isinstance(locations, forms.ChoiceField)
        locations.choices = [("", "Choose a location")] + [
            (location.slug, location.name) for location in Location.objects.filter(is_active=True)
        ]


# --- 2. Emergency contact and escort --------------------------------------------------------------


class ContactsForm(StepForm):
    emergency_name = forms.CharField(label="Emergency contact's name", max_length=100)
    emergency_phone = PhoneField(label="Emergency contact's phone")
    emergency_relationship = forms.CharField(
        label="Emergency contact's relationship to you", max_length=60
    )
    escort_name = forms.CharField(
        label="Name of the adult who will drive you home",
        max_length=100,
        help_text="You must not drive for 24 hours after an infusion.",
    )
    escort_phone = PhoneField(label="Driver's phone")
    escort_relationship = forms.CharField(label="Driver's relationship to you", max_length=60)


# --- 3. Reason for care ---------------------------------------------------------------------------

INDICATIONS = [
    ("fibromyalgia", "Fibromyalgia"),
    ("chronic_pain", "Other chronic pain"),
    ("depression", "Depression"),
    ("anxiety", "Anxiety"),
    ("ptsd", "PTSD"),
    ("other", "Other"),
]

# Form 2: one question for how long, in ranges that do not touch (form 1's "3 to 6 months" and
# "6 to 12 months" both held 6 months); the ACR 2016 3-month answer is derived from it.
PAIN_DURATIONS = [
    ("under_3_months", "Less than 3 months"),
    ("3_to_6_months", "3 months or more, but less than 6 months"),
    ("6_to_12_months", "6 months or more, but less than a year"),
    ("1_to_5_years", "1 year or more, but less than 5 years"),
    ("over_5_years", "5 years or more"),
]
PAIN_DURATIONS_FORM_1 = [
    ("under_3_months", "Less than 3 months"),
    ("3_to_6_months", "3 to 6 months"),
    ("6_to_12_months", "6 to 12 months"),
    ("1_to_5_years", "1 to 5 years"),
    ("over_5_years", "More than 5 years"),
]
THREE_MONTHS_OR_MORE = {"3_to_6_months", "6_to_12_months", "1_to_5_years", "over_5_years"}

PRIOR_TREATMENTS = [
    ("physical_therapy", "Physical therapy or an exercise programme"),
    ("antidepressants", "Antidepressants (e.g. duloxetine, amitriptyline)"),
    ("anticonvulsants", "Nerve-pain medicines (e.g. pregabalin, gabapentin)"),
    ("opioids", "Opioid pain medicines"),
    ("injections", "Injections or nerve blocks"),
    ("psychotherapy", "Talking therapy (e.g. CBT)"),
    ("ketamine", "Ketamine before"),
    ("other", "Something else"),
]


class ReasonForm(StepForm):
    indications = MultipleChoiceField(
        label="What would you like treatment for?",
        choices=INDICATIONS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one reason."},
    )
    indication_other = forms.CharField(label="If other, what?", max_length=200, required=False)
    pain_duration = ChoiceField(
        label="How long have you had this pain or these symptoms, at about the level they are now?",
        choices=PAIN_DURATIONS,
        widget=forms.RadioSelect,
    )
    prior_treatments = MultipleChoiceField(
        label="What have you tried before?",
        choices=PRIOR_TREATMENTS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    prior_treatments_detail = forms.CharField(
        label="Anything to add about earlier treatments?",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    prior_treatments_side_effects = forms.CharField(
        label="Did any of them cause side effects? Which, and what happened?",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "other" in cleaned.get("indications", []) and not cleaned.get("indication_other"):
            self.add_error("indication_other", "Tell us what the other reason is.")
        return cleaned

    def answers(self) -> dict[str, Any]:
        answers = super().answers()
        answers["pain_3_months_or_more"] = answers["pain_duration"] in THREE_MONTHS_OR_MORE
        return answers


class ReasonFormV1(ReasonForm):
    """Form 1: overlapping duration ranges, no question about side effects."""

    pain_duration = ChoiceField(
        label="How long have you had this pain or these symptoms?",
        choices=PAIN_DURATIONS_FORM_1,
        widget=forms.RadioSelect,
    )
    prior_treatments_side_effects = None  # type: ignore[assignment]


# --- 4. Fibromyalgia (ACR 2016) -------------------------------------------------------------------


class FibromyalgiaForm(StepForm):
    """Form 2: the 3-month answer of ACR 2016 comes from step 3's duration, asked once."""

    painful_areas = MultipleChoiceField(
        label=scoring.WPI_PROMPT,
        choices=[(area.code, area.label) for area in scoring.WPI_AREAS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each button shows its number as well as its words (the SSS is scored 0-3).
        severity_labels = {
            n: f"{n} {text}" for n, text in enumerate(scoring.SYMPTOM_SEVERITY_ANSWERS)
        }
        for item in scoring.SYMPTOM_SEVERITY_ITEMS:
            self.fields[item.code] = _scale(item.label, 0, 3, severity_labels)
        for item in scoring.SOMATIC_SYMPTOM_ITEMS:
            self.fields[item.code] = _yes_no(item.label)

    @property
    def severity_fields(self) -> list[forms.BoundField]:
        return [self[item.code] for item in scoring.SYMPTOM_SEVERITY_ITEMS]

    @property
    def somatic_fields(self) -> list[forms.BoundField]:
        return [self[item.code] for item in scoring.SOMATIC_SYMPTOM_ITEMS]


class FibromyalgiaFormV1(FibromyalgiaForm):
    """Form 1 asked the duration a second time, here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["symptoms_3_months"] = _yes_no(
            "Have these symptoms been present at a similar level for at least 3 months?"
        )


# --- 5. Pain and function (PEG) -------------------------------------------------------------------

_PAIN_ENDS = {0: "0 No pain", 10: "10 Worst imaginable"}
_INTERFERENCE_ENDS = {0: "0 Does not interfere", 10: "10 Completely interferes"}


class PainForm(StepForm):
    pain_now = _scale("Your pain right now", 0, 10, _PAIN_ENDS)
    pain_average = _scale(scoring.PEG_ITEMS[0], 0, 10, _PAIN_ENDS)
    pain_worst = _scale("Your worst pain in the past week", 0, 10, _PAIN_ENDS)
    peg_enjoyment = _scale(scoring.PEG_ITEMS[1], 0, 10, _INTERFERENCE_ENDS)
    peg_activity = _scale(scoring.PEG_ITEMS[2], 0, 10, _INTERFERENCE_ENDS)


# --- 6. Mood (PHQ-9, GAD-7) -----------------------------------------------------------------------


class MoodForm(StepForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        answers = dict(enumerate(scoring.FREQUENCY_ANSWERS))
        for number, text in enumerate(scoring.PHQ9_ITEMS, start=1):
            self.fields[f"phq9_{number}"] = _scale(text, 0, 3, answers)
        for number, text in enumerate(scoring.GAD7_ITEMS, start=1):
            self.fields[f"gad7_{number}"] = _scale(text, 0, 3, answers)

    @property
    def phq9_fields(self) -> list[forms.BoundField]:
        return [self[f"phq9_{n}"] for n in range(1, len(scoring.PHQ9_ITEMS) + 1)]

    @property
    def gad7_fields(self) -> list[forms.BoundField]:
        return [self[f"gad7_{n}"] for n in range(1, len(scoring.GAD7_ITEMS) + 1)]

    @property
    def self_harm_answered(self) -> bool:
        """True as soon as item 9 has an answer above 0, valid form or not."""
        value = self[f"phq9_{scoring.PHQ9_SELF_HARM_ITEM}"].value()
        return str(value) in {"1", "2", "3"}


# --- 7. Health history and safety screen ----------------------------------------------------------

# (code, question, prompt for details when the answer is yes). Form 2 (issue 18) asks severe and
# moderate liver disease apart and follows some yeses with a structured question (FOLLOW_UPS), as
# the ASRA 2018 guideline distinguishes them (intake.flags).
SAFETY_ITEMS: list[tuple[str, str, str]] = [
    ("high_blood_pressure", "High blood pressure", "Which medicines do you take for it?"),
    ("heart_attack", "A heart attack", "When was it?"),
    ("angina", "Chest pain from the heart (angina)", "Is it recent or getting worse?"),
    ("heart_failure", "Heart failure", ""),
    ("arrhythmia", "An irregular heartbeat (arrhythmia)", "Which kind, and how is it treated?"),
    ("aneurysm", "An aneurysm", "Where, and is it being followed?"),
    ("stroke", "A stroke or mini-stroke (TIA)", "When was it?"),
    ("pregnant", "Are you pregnant, or could you be?", ""),
    ("breastfeeding", "Are you breastfeeding?", ""),
    (
        "psychosis",
        "Psychosis or schizophrenia, or seeing or hearing things others do not",
        "What happened, and when?",
    ),
    ("bipolar", "Bipolar disorder or episodes of mania", ""),
    ("seizures", "Seizures or epilepsy", "When was the last one?"),
    (
        "liver_severe",
        "Cirrhosis or severe liver disease (for example liver failure, or a liver transplant)",
        "What did your doctor call it?",
    ),
    (
        "liver_moderate",
        "Other liver disease (for example hepatitis or a fatty liver)",
        "Which, and is it treated?",
    ),
    (
        "intracranial_pressure",
        "A serious head injury, brain tumour, or raised pressure in the head",
        "",
    ),
    ("eye_pressure", "Glaucoma, raised eye pressure, or a recent eye injury", ""),
    (
        "substance_use",
        "Alcohol or drug use that worried you or others",
        "What, and how often?",
    ),
    ("ketamine_reaction", "An allergy or a bad reaction to ketamine", "What happened?"),
    ("hyperthyroidism", "An overactive thyroid (hyperthyroidism)", "Is it under control?"),
    ("sleep_apnoea", "Sleep apnoea", "Do you use a CPAP machine?"),
    ("bladder_after_ketamine", "Bladder problems after using ketamine", ""),
]

_NOW_OR_PAST = [("now", "Yes, now (or it is still being treated)"), ("past", "Only in the past")]

# Question code -> (field, question, choices), asked after a yes (and required then).
FOLLOW_UPS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "high_blood_pressure": (
        "high_blood_pressure_control",
        "Is your blood pressure under control?",
        [
            ("controlled", "Yes, it is under control"),
            ("not_controlled", "No, it is not under control"),
            ("not_sure", "I don't know"),
        ],
    ),
    "psychosis": ("psychosis_when", "Is it now, or only in the past?", _NOW_OR_PAST),
    "substance_use": ("substance_use_when", "Is it now, or only in the past?", _NOW_OR_PAST),
}

SAFETY_ITEMS_FORM_1: list[tuple[str, str, str]] = [
    ("high_blood_pressure", "High blood pressure", "Is it treated? Is it under control?"),
    *SAFETY_ITEMS[1:9],
    (
        "psychosis",
        "Psychosis or schizophrenia, or seeing or hearing things others do not",
        "Is it current?",
    ),
    ("bipolar", "Bipolar disorder or episodes of mania", ""),
    ("seizures", "Seizures or epilepsy", "When was the last one?"),
    ("liver_disease", "Liver disease (for example hepatitis or cirrhosis)", "Which, and how bad?"),
    *SAFETY_ITEMS[14:16],
    (
        "substance_use",
        "Do you currently use alcohol or drugs in a way that worries you or others?",
        "What, and how often?",
    ),
    *SAFETY_ITEMS[17:],
]


class MedicationForm(forms.Form):
    # Not required: an empty row is simply not a medicine; a dose without a name is refused.
    name = forms.CharField(label="Medicine", max_length=120, required=False)
    dose = forms.CharField(label="Dose", max_length=60, required=False)
    frequency = forms.CharField(label="How often", max_length=60, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        in_peoples_words(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("name") and (cleaned.get("dose") or cleaned.get("frequency")):
            self.add_error("name", "Name the medicine, or clear this row.")
        return cleaned


class AllergyForm(forms.Form):
    substance = forms.CharField(label="Allergic to", max_length=120, required=False)
    reaction = forms.CharField(label="Reaction", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        in_peoples_words(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("substance") and cleaned.get("reaction"):
            self.add_error("substance", "Say what you are allergic to, or clear this row.")
        return cleaned


class _RowFormSet(forms.BaseFormSet[forms.Form]):
    default_error_messages = dict(FORMSET_MESSAGES)

    # The first field names the row (the medicine, the substance): a row without it is empty.
    key_field = ""

    def rows(self) -> list[dict[str, Any]]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get(self.key_field)
        ]


class _MedicationRows(_RowFormSet):
    key_field = "name"


class _AllergyRows(_RowFormSet):
    key_field = "substance"


MedicationFormSet = forms.formset_factory(
    MedicationForm, formset=_MedicationRows, extra=1, max_num=40, absolute_max=60, validate_max=True
)
AllergyFormSet = forms.formset_factory(
    AllergyForm, formset=_AllergyRows, extra=1, max_num=40, absolute_max=60, validate_max=True
)


def _reading_number(label: str, low: int, high: int, help_text: str) -> forms.IntegerField:
    words = f"A {label} is between {low} and {high} mmHg; please check the reading."
    return forms.IntegerField(
        label=f"{label.capitalize()} (mmHg)",
        min_value=low,
        max_value=high,
        required=False,
        help_text=help_text,
        error_messages={"min_value": words, "max_value": words},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class SafetyForm(StepForm):
    """The safety screen (form 2) with its repeatable medication and allergy rows."""

    items = SAFETY_ITEMS
    follow_ups = FOLLOW_UPS

    recent_systolic = _reading_number(
        "top number", 60, 260, "The systolic pressure, in mmHg: the first number, e.g. 120."
    )
    recent_diastolic = _reading_number(
        "bottom number", 30, 160, "The diastolic pressure, in mmHg: the second number, e.g. 80."
    )
    recent_bp_date = forms.DateField(
        label="Date of the reading",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, extra_rows: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, question, detail in self.items:
            self.fields[code] = _yes_no(question)
            if code in self.follow_ups:
                name, follow_up, choices = self.follow_ups[code]
                self.fields[name] = ChoiceField(
                    label=follow_up, choices=choices, widget=forms.RadioSelect, required=False
                )
            self.fields[f"{code}_detail"] = forms.CharField(
                label=detail or "Details", max_length=500, required=False
            )
        initial = kwargs.get("initial") or {}
        data = args[0] if args else kwargs.get("data")
        # formset_factory builds subclasses of _RowFormSet; its type says only BaseFormSet.
        self.medications = cast(
            _RowFormSet,
            MedicationFormSet(
                data, prefix="medications", initial=initial.get("medications") or None
            ),
        )
        self.allergies = cast(
            _RowFormSet,
            AllergyFormSet(data, prefix="allergies", initial=initial.get("allergies") or None),
        )
        if extra_rows:
            self.medications.extra += extra_rows
            self.allergies.extra += extra_rows

    @property
    def formsets(self) -> list[tuple[_RowFormSet, str, str]]:
        return [
            (self.medications, "Medicines you take now", "Add more medicine rows"),
            (self.allergies, "Allergies", "Add more allergy rows"),
        ]

    @property
    def screen_rows(
        self,
    ) -> list[tuple[forms.BoundField, forms.BoundField | None, forms.BoundField, str]]:
        """(question, follow-up or None, detail, code) for each item, in order."""
        return [
            (
                self[code],
                self[self.follow_ups[code][0]] if code in self.follow_ups else None,
                self[f"{code}_detail"],
                code,
            )
            for code, _, _detail in self.items
        ]

    @property
    def has_reading_date(self) -> bool:
        return "recent_bp_date" in self.fields

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for code, _question, _detail in self.items:
            follow_up = self.follow_ups.get(code)
            if cleaned.get(code):
                if follow_up and not cleaned.get(follow_up[0]):
                    self.add_error(follow_up[0], "Please choose an answer.")
            elif code in cleaned:
                # A detail typed before the answer became No is not an answer.
                cleaned[f"{code}_detail"] = ""
                if follow_up:
                    cleaned[follow_up[0]] = ""
        self._clean_reading(cleaned)
        return cleaned

    def _clean_reading(self, cleaned: dict[str, Any]) -> None:
        names = ("recent_systolic", "recent_diastolic")
        if any(name in self.errors for name in names):
            return  # a number was already refused; "give both" would be wrong
        systolic, diastolic = cleaned.get("recent_systolic"), cleaned.get("recent_diastolic")
        if (systolic is None) != (diastolic is None):
            field = "recent_diastolic" if diastolic is None else "recent_systolic"
            self.add_error(field, "Give both numbers of the reading, or neither.")
        elif systolic is not None and diastolic is not None and diastolic >= systolic:
            self.add_error("recent_diastolic", "The bottom number is lower than the top number.")
        elif self.has_reading_date and "recent_bp_date" not in self.errors:
            taken = cleaned.get("recent_bp_date")
            if systolic is not None and taken is None:
                self.add_error("recent_bp_date", "When was it taken? An approximate date is fine.")
            elif taken is not None and taken > timezone.localdate():
                self.add_error("recent_bp_date", "The date of the reading cannot be in the future.")
            elif systolic is None and taken is not None:
                cleaned["recent_bp_date"] = None

    def is_valid(self) -> bool:
        # Every part is validated so that every message shows at once.
        results = [super().is_valid(), self.medications.is_valid(), self.allergies.is_valid()]
        return all(results)

    def has_errors(self) -> bool:
        return bool(self.errors) or not self.medications.is_valid() or not self.allergies.is_valid()

    def answers(self) -> dict[str, Any]:
        answers = super().answers()
        answers["medications"] = self.medications.rows()
        answers["allergies"] = self.allergies.rows()
        return answers


class SafetyFormV1(SafetyForm):
    """Form 1: one liver question, "ever" for psychosis and substance use, no follow-ups, a
    reading without its date."""

    items = SAFETY_ITEMS_FORM_1
    follow_ups = {}
    recent_bp_date = None  # type: ignore[assignment]


# --- 8. Body measurements -------------------------------------------------------------------------


class MeasurementsForm(StepForm):
    weight = forms.DecimalField(
        label="Weight", max_digits=6, decimal_places=1, min_value=Decimal("0.1")
    )
    weight_unit = ChoiceField(
        label="Weight unit", choices=[("kg", "kg"), ("lb", "lb")], widget=forms.RadioSelect
    )
    height_unit = ChoiceField(
        label="Height unit",
        choices=[("cm", "Centimetres"), ("ft_in", "Feet and inches")],
        widget=forms.RadioSelect,
    )
    height_cm = forms.DecimalField(
        label="Height in cm", max_digits=5, decimal_places=1, required=False, min_value=1
    )
    height_feet = forms.IntegerField(label="Feet", min_value=1, max_value=8, required=False)
    height_inches = forms.DecimalField(
        label="Inches",
        max_digits=4,
        decimal_places=1,
        min_value=0,
        max_value=Decimal("11.9"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        weight, unit = cleaned.get("weight"), cleaned.get("weight_unit")
        if weight is not None and unit:
            try:
                kg = scoring.pounds_to_kg(weight) if unit == "lb" else weight
                cleaned["weight_kg"] = scoring.validate_weight_kg(kg)
            except (ValueError, InvalidOperation) as error:
                self.add_error("weight", str(error))
        height_unit = cleaned.get("height_unit")
        if height_unit == "cm":
            self._clean_height_cm(cleaned)
        elif height_unit == "ft_in":
            self._clean_height_feet(cleaned)
        return cleaned

    def _clean_height_cm(self, cleaned: dict[str, Any]) -> None:
        if cleaned.get("height_cm") is None:
            if "height_cm" not in self.errors:
                self.add_error("height_cm", "Enter your height in centimetres.")
            return
        try:
            cleaned["height_cm_si"] = scoring.validate_height_cm(cleaned["height_cm"])
        except ValueError as error:
            self.add_error("height_cm", str(error))

    def _clean_height_feet(self, cleaned: dict[str, Any]) -> None:
        feet, inches = cleaned.get("height_feet"), cleaned.get("height_inches")
        if feet is None:
            if "height_feet" not in self.errors:
                self.add_error("height_feet", "Enter your height in feet and inches.")
            return
        try:
            cm = scoring.feet_inches_to_cm(feet, inches or 0)
            cleaned["height_cm_si"] = scoring.validate_height_cm(cm)
        except ValueError as error:
            self.add_error("height_feet", str(error))

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "weight_kg": data["weight_kg"],
            "height_cm": data["height_cm_si"],
            "weight": data["weight"],
            "weight_unit": data["weight_unit"],
            "height_unit": data["height_unit"],
            "height_feet": data.get("height_feet"),
            "height_inches": data.get("height_inches"),
            "bmi": scoring.bmi(data["weight_kg"], data["height_cm_si"]),
        }


class StepQuery(forms.Form):
    """?from=review on a step: the patient came from the review page and returns there after
    saving. Any other value is the usual way forward."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so the field cannot be a class attribute.
        self.fields["from"] = forms.ChoiceField(
            choices=[("review", "The review page")], required=False
        )


# --- 9. Insurance ---------------------------------------------------------------------------------


class InsuranceForm(StepForm):
    payment = ChoiceField(
        label="How will you pay?",
        choices=[("self_pay", "I will pay myself"), ("insurance", "I have insurance")],
        widget=forms.RadioSelect,
    )
    payer = forms.CharField(label="Insurance company", max_length=120, required=False)
    member_id = forms.CharField(label="Member ID", max_length=60, required=False)
    group_number = forms.CharField(label="Group number", max_length=60, required=False)
    card = forms.FileField(
        label="Photo or scan of your insurance card (optional)",
        required=False,
        help_text="JPEG, PNG or PDF, up to 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

    def clean_card(self) -> UploadedFile[bytes] | None:
        upload = self.cleaned_data.get("card")
        self.checked_card: cards.Card | None = cards.check(upload) if upload else None
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("payment") == "insurance":
            for field in ("payer", "member_id"):
                if not cleaned.get(field):
                    self.add_error(field, "This is needed when you pay with insurance.")
        return cleaned

    def answers(self) -> dict[str, Any]:
        answers = {key: value for key, value in self.cleaned_data.items() if key != "card"}
        if answers.get("payment") == "self_pay":
            answers.update(payer="", member_id="", group_number="")
        return answers


# --- 10. Communication and consents ---------------------------------------------------------------


def _same_name(typed: str, expected: str) -> bool:
    def simplify(text: str) -> str:
        return " ".join(text.casefold().split())

    return bool(expected) and simplify(typed) == simplify(expected)


class ConsentsForm(StepForm):
    email_reminders = forms.BooleanField(label="Send me reminders by email", required=False)
    sms_reminders = forms.BooleanField(label="Send me reminders by text message", required=False)
    sms_consent = forms.BooleanField(
        label="I agree to receive appointment text messages at my mobile number.",
        required=False,
    )
    escort_agreement = forms.BooleanField(
        label="I have read and agree to the driver and escort agreement.",
        error_messages={"required": "Please confirm the driver and escort agreement."},
    )
    fasting_acknowledged = forms.BooleanField(
        label="I have read the fasting instructions.",
        error_messages={"required": "Please confirm you have read the fasting instructions."},
    )
    treatment_consent = forms.BooleanField(
        label="I have read the consent to treatment and I agree to it.",
        error_messages={"required": "Please confirm the consent to treatment."},
    )
    signature = forms.CharField(
        label="Type your full legal name as your signature",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args: Any, legal_name: str = "", **kwargs: Any) -> None:
        self.legal_name = legal_name
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("sms_reminders") and not cleaned.get("sms_consent"):
            self.add_error("sms_consent", "Tick this to receive text messages, or untick texts.")
        signature = cleaned.get("signature")
        if signature and not _same_name(signature, self.legal_name):
            self.add_error(
                "signature",
                f"Type your legal name exactly as in step 1: {self.legal_name}."
                if self.legal_name
                else "Please fill in your legal name in step 1 first.",
            )
        return cleaned
