"""Messages in people's words for every form field, in place of Django's defaults.

Django's defaults ("This field is required.", "Ensure this value is less than or equal to 260.",
"Select a valid choice. x is not one of the available choices.") are written for developers.
`in_peoples_words(form)` replaces each default message of each field of a form (and of the
validators Django adds for max_length, min_value...) by one a patient or a clinician understands;
a message a form sets itself is kept. tests/default_messages.py finds any default text that still
reaches a page of the intake and review journeys.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

_CHOOSING_WIDGETS = (forms.RadioSelect, forms.CheckboxSelectMultiple, forms.Select)

# Codes whose message depends only on the kind of value asked for.
_BY_CODE = {
    "invalid_choice": _("Choose one of the answers shown."),
    "invalid_pk_value": _("Choose one of the answers shown."),
    "invalid_list": _("Choose from the answers shown."),
    "max_length": (
        _("Please shorten this to %(limit_value)d characters or fewer (it has %(show_value)d).")
    ),
    "min_length": _("Please write at least %(limit_value)d characters (it has %(show_value)d)."),
    "max_value": _("Enter a number no higher than %(limit_value)s."),
    "min_value": _("Enter a number of at least %(limit_value)s."),
    "step_size": _("Enter a number in steps of %(limit_value)s."),
    "max_digits": _("Use at most %(max)s digits."),
    "max_decimal_places": _("Use at most %(max)s digits after the decimal point."),
    "max_whole_digits": _("Use at most %(max)s digits before the decimal point."),
    "empty": _("The file you chose is empty; please choose another."),
    "missing": _("No file arrived; please choose it again."),
    "contradiction": _("Either choose a new file or tick “Clear”, not both."),
    "invalid_image": _("This file is not an image we can open; please choose a JPEG or PNG."),
    "overflow": _("Enter a date between the years 1 and 9999."),
}

_INVALID_BY_FIELD: list[tuple[type[forms.Field], StrOrPromise]] = [
    (forms.IntegerField, _("Type a whole number using digits, for example 72.")),
    (forms.DecimalField, _("Type a number using digits, for example 72.5.")),
    (forms.FloatField, _("Type a number using digits, for example 72.5.")),
    (forms.DateField, _("Enter the date as year-month-day, for example 1980-03-31.")),
    (forms.TimeField, _("Enter the time as hours and minutes, for example 14:30.")),
    (forms.DateTimeField, _("Enter a date and time, for example 2026-03-31 14:30.")),
    (forms.EmailField, _("Enter an email address like name@example.com.")),
    (forms.FileField, _("No file arrived; please choose it again.")),
]


def _defaults(field: forms.Field) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for klass in reversed(type(field).__mro__):
        messages.update(getattr(klass, "default_error_messages", {}))
    return messages


def field_in_peoples_words(field: forms.Field) -> None:
    """Replace the field's default messages (on this field object only)."""
    defaults = _defaults(field)
    messages = field.error_messages

    def default(code: str) -> bool:
        return code not in messages or str(messages[code]) == str(defaults.get(code, ""))

    if default("required"):
        messages["required"] = (
            _("Please choose an answer.")
            if isinstance(field.widget, _CHOOSING_WIDGETS)
            else _("Please tick this box to go on.")
            if isinstance(field, forms.BooleanField)
            else _("Please fill this in.")
        )
    if default("invalid"):
        messages["invalid"] = next(
            (text for kind, text in _INVALID_BY_FIELD if isinstance(field, kind)),
            _("Please check this answer."),
        )
    for code, text in _BY_CODE.items():
        if default(code):
            messages[code] = text


def in_peoples_words(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        field_in_peoples_words(field)


# A formset's own messages (too many or too few rows, a tampered management form).
FORMSET_MESSAGES: dict[str, Any] = {
    "missing_management_form": _(
        "Part of this page did not arrive; please reload it and try again."
    ),
    "too_many_forms": _("You can list up to %(num)d here; please leave out the least important."),
    "too_few_forms": _("Please fill in at least %(num)d."),
}
