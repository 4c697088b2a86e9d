"""The chart's forms: each validates and normalises what the nurse typed, in plain words.

Times are local wall-clock times on the session's day ("when it happened"); empty means now.
Whether a time fits the timeline is the service's rule (charting.rules), checked under a lock;
its message is shown next to the field it concerns.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms

from accounts.models import Role, User
from charting import rules
from charting.models import SIDE_EFFECTS
from clinic.phones import PhoneField
from intake import scoring

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _time(label: str, *, required: bool = False, help_text: str = "") -> forms.TimeField:
    return forms.TimeField(
        label=label,
        widget=TIME,
        required=required,
        help_text=help_text or "Leave empty for now; enter the time when charting later.",
        error_messages={
            "required": f"Enter the {label.lower()}.",
            "invalid": "Enter a time like 14:05.",
        },
    )


def _whole(
    label: str, what: str, low: int, high: int, unit: str, *, required: bool = True
) -> forms.IntegerField:
    """A whole number with its plausible range; the messages name the measurement."""
    plausible = f"enter a value between {low} and {high}{unit}"
    article = "An" if what[0] in "aeiou" else "A"
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=low,
        max_value=high,
        error_messages={
            "required": f"Enter the {what}.",
            "invalid": f"Enter the {what} as a whole number.",
            "min_value": f"{article} {what} of %(value)s{unit} is not plausible: {plausible}.",
            "max_value": f"{article} {what} of %(value)s{unit} is not plausible: {plausible}.",
        },
    )


def _pain(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[(str(n), str(n)) for n in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the pain score from 0 (none) to 10 (worst imaginable).",
            "invalid_choice": "Choose the pain score from 0 to 10.",
        },
    )


class VitalsFields(forms.Form):
    systolic = _whole("Systolic (mmHg)", "systolic pressure", 40, 300, " mmHg")
    diastolic = _whole("Diastolic (mmHg)", "diastolic pressure", 20, 200, " mmHg")
    pulse = _whole("Pulse (/min)", "pulse", 20, 250, "/min")
    spo2 = _whole("SpO2 (%)", "oxygen saturation", 50, 100, " %")
    resp_rate = _whole("Respiratory rate (/min)", "respiratory rate", 4, 60, "/min")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        systolic, diastolic = cleaned.get("systolic"), cleaned.get("diastolic")
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            self.add_error("diastolic", "The diastolic value must be below the systolic.")
        return cleaned

    def vitals(self) -> rules.Vitals:
        data = self.cleaned_data
        return rules.Vitals(
            data["systolic"], data["diastolic"], data["pulse"], data["spo2"], data["resp_rate"]
        )


class CheckInForm(VitalsFields):
    """Fasting against the location's rule, the escort, today's weight, baseline vitals, pain."""

    time = _time("Time of check-in")
    last_solid_food = _time(
        "Last solid food (time)",
        required=True,
        help_text="A time later than the start means the evening before.",
    )
    last_clear_liquid = _time("Last clear liquid (time)", required=True, help_text=" ")
    escort_name = forms.CharField(
        label="Escort's name",
        max_length=100,
        error_messages={"required": "Enter the name of the adult taking the patient home."},
    )
    escort_phone = PhoneField(
        label="Escort's phone",
        error_messages={"required": "Enter the escort's phone number."},
    )
    escort_present = forms.BooleanField(
        label="The escort is here, or confirmed to collect",
        error_messages={"required": "The patient may only be treated with an escort to go home."},
    )
    pregnancy_possible = forms.TypedChoiceField(
        label="Could the patient be pregnant?",
        choices=[("no", "No"), ("yes", "Yes")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        required=False,
        error_messages={"required": "Answer the pregnancy question."},
    )
    weight = forms.DecimalField(
        label="Today's weight",
        max_digits=6,
        decimal_places=1,
        error_messages={
            "required": "Enter today's weight.",
            "invalid": "Enter the weight as a number, e.g. 74.8.",
            "max_digits": scoring.WEIGHT_RANGE_MESSAGE,
            "max_decimal_places": "Enter the weight to one decimal place at most.",
            "max_whole_digits": scoring.WEIGHT_RANGE_MESSAGE,
        },
    )
    weight_unit = forms.ChoiceField(
        label="Weight unit",
        choices=[("kg", "kg"), ("lb", "lb")],
        widget=forms.RadioSelect,
        initial="kg",
        error_messages={"required": "Choose kg or lb.", "invalid_choice": "Choose kg or lb."},
    )
    pain_before = _pain("Pain now (0-10)")

    def __init__(
        self,
        *args: Any,
        start: dt.datetime,
        solid_hours: int,
        clear_hours: int,
        ask_pregnancy: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.start, self.solid_hours, self.clear_hours = start, solid_hours, clear_hours
        self.ask_pregnancy = ask_pregnancy
        if not ask_pregnancy:
            del self.fields["pregnancy_possible"]
        else:
            self.fields["pregnancy_possible"].required = True

    def _before_start(self, value: dt.time) -> dt.datetime:
        """The instant of `value`; a time after the start was the evening before."""
        moment = dt.datetime.combine(self.start.date(), value, tzinfo=self.start.tzinfo)
        if moment > self.start:
            moment -= dt.timedelta(days=1)
        return moment

    def _hours_before(self, value: dt.time) -> float:
        return (self.start - self._before_start(value)).total_seconds() / 3600

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        solid, clear = cleaned.get("last_solid_food"), cleaned.get("last_clear_liquid")
        if solid and self._hours_before(solid) < self.solid_hours:
            self.add_error(
                "last_solid_food",
                f"Not fasted: solid food must stop {self.solid_hours} hours before the "
                f"{self.start:%H:%M} start. Talk to the clinician about postponing.",
            )
        if clear and self._hours_before(clear) < self.clear_hours:
            self.add_error(
                "last_clear_liquid",
                f"Clear liquids must stop {self.clear_hours} hours before the start.",
            )
        if self.ask_pregnancy and cleaned.get("pregnancy_possible") is True:
            self.add_error(
                "pregnancy_possible",
                "Possible pregnancy: do not start; the clinician must decide.",
            )
        weight, unit = cleaned.get("weight"), cleaned.get("weight_unit")
        if weight is not None and unit:
            try:
                # Exact, not rounded to 0.1 kg: the dose is computed from it.
                kg = weight * scoring.KG_PER_POUND if unit == "lb" else weight
                cleaned["weight_kg"] = scoring.validate_weight_kg(kg)
            except (ValueError, InvalidOperation):
                self.add_error("weight", scoring.WEIGHT_RANGE_MESSAGE)
        return cleaned

    def fasting_times(self) -> tuple[dt.datetime, dt.datetime]:
        data = self.cleaned_data
        return (
            self._before_start(data["last_solid_food"]),
            self._before_start(data["last_clear_liquid"]),
        )


class InfusionVitalsForm(VitalsFields):
    time = _time("Time taken")
    phase = forms.ChoiceField(
        choices=[("infusion", "During the infusion"), ("recovery", "Recovery")],
        widget=forms.RadioSelect,
        required=False,
        help_text="Defaults to where the patient is now.",
        error_messages={"invalid_choice": "Choose during the infusion or recovery."},
    )


class StartForm(forms.Form):
    time = _time("Time the infusion started")


class ObservationsForm(forms.Form):
    time = _time("Time seen or given")
    side_effects = forms.MultipleChoiceField(
        label="Side effects seen",
        choices=SIDE_EFFECTS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Choose side effects from the list."},
    )
    intervention = forms.CharField(
        label="Intervention given (medicine, dose, route; or what was done)",
        max_length=300,
        required=False,
        error_messages={"max_length": "Keep the intervention to 300 characters."},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        nothing = (
            not cleaned.get("side_effects") and not (cleaned.get("intervention") or "").strip()
        )
        if nothing and not self.errors:
            raise forms.ValidationError("Tick a side effect or describe the intervention.")
        return cleaned


class StopForm(forms.Form):
    time = _time("Time the infusion ended")
    stopped_early_reason = forms.CharField(
        label="Reason for stopping early (leave empty when the infusion ran as planned)",
        max_length=300,
        required=False,
        error_messages={"max_length": "Keep the reason to 300 characters."},
    )


class DischargeForm(forms.Form):
    time = _time("Time of discharge")
    alert_and_oriented = forms.BooleanField(
        label="Alert and oriented as before the infusion", required=False
    )
    escort_present = forms.BooleanField(label="Escort present", required=False)
    instructions_given = forms.BooleanField(label="After-care instructions given", required=False)
    pain_after = _pain("Pain now (0-10)")
    short_recovery_reason = forms.CharField(
        label="Reason for leaving before the minimum recovery (only then)",
        max_length=300,
        required=False,
        error_messages={"max_length": "Keep the reason to 300 characters."},
    )

    def checklist(self) -> rules.Discharge:
        data = self.cleaned_data
        return rules.Discharge(
            data["alert_and_oriented"], data["escort_present"], data["instructions_given"]
        )


class ColleagueField(forms.ModelChoiceField):  # type: ignore[type-arg]  # django-stubs' generic
    """A member of staff shown by name."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.email)


