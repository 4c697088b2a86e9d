"""Choice fields share their fixed choices between forms; what one form changes stays its own."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from intake.forms import AboutYouForm, PainForm
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _choice_list(form: forms.Form, name: str) -> list[Any]:
    choices = _choices(form, name).choices
    return list(choices)  # type: ignore[arg-type]  # Django keeps choices as a list once set


def _field_choices(field: forms.Field) -> object:
    assert isinstance(field, forms.ChoiceField)
    return field.choices


def test_forms_share_fixed_choices_but_not_what_one_form_changes():
    LocationFactory.create(slug="stamford", name="Stamford")
    first, second = PainForm(), PainForm()
    assert _choices(first, "pain_now").choices is _choices(second, "pain_now").choices
    assert first.fields["pain_now"] is not second.fields["pain_now"]

    _choices(first, "pain_now").choices = [("0", "Only")]
    first.fields["pain_now"].widget.attrs["class"] = "changed"
    first.fields["pain_now"].error_messages["required"] = "changed"

    third = PainForm()
    assert [value for value, _label in _choice_list(third, "pain_now")] == [
        str(n) for n in range(11)
    ]
    assert [value for value, _label in third.fields["pain_now"].widget.choices][-1] == "10"
    assert "class" not in third.fields["pain_now"].widget.attrs
    assert third.fields["pain_now"].error_messages["required"] != "changed"

    # Choices a form sets for itself (the active locations) stay on that form.
    about = AboutYouForm()
    assert ("stamford", "Stamford") in _choice_list(about, "preferred_location")
    assert _field_choices(AboutYouForm.base_fields["preferred_location"]) == []


def test_a_scale_still_validates_against_its_own_choices():
    assert PainForm({"pain_now": "11"}).errors["pain_now"]
    form = PainForm(
        {
            "pain_now": "3",
            "pain_average": "4",
            "pain_worst": "8",
            "peg_enjoyment": "2",
            "peg_activity": "5",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["pain_now"] == 3
