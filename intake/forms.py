"""The forms of the intake steps (docs/product-rules.md#intake).

Each form validates and normalises one step and returns its answers as plain JSON-ready values
through `answers()`; saving, scoring and side effects happen in `intake.services`.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.validators import validate_adult_birth_date
from clinic.phones import PhoneField
from clinic.wording import FORMSET_MESSAGES, in_peoples_words
from intake import cards, instrument_texts, scoring
from intake.vocabulary import (
    FOLLOW_UPS,
    INDICATIONS,
    PAIN_DURATIONS,
    PAIN_DURATIONS_FORM_1,
    PRIOR_TREATMENTS,
    SAFETY_ITEMS,
    SAFETY_ITEMS_FORM_1,
    THREE_MONTHS_OR_MORE,
    YES_NO,
)
from locations.models import Location


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


def _yes_no(label: StrOrPromise, **kwargs: Any) -> TypedChoiceField:
    return TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        **kwargs,
    )


def _scale(
    label: StrOrPromise, low: int, high: int, labels: Mapping[int, StrOrPromise] | None = None
) -> forms.Field:
    labels = labels or {}
    return TypedChoiceField(
        label=label,
        choices=[(str(n), labels.get(n, str(n))) for n in range(low, high + 1)],
        coerce=int,
        widget=forms.RadioSelect,
    )


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

    def attachments(self) -> dict[str, Any]:
        """What `intake.services.save_step` takes besides the answers: files (none here)."""
        return {}


# --- 1. About you ---------------------------------------------------------------------------------


class AboutYouForm(StepForm):
    legal_first_name = forms.CharField(label=_("Legal first name"), max_length=100)
    legal_last_name = forms.CharField(label=_("Legal last name"), max_length=100)
    preferred_name = forms.CharField(
        label=_("Preferred name"),
        max_length=100,
        required=False,
        help_text=_("What should we call you?"),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        # The ISO format a date input needs, whatever the language's own (Spanish: 02/05/1979).
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        validators=[validate_adult_birth_date],
        error_messages={"invalid": _("Enter your date of birth as a date, e.g. 1980-01-31.")},
    )
    sex_at_birth = ChoiceField(
        label=_("Sex assigned at birth"),
        choices=[
            ("female", _("Female")),
            ("male", _("Male")),
            ("intersex", _("Intersex")),
            ("prefer_not_to_say", _("Prefer not to say")),
        ],
        widget=forms.RadioSelect,
        help_text=_("Some medicines and safety questions depend on it."),
    )
    pronouns = forms.CharField(label=_("Pronouns"), max_length=40, required=False)
    address_line1 = forms.CharField(
        label=_("Street address"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label=_("Apartment, suite (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City or town"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    state = forms.CharField(
        label=_("State"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    postal_code = forms.RegexField(
        label=_("ZIP code"),
        regex=r"^\d{5}(-\d{4})?$",
        max_length=10,
        error_messages={"invalid": _("Enter a ZIP code like 06902 or 06902-1234.")},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    mobile_phone = PhoneField(label=_("Mobile phone"))
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    preferred_location = ChoiceField(label=_("Preferred location"))
    preferred_language = ChoiceField(
        label=_("Preferred language"),
        choices=[("en", _("English")), ("es", _("Spanish")), ("other", _("Another language"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locations = self.fields["preferred_location"]
        assert isinstance(locations, forms.ChoiceField)
        locations.choices = [("", _("Choose a location"))] + [
            (location.slug, location.name) for location in Location.objects.filter(is_active=True)
        ]


# --- 2. Emergency contact and escort --------------------------------------------------------------


class ContactsForm(StepForm):
    emergency_name = forms.CharField(label=_("Emergency contact's name"), max_length=100)
    emergency_phone = PhoneField(label=_("Emergency contact's phone"))
    emergency_relationship = forms.CharField(
        label=_("Emergency contact's relationship to you"), max_length=60
    )
    escort_name = forms.CharField(
        label=_("Name of the adult who will drive you home"),
        max_length=100,
        help_text=_("You must not drive for 24 hours after an infusion."),
    )
    escort_phone = PhoneField(label=_("Driver's phone"))
    escort_relationship = forms.CharField(label=_("Driver's relationship to you"), max_length=60)


# --- 3. Reason for care ---------------------------------------------------------------------------


class ReasonForm(StepForm):
    indications = MultipleChoiceField(
        label=_("What would you like treatment for?"),
        choices=INDICATIONS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one reason.")},
    )
    indication_other = forms.CharField(label=_("If other, what?"), max_length=200, required=False)
    pain_duration = ChoiceField(
        label=_(
            "How long have you had this pain or these symptoms, at about the level they are now?"
        ),
        choices=PAIN_DURATIONS,
        widget=forms.RadioSelect,
    )
    prior_treatments = MultipleChoiceField(
        label=_("What have you tried before?"),
        choices=PRIOR_TREATMENTS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    prior_treatments_detail = forms.CharField(
        label=_("Anything to add about earlier treatments?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    prior_treatments_side_effects = forms.CharField(
        label=_("Did any of them cause side effects? Which, and what happened?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "other" in cleaned.get("indications", []) and not cleaned.get("indication_other"):
            self.add_error("indication_other", _("Tell us what the other reason is."))
        return cleaned

    def answers(self) -> dict[str, Any]:
        answers = super().answers()
        answers["pain_3_months_or_more"] = answers["pain_duration"] in THREE_MONTHS_OR_MORE
        return answers


class ReasonFormV1(ReasonForm):
    """Form 1: overlapping duration ranges, no question about side effects."""

    pain_duration = ChoiceField(
        label=_("How long have you had this pain or these symptoms?"),
        choices=PAIN_DURATIONS_FORM_1,
        widget=forms.RadioSelect,
    )
    prior_treatments_side_effects = None  # type: ignore[assignment]  # form 1 did not ask it


# --- 4. Fibromyalgia (ACR 2016) -------------------------------------------------------------------


class FibromyalgiaForm(StepForm):
    """Form 2: the 3-month answer of ACR 2016 comes from step 3's duration, asked once."""

    painful_areas = MultipleChoiceField(
        label=_(scoring.WPI_PROMPT),
        choices=[(area.code, _(area.label)) for area in scoring.WPI_AREAS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each button shows its number as well as its words (the SSS is scored 0-3).
        severity_labels = {
            n: format_lazy("{} {}", n, _(text))
            for n, text in enumerate(scoring.SYMPTOM_SEVERITY_ANSWERS)
        }
        for item in scoring.SYMPTOM_SEVERITY_ITEMS:
            self.fields[item.code] = _scale(_(item.label), 0, 3, severity_labels)
        for item in scoring.SOMATIC_SYMPTOM_ITEMS:
            self.fields[item.code] = _yes_no(_(item.label))

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
            _("Have these symptoms been present at a similar level for at least 3 months?")
        )


# --- 5. Pain and function (PEG) -------------------------------------------------------------------

_PAIN_ENDS = {0: _("0 No pain"), 10: _("10 Worst imaginable")}
_INTERFERENCE_ENDS = {0: _("0 Does not interfere"), 10: _("10 Completely interferes")}


class PainForm(StepForm):
    pain_now = _scale(_("Your pain right now"), 0, 10, _PAIN_ENDS)
    pain_average = _scale(_(scoring.PEG_ITEMS[0]), 0, 10, _PAIN_ENDS)
    pain_worst = _scale(_("Your worst pain in the past week"), 0, 10, _PAIN_ENDS)
    peg_enjoyment = _scale(_(scoring.PEG_ITEMS[1]), 0, 10, _INTERFERENCE_ENDS)
    peg_activity = _scale(_(scoring.PEG_ITEMS[2]), 0, 10, _INTERFERENCE_ENDS)


# --- 6. Mood (PHQ-9, GAD-7) -----------------------------------------------------------------------


class MoodForm(StepForm):
    """PHQ-9 and GAD-7 in the patient's language: in Spanish, the authors' Spanish wording
    (`intake.instrument_texts`), never our translation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.texts = instrument_texts.mood_texts(translation.get_language())
        phq9_answers = dict(enumerate(self.texts.answers))
        gad7_answers = dict(enumerate(self.texts.gad7_answers))
        for number, text in enumerate(self.texts.phq9_items, start=1):
            self.fields[f"phq9_{number}"] = _scale(text, 0, 3, phq9_answers)
        for number, text in enumerate(self.texts.gad7_items, start=1):
            self.fields[f"gad7_{number}"] = _scale(text, 0, 3, gad7_answers)

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


class MedicationForm(forms.Form):
    # Not required: an empty row is simply not a medicine; a dose without a name is refused.
    name = forms.CharField(label=_("Medicine"), max_length=120, required=False)
    dose = forms.CharField(label=_("Dose"), max_length=60, required=False)
    frequency = forms.CharField(label=_("How often"), max_length=60, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        in_peoples_words(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("name") and (cleaned.get("dose") or cleaned.get("frequency")):
            self.add_error("name", _("Name the medicine, or clear this row."))
        return cleaned


class AllergyForm(forms.Form):
    substance = forms.CharField(label=_("Allergic to"), max_length=120, required=False)
    reaction = forms.CharField(label=_("Reaction"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        in_peoples_words(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("substance") and cleaned.get("reaction"):
            self.add_error("substance", _("Say what you are allergic to, or clear this row."))
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


def _reading_number(
    label: StrOrPromise, low: int, high: int, help_text: StrOrPromise, words: StrOrPromise
) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
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
        _("Top number (mmHg)"),
        60,
        260,
        _("The systolic pressure, in mmHg: the first number, e.g. 120."),
        _("A top number is between 60 and 260 mmHg; please check the reading."),
    )
    recent_diastolic = _reading_number(
        _("Bottom number (mmHg)"),
        30,
        160,
        _("The diastolic pressure, in mmHg: the second number, e.g. 80."),
        _("A bottom number is between 30 and 160 mmHg; please check the reading."),
    )
    recent_bp_date = forms.DateField(
        label=_("Date of the reading"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
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
                label=detail or _("Details"), max_length=500, required=False
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
    def formsets(self) -> list[tuple[_RowFormSet, StrOrPromise, StrOrPromise, StrOrPromise]]:
        """Each list with its title, its button's words, and the words once JavaScript adds one
        row at a time (static/js/intake.js)."""
        return [
            (
                self.medications,
                _("Medicines you take now"),
                _("Add more medicine rows"),
                _("Add another medicine row"),
            ),
            (
                self.allergies,
                _("Allergies"),
                _("Add more allergy rows"),
                _("Add another allergy row"),
            ),
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
                    self.add_error(follow_up[0], _("Please choose an answer."))
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
            self.add_error(field, _("Give both numbers of the reading, or neither."))
        elif systolic is not None and diastolic is not None and diastolic >= systolic:
            self.add_error("recent_diastolic", _("The bottom number is lower than the top number."))
        elif self.has_reading_date and "recent_bp_date" not in self.errors:
            taken = cleaned.get("recent_bp_date")
            if systolic is not None and taken is None:
                self.add_error(
                    "recent_bp_date", _("When was it taken? An approximate date is fine.")
                )
            # The server's date (UTC) is on or after the patient's: today's reading is never
            # refused as "in the future" (see validate_adult_birth_date).
            elif taken is not None and taken > timezone.localdate():
                self.add_error(
                    "recent_bp_date", _("The date of the reading cannot be in the future.")
                )
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
    recent_bp_date = None  # type: ignore[assignment]  # form 1 did not ask it


# --- 8. Body measurements -------------------------------------------------------------------------


def _weight_range() -> str:
    """scoring.WEIGHT_RANGE_MESSAGE in the patient's language."""
    low, high = scoring.WEIGHT_KG_RANGE
    return gettext(
        "Weight must be between %(low)s and %(high)s kg (%(low_lb)s and %(high_lb)s lb)."
    ) % {
        "low": low,
        "high": high,
        "low_lb": scoring.WEIGHT_LB_RANGE[0],
        "high_lb": scoring.WEIGHT_LB_RANGE[1],
    }


def _height_range() -> str:
    """scoring.HEIGHT_RANGE_MESSAGE in the patient's language."""
    low, high = scoring.HEIGHT_CM_RANGE
    low_in, high_in = scoring.HEIGHT_IN_RANGE
    return gettext(
        "Height must be between %(low)s and %(high)s cm (%(low_ft)s ft %(low_in)s in and "
        "%(high_ft)s ft %(high_in)s in)."
    ) % {
        "low": low,
        "high": high,
        "low_ft": low_in // 12,
        "low_in": low_in % 12,
        "high_ft": high_in // 12,
        "high_in": high_in % 12,
    }


class MeasurementsForm(StepForm):
    weight = forms.DecimalField(
        label=_("Weight"), max_digits=6, decimal_places=1, min_value=Decimal("0.1")
    )
    weight_unit = ChoiceField(
        label=_("Weight unit"), choices=[("kg", "kg"), ("lb", "lb")], widget=forms.RadioSelect
    )
    height_unit = ChoiceField(
        label=_("Height unit"),
        choices=[("cm", _("Centimetres")), ("ft_in", _("Feet and inches"))],
        widget=forms.RadioSelect,
    )
    height_cm = forms.DecimalField(
        label=_("Height in cm"), max_digits=5, decimal_places=1, required=False, min_value=1
    )
    height_feet = forms.IntegerField(label=_("Feet"), min_value=1, max_value=8, required=False)
    height_inches = forms.DecimalField(
        label=_("Inches"),
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
            except (ValueError, InvalidOperation):
                self.add_error("weight", _weight_range())
        height_unit = cleaned.get("height_unit")
        if height_unit == "cm":
            self._clean_height_cm(cleaned)
        elif height_unit == "ft_in":
            self._clean_height_feet(cleaned)
        return cleaned

    def _clean_height_cm(self, cleaned: dict[str, Any]) -> None:
        if cleaned.get("height_cm") is None:
            if "height_cm" not in self.errors:
                self.add_error("height_cm", _("Enter your height in centimetres."))
            return
        try:
            cleaned["height_cm_si"] = scoring.validate_height_cm(cleaned["height_cm"])
        except ValueError:
            self.add_error("height_cm", _height_range())

    def _clean_height_feet(self, cleaned: dict[str, Any]) -> None:
        feet, inches = cleaned.get("height_feet"), cleaned.get("height_inches")
        if feet is None:
            if "height_feet" not in self.errors:
                self.add_error("height_feet", _("Enter your height in feet and inches."))
            return
        try:
            cm = scoring.feet_inches_to_cm(feet, inches or 0)
            cleaned["height_cm_si"] = scoring.validate_height_cm(cm)
        except ValueError:
            self.add_error("height_feet", _height_range())

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
            choices=[("review", _("The review page"))], required=False
        )


# --- 9. Insurance ---------------------------------------------------------------------------------


class InsuranceForm(StepForm):
    payment = ChoiceField(
        label=_("How will you pay?"),
        choices=[("self_pay", _("I will pay myself")), ("insurance", _("I have insurance"))],
        widget=forms.RadioSelect,
    )
    payer = forms.CharField(label=_("Insurance company"), max_length=120, required=False)
    member_id = forms.CharField(label=_("Member ID"), max_length=60, required=False)
    group_number = forms.CharField(label=_("Group number"), max_length=60, required=False)
    card = forms.FileField(
        label=_("Photo or scan of your insurance card (optional)"),
        required=False,
        help_text=_("JPEG, PNG or PDF, up to 5 MB."),
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
                    self.add_error(field, _("This is needed when you pay with insurance."))
        return cleaned

    def attachments(self) -> dict[str, Any]:
        """The checked card to store (`card`), or whether the one on file is cleared."""
        return {"card": self.checked_card, "clear_card": self.cleaned_data.get("card") is False}

    def answers(self) -> dict[str, Any]:
        answers = {key: value for key, value in self.cleaned_data.items() if key != "card"}
        if answers.get("payment") == "self_pay":
            answers.update(payer="", member_id="", group_number="")
        return answers


# --- 10. Communication and consents ---------------------------------------------------------------


def _same_name(typed: str, expected: str) -> bool:
    """The signature is the legal name as people type it: on a phone's keyboard "Lucia
    Fernandez" is "Lucía Fernández", so case, accents and extra spaces do not count (the record
    keeps what was typed)."""

    def simplify(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
        return " ".join(bare.split())

    return bool(expected) and simplify(typed) == simplify(expected)


class ConsentsForm(StepForm):
    email_reminders = forms.BooleanField(label=_("Send me reminders by email"), required=False)
    sms_reminders = forms.BooleanField(label=_("Send me reminders by text message"), required=False)
    sms_consent = forms.BooleanField(
        label=_("I agree to receive appointment text messages at my mobile number."),
        required=False,
    )
    escort_agreement = forms.BooleanField(
        label=_("I have read and agree to the driver and escort agreement."),
        error_messages={"required": _("Please confirm the driver and escort agreement.")},
    )
    fasting_acknowledged = forms.BooleanField(
        label=_("I have read the fasting instructions."),
        error_messages={"required": _("Please confirm you have read the fasting instructions.")},
    )
    treatment_consent = forms.BooleanField(
        label=_("I have read the consent to treatment and I agree to it."),
        error_messages={"required": _("Please confirm the consent to treatment.")},
    )
    signature = forms.CharField(
        label=_("Type your full legal name as your signature"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args: Any, legal_name: str = "", **kwargs: Any) -> None:
        self.legal_name = legal_name
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("sms_reminders") and not cleaned.get("sms_consent"):
            self.add_error("sms_consent", _("Tick this to receive text messages, or untick texts."))
        signature = cleaned.get("signature")
        if signature and not _same_name(signature, self.legal_name):
            self.add_error(
                "signature",
                gettext("Type your legal name exactly as in step 1: %(name)s.")
                % {"name": self.legal_name}
                if self.legal_name
                else _("Please fill in your legal name in step 1 first."),
            )
        return cleaned
