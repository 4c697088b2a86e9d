from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from charting import rules
from charting.models import SIDE_EFFECTS
from intake.forms import PhoneField

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class VitalsFields(forms.Form):
    systolic = forms.IntegerField(label="Systolic (mmHg)", min_value=40, max_value=300)
    diastolic = forms.IntegerField(label="Diastolic (mmHg)", min_value=20, max_value=200)
    pulse = forms.IntegerField(label="Pulse (/min)", min_value=20, max_value=250)
    spo2 = forms.IntegerField(label="SpO2 (%)", min_value=50, max_value=100)
    resp_rate = forms.IntegerField(label="Respiratory rate (/min)", min_value=4, max_value=60)

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

    last_solid_food = forms.TimeField(
        label="Last solid food (time)",
        widget=TIME,
        help_text="A time later than the start means the evening before.",
    )
    last_clear_liquid = forms.TimeField(label="Last clear liquid (time)", widget=TIME)
    escort_name = forms.CharField(label="Escort's name", max_length=100)
    escort_phone = PhoneField(label="Escort's phone")
    escort_present = forms.BooleanField(label="The escort is here, or confirmed to collect")
    pregnancy_possible = forms.TypedChoiceField(
        label="Could the patient be pregnant?",
        choices=[("no", "No"), ("yes", "Yes")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        required=False,
    )
    weight_kg = forms.DecimalField(
        label="Today's weight (kg)", min_value=Decimal(30), max_value=Decimal(300), decimal_places=1
    )
    pain_before = forms.TypedChoiceField(
        label="Pain now (0-10)",
        choices=[(str(n), str(n)) for n in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
    )

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

    def _hours_before(self, value: dt.time) -> float:
        """Hours from `value` to the start; a time after the start was the evening before."""
        moment = dt.datetime.combine(self.start.date(), value, tzinfo=self.start.tzinfo)
        if moment > self.start:
            moment -= dt.timedelta(days=1)
        return (self.start - moment).total_seconds() / 3600

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
        return cleaned


class InfusionVitalsForm(VitalsFields):
    phase = forms.ChoiceField(
        choices=[("infusion", "During the infusion"), ("recovery", "Recovery")],
        widget=forms.RadioSelect,
        initial="infusion",
    )


class SideEffectsForm(forms.Form):
    side_effects = forms.MultipleChoiceField(
        label="Side effects seen",
        choices=SIDE_EFFECTS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    interventions = forms.CharField(
        label="Interventions", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class StopForm(forms.Form):
    stopped_early_reason = forms.CharField(
        label="Reason for stopping early (leave empty when the infusion ran as planned)",
        max_length=300,
        required=False,
    )


class DischargeForm(forms.Form):
    alert_and_oriented = forms.BooleanField(
        label="Alert and oriented as before the infusion", required=False
    )
    escort_present = forms.BooleanField(label="Escort present", required=False)
    instructions_given = forms.BooleanField(label="After-care instructions given", required=False)
    pain_after = forms.TypedChoiceField(
        label="Pain now (0-10)",
        choices=[(str(n), str(n)) for n in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
    )

    def checklist(self) -> rules.Discharge:
        data = self.cleaned_data
        return rules.Discharge(
            data["alert_and_oriented"], data["escort_present"], data["instructions_given"]
        )
