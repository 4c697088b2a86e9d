"""An intake's answers as people read them: questions with their capitalised labels, choices in
words, dates like "3 March 1980", phone numbers as dialled, heights in cm and ft/in, weights in kg
and lb. The patient's review page and the clinician's summary ("All answers") both use it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.forms.utils import pretty_name
from django.utils import translation
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import phones
from intake import scoring

if TYPE_CHECKING:
    from intake.steps import Step

# What a stored card is, from the type found in its bytes.
# Translated where shown (`_(CARD_KINDS[...])`).
CARD_KINDS = {
    "image/png": gettext_noop("PNG image"),
    "image/jpeg": gettext_noop("JPEG image"),
    "application/pdf": "PDF",
}

# Fields shown as one line of their own, or not at all.
_NOT_LISTED = {
    "card",
    "signature",
    "recent_systolic",
    "recent_diastolic",
    "recent_bp_date",
}


def long_date(value: Any) -> str:
    """3 March 1980 (stored answers hold ISO dates)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    # Translators: a date format (Django's date filter): "3 March 1980".
    return format_date(value, _("j F Y")) if isinstance(value, dt.date) else str(value)


def phone(value: str) -> str:
    """A stored number as people write it: (203) 555-0142 for the US (`clinic.phones.shown`)."""
    return phones.shown(value or "")


def number(value: Any) -> str:
    """A stored decimal without trailing zeros: 165, 74.8."""
    try:
        figure = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = format(figure.normalize(), "f")
    return text


def height(cm: Any) -> str:
    feet, inches = scoring.cm_to_feet_inches(Decimal(str(cm)))
    return (
        f"{Decimal(str(cm)).quantize(Decimal(1))} cm ({feet} ft {inches.quantize(Decimal(1))} in)"
    )


def weight(kg: Any, typed: Any = None, unit: str = "kg") -> str:
    pounds = (
        number(typed) if unit == "lb" and typed else number(scoring.kg_to_pounds(Decimal(str(kg))))
    )
    return f"{number(kg)} kg ({pounds} lb)"


def blood_pressure(data: dict[str, Any]) -> str:
    systolic, diastolic = data.get("recent_systolic"), data.get("recent_diastolic")
    if systolic is None or diastolic is None:
        return _("Not given")
    taken = data.get("recent_bp_date")
    reading = f"{systolic}/{diastolic} mmHg"
    return (
        _("%(reading)s, taken %(date)s") % {"reading": reading, "date": long_date(taken)}
        if taken
        else reading
    )


def _label(name: str, field: forms.Field) -> str:
    label = str(field.label or pretty_name(name))
    return label[:1].upper() + label[1:]


def display(field: forms.Field, value: Any) -> str:
    """One answer in words."""
    if value in (None, "", []):
        return "—"
    choices = {str(k): v for k, v in getattr(field, "choices", []) or []}
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(choices.get(str(item), item)) for item in value) or "—"
    if choices:
        return str(choices.get(str(value), value))
    if isinstance(field, forms.DateField):
        return long_date(value)
    if getattr(field.widget, "input_type", "") == "tel":
        return phone(str(value))
    return str(value)


def describe(
    step: Step, data: dict[str, Any], form: forms.Form | None = None
) -> list[tuple[str, str]]:
    """The answers of a step as (question, answer) lines a person can read; `form`, the step's
    form already built for the same answers, saves building it again."""
    form = form or step.form_class(intake=None, initial=data)
    lines: list[tuple[str, str]] = []
    for name, field in form.fields.items():
        if name not in data or name in _NOT_LISTED:
            continue
        if not field.required and data[name] in (None, "", []):
            continue  # an optional question left blank, or a detail after a No
        lines.append((_label(name, field), display(field, data[name])))
    if step.slug == "safety":
        lines.insert(
            _after(lines, _("High blood pressure")),
            (_("Most recent blood pressure"), blood_pressure(data)),
        )
        lines.append((_("Medicines"), medicines(data.get("medications") or [])))
        lines.append((_("Allergies"), allergies(data.get("allergies") or [])))
    if step.slug == "measurements" and "weight_kg" in data:
        lines = [
            (
                _("Weight"),
                weight(data["weight_kg"], data.get("weight"), data.get("weight_unit", "")),
            ),
            (_("Height"), height(data["height_cm"])),
        ]
    if step.slug == "consents" and data.get("signature"):
        lines.append((_("Signed as"), str(data["signature"])))
    return lines


def in_words(steps: Sequence[Step], answers: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """Every answered step's answers as `describe` gives them, in the site's language, as stored
    at submit (`Intake.answer_lines`): [[step slug, [[question, answer], ...]], ...]. A
    submitted version's answers never change, so neither do these; the clinician's summary reads
    them instead of building every step's form again, and shows the questions as they were
    worded when the patient answered them."""
    with translation.override(settings.LANGUAGE_CODE):
        return [
            [step.slug, [[str(q), str(a)] for q, a in describe(step, answers[step.slug])]]
            for step in steps
            if step.slug in answers
        ]


def _after(lines: list[tuple[str, str]], prefix: str) -> int:
    for index, (question, _answer) in enumerate(lines):
        if question.startswith(prefix):
            position = index + 1
            while position < len(lines) and lines[position][1] not in {_("Yes"), _("No")}:
                position += 1
            return position
    return 0


def medicines(rows: list[dict[str, Any]]) -> str:
    return "; ".join(
        " ".join(filter(None, [m.get("name"), m.get("dose"), m.get("frequency")])) for m in rows
    ) or _("None")


def allergies(rows: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{a['substance']} ({a['reaction']})" if a.get("reaction") else str(a.get("substance"))
        for a in rows
    ) or _("None")
