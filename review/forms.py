from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms

from clinic.querystrings import PageField
from clinic.wording import in_peoples_words
from intake.models import Intake
from intake.steps import STEPS
from review.models import ProtocolTemplate, TreatmentPlan
from review.services import PLAN_FIELDS

STATUS_FILTERS = [
    ("submitted", "Waiting for review"),
    ("more_info", "More information requested"),
    ("approved", "Approved"),
    ("declined", "Declined"),
    ("all", "All"),
]


class QueueFilterForm(forms.Form):
    """The queue's filters; `locations` are the active locations' (id, name), read once by the
    view for both the check and the page's select."""

    location = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    status = forms.ChoiceField(
        choices=STATUS_FILTERS,
        required=False,
        initial="submitted",
    )
    page = PageField()

    def __init__(
        self, *args: Any, locations: Sequence[tuple[int, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        location = self.fields["location"]
        assert isinstance(location, forms.TypedChoiceField)
        location.choices = [("", "All locations"), *locations]


def queue_statuses(status: str) -> list[str]:
    """The intake statuses a status filter shows: "all" is every status but a draft's."""
    if status == "all":
        return [choice for choice in Intake.Status.values if choice != "draft"]
    return [status]


class _InPeoplesWords(forms.BaseForm):
    """Every message in words a clinician reads, not Django's defaults (clinic.wording), set
    just before validation, as the intake's step forms do: a form only shown never needs them
    (on the summary, setting them for its four forms cost a fifth of a millisecond)."""

    def full_clean(self) -> None:
        in_peoples_words(self)
        super().full_clean()


class PlanForm(_InPeoplesWords, forms.ModelForm[TreatmentPlan]):
    """The treatment plan, prefilled from a protocol template; the clinician may adjust it."""

    template = forms.ModelChoiceField(
        queryset=ProtocolTemplate.objects.filter(is_active=True),
        required=False,
        label="Start from protocol",
    )
    patient_message = forms.CharField(
        label="Message to the patient (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    internal_note = forms.CharField(
        label="Note for the team (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = TreatmentPlan
        fields = PLAN_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    # Groups as a clinician reads a plan, the protocol first since it fills what follows: each a
    # legend, its fields and the width of each (Bootstrap's grid classes).
    layout: tuple[tuple[str, tuple[str, ...], str], ...] = (
        ("Protocol and indication", ("template", "indication"), "col-md-6"),
        (
            "Course",
            ("infusions", "min_days_between", "max_days_between", "span_days"),
            "col-6 col-lg-3",
        ),
        ("Dose", ("dose_mg_per_kg", "dose_cap_mg"), "col-md-6"),
        (
            "Time in the chair",
            ("chair_minutes_before", "infusion_minutes", "chair_minutes_after"),
            "col-md-4",
        ),
        ("Notes and messages", ("notes", "patient_message", "internal_note"), "col-12"),
    )

    def __init__(
        self, *args: Any, templates: Sequence[ProtocolTemplate] | None = None, **kwargs: Any
    ) -> None:
        """`templates`, the active templates already loaded (review.services.active_templates),
        are offered as they are instead of being read again; a submitted choice is still checked
        against the database."""
        super().__init__(*args, **kwargs)
        # crispy-forms draws the groups; the view's template writes the <form> tag.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            *(
                Fieldset(
                    legend,
                    Row(*(Column(name, css_class=width) for name in names), css_class="g-2"),
                    css_class="plan-group mb-2",
                )
                for legend, names, width in self.layout
            )
        )
        if templates is not None:
            field = self.fields["template"]
            assert isinstance(field, forms.ModelChoiceField)
            field.choices = [
                ("", field.empty_label),
                *((template.pk, field.label_from_instance(template)) for template in templates),
            ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_days_between"), cleaned.get("max_days_between")
        if low is not None and high is not None and high < low:
            self.add_error("max_days_between", "The maximum must be at least the minimum.")
        infusions, span = cleaned.get("infusions"), cleaned.get("span_days")
        if infusions and span is not None and low and (infusions - 1) * low > span:
            self.add_error(
                "span_days",
                f"{infusions} infusions at least {low} days apart need at least "
                f"{(infusions - 1) * low} days.",
            )
        return cleaned


class DeclineForm(_InPeoplesWords, forms.Form):
    patient_message = forms.CharField(
        label="Reason the patient will see",
        help_text="Neutral, plain words: for example, that this treatment is not the right fit "
        "now, and who to talk to instead.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    internal_note = forms.CharField(
        label="Clinical note (staff only)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MoreInfoForm(_InPeoplesWords, forms.Form):
    steps = forms.MultipleChoiceField(
        label="Sections to reopen",
        choices=[(step.slug, step.title) for step in STEPS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one section for the patient to revisit."},
    )
    patient_message = forms.CharField(
        label="What the patient should add or check",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    internal_note = forms.CharField(
        label="Clinical note (staff only)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AcknowledgeForm(_InPeoplesWords, forms.Form):
    note = forms.CharField(
        label="What was done",
        help_text="For example: called the patient, safety plan agreed, follow-up arranged.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