class SignForm(forms.Form):
    """What a sign-off may need besides the signature (charting.services.sign says when)."""

    timing_reason = forms.CharField(
        label="Why was the check-in so far from the booked time?",
        max_length=300,
        required=False,
        error_messages={"max_length": "Keep the reason to 300 characters."},
    )
    cosigner = ColleagueField(
        label="Co-signer (to sign with something missing)",
        queryset=User.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose a colleague from the list."},
    )
    cosigner_reason = forms.CharField(
        label="The co-signer's reason for signing as it is",
        max_length=300,
        required=False,
        error_messages={"max_length": "Keep the reason to 300 characters."},
    )

    def __init__(self, *args: Any, location: Any, signer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cosigner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            User.objects.filter(
                locations=location, role__in=[Role.NURSE, Role.CLINICIAN], is_active=True
            )
            .exclude(pk=signer.pk)
            .order_by("first_name", "last_name")
        )


class AddendumForm(forms.Form):
    reason = forms.CharField(
        label="Why (e.g. correction, late entry)",
        max_length=200,
        error_messages={
            "required": "Say why you are adding to the signed chart.",
            "max_length": "Keep the reason to 200 characters.",
        },
    )
    text = forms.CharField(
        label="Addendum",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        error_messages={
            "required": "Write the correction or the late entry.",
            "max_length": "Keep an addendum to 4,000 characters.",
        },
    )


class WorkUpForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=40)
    note = forms.CharField(
        label="What was done (result, date)",
        max_length=300,
        error_messages={
            "required": "Say what was done, e.g. the result and its date.",
            "max_length": "Keep the note to 300 characters.",
        },
    )


def weight_in_both(weight_kg: Decimal, unit: str = "kg") -> str:
    """The weight in both units, the one it was weighed in first: 176 lb comes back as
    176.0 lb (converted from the exact kilograms), not 175.9 from a rounded 79.8 kg."""
    kg = weight_kg.quantize(Decimal("0.1"), ROUND_HALF_UP)
    pounds = scoring.kg_to_pounds(weight_kg)
    if unit == "lb":
        return f"{pounds} lb ({kg} kg)"
    return f"{kg} kg ({pounds} lb)"
