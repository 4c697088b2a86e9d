"""The clinician's forms at a visit: the note, an addendum, a plan revision
(docs/visits.md#the-visit-note, docs/visits.md#plan-revisions)."""

from __future__ import annotations

from typing import Any

from django import forms

from charting.models import VisitNote
from review.models import TreatmentPlan
from review.services import REVISABLE_FIELDS, revision_problems


class NoteForm(forms.Form):
    findings = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    decision = forms.ChoiceField(choices=VisitNote.Decision.choices)
    plan_text = forms.CharField(
        label="Plan", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AddendumForm(forms.Form):
    reason = forms.CharField(max_length=200)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class RevisionForm(forms.ModelForm[TreatmentPlan]):
    """A new version of the plan: dose, frequency, further infusions, boosters, and why."""

    reason = forms.CharField(
        label="Why the plan changes", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = TreatmentPlan
        fields = REVISABLE_FIELDS
        labels = {
            "infusions": "Further infusions (the next series)",
            "booster_every_weeks": "Boosters every (weeks, 4 to 12)",
            "booster_count": "Number of boosters",
            "booster_until": "Or boosters until",
        }
        widgets = {"booster_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if all(field in cleaned for field in REVISABLE_FIELDS if field != "dose_cap_mg"):
            for problem in revision_problems(cleaned):
                self.add_error(None, problem)
        return cleaned

    def _post_clean(self) -> None:
        """Leave the instance (the version in force) untouched: the service writes a new row."""
