"""Phone numbers read and written by Google's libphonenumber (the `phonenumbers` package).

A number is stored in E.164 ("+19495550123"); one typed without a country code is a US number (the
clinics are in the US). A number no phone can dial (too short, an area code that does not exist)
is refused where it is typed, in the reader's language.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

REGION = "US"


def as_e164(value: str) -> str:
    """The number in E.164, or ValidationError when it cannot be dialled (an extension included:
    E.164 has no room for it)."""
    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            _("Enter a phone number using digits, for example 203 555 0142."), code="unreadable"
        ) from error
    if number.extension or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "This phone number cannot be dialled: check the area code and the number of "
                "digits, for example (203) 555-0142."
            ),
            code="impossible",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def shown(value: str) -> str:
    """A stored number as people write it: (203) 555-0142 for a US number, +44 20 7946 0958 for
    another country's; as stored when it is not a number that can be dialled."""
    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    home = phonenumbers.region_code_for_number(number) == REGION
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


class PhoneField(forms.CharField):
    """A phone number as typed ("(949) 555-0123", "+44 20 7946 0958"), cleaned to E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return as_e164(value) if value else value
