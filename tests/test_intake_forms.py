"""Choice fields share their fixed choices between forms; what one form changes stays its own."""

from __future__ import annotations

import pytest

from intake.forms import AboutYouForm, PainForm
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


def test_forms_share_fixed_choices_but_not_what_one_form_changes():
    LocationFactory(slug="stamford", name="Stamford")
    first, second = PainForm(), PainForm()
    assert first.fields["pain_now"].choices is second.fields["pain_now"].choices
    assert first.fields["pain_now"] is not second.fields["pain_now"]

    first.fields["pain_now"].choices = [("0", "Only")]
    first.fields["pain_now"].widget.attrs["class"] = "changed"
    first.fields["pain_now"].error_messages["required"] = "changed"

    third = PainForm()
    assert [value for value, _label in third.fields["pain_now"].choices] == [
        str(n) for n in range(11)
    ]
    assert [value for value, _label in third.fields["pain_now"].widget.choices][-1] == "10"
    assert "class" not in third.fields["pain_now"].widget.attrs
    assert third.fields["pain_now"].error_messages["required"] != "changed"

    # Choices a form sets for itself (the active locations) stay on that form.
    about = AboutYouForm()
    assert ("stamford", "Stamford") in about.fields["preferred_location"].choices
    assert AboutYouForm.base_fields["preferred_location"].choices == []


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
