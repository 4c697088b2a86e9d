from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from charting.models import SIDE_EFFECTS
from clinic.querystrings import DayField
from intake import instrument_texts, scoring
from intake.services import answer_language


def _scale(
    label: StrOrPromise, high: int, labels: Mapping[int, StrOrPromise] | None = None
) -> forms.TypedChoiceField:
    labels = labels or {}
    return forms.TypedChoiceField(
        label=label,
        choices=[(str(n), labels.get(n, str(n))) for n in range(high + 1)],
        coerce=int,
        widget=forms.RadioSelect,
    )


class CheckInForm(forms.Form):
    pain = _scale(_("Your pain right now (0 no pain, 10 worst imaginable)"), 10)
    side_effects = forms.MultipleChoiceField(
        label=_("Since your appointment, have you had any of these?"),
        choices=SIDE_EFFECTS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_side_effects = forms.CharField(label=_("Anything else?"), max_length=300, required=False)


class QuestionnaireForm(forms.Form):
    """PHQ-9 and PEG, as at intake, to follow the change over the series; the PHQ-9 in the
    patient's language, in the authors' wording (`intake.instrument_texts`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language = answer_language()
        self.texts = instrument_texts.mood_texts(self.language)
        answers = dict(enumerate(self.texts.answers))
        for number, text in enumerate(self.texts.phq9_items, start=1):
            self.fields[f"phq9_{number}"] = _scale(text, 3, answers)
        for number, text in enumerate(scoring.PEG_ITEMS, start=1):
            self.fields[f"peg_{number}"] = _scale(_(text), 10)


class WeekQuery(forms.Form):
    """?week=YYYY-MM-DD: any day of the week shown; none, or one that is no date, is this week."""

    week = DayField(required=False)
