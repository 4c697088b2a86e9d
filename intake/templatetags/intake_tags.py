from __future__ import annotations

from django import template
from django.forms import BoundField, CheckboxSelectMultiple, RadioSelect

from intake import answers

register = template.Library()


@register.filter
def is_choice_group(field: BoundField) -> bool:
    """Radio buttons and checkbox lists are rendered as a fieldset with a legend."""
    return isinstance(field.field.widget, RadioSelect | CheckboxSelectMultiple)


@register.filter
def is_multiple(field: BoundField) -> bool:
    return isinstance(field.field.widget, CheckboxSelectMultiple)


@register.filter
def selected_values(field: BoundField) -> set[str]:
    value = field.value()
    if value is None:
        return set()
    if isinstance(value, list | tuple):
        return {str(item) for item in value}
    if isinstance(value, bool):
        return {"yes" if value else "no"}
    return {str(value)}


@register.filter
def is_scale(field: BoundField) -> bool:
    """A 0-10 or 0-3 scale is shown as a row of buttons rather than a list."""
    choices = getattr(field.field, "choices", [])
    return len(choices) > 3 and all(str(value).isdigit() for value, _ in choices)


@register.filter
def phone(value: str) -> str:
    """A stored number as people write it: (203) 555-0142 for the US (`clinic.phones.shown`)."""
    return answers.phone(value)
