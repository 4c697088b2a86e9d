"""Django admin fields that name themselves to screen readers.

The admin's split date-and-time widget prints "Date:" and "Time:" as plain text, and the field's
label points at neither input, so a screen reader announces two unnamed boxes (axe: `label`).
Each part here carries an accessible name made from the field's own label.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db import models
from django.http import HttpRequest
from django.utils.text import capfirst

_M = TypeVar("_M", bound=models.Model)


def name_split_datetime(field: forms.Field | None, label: str) -> None:
    """Give the date and the time input of a split widget their accessible names."""
    if field is None or not isinstance(field.widget, AdminSplitDateTime):
        return
    date_input, time_input = field.widget.widgets
    date_input.attrs["aria-label"] = f"{capfirst(label)}: date"
    time_input.attrs["aria-label"] = f"{capfirst(label)}: time"


class NamedDateTimeAdmin(admin.ModelAdmin[_M], Generic[_M]):
    """A ModelAdmin whose editable date-times have named inputs (see the module docstring)."""

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(db_field, models.DateTimeField):
            name_split_datetime(field, str(db_field.verbose_name))
        return field
