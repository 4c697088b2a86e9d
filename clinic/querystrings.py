"""Query strings, read through forms only.

A query string is whatever is in the address bar: a stale bookmark, a hand-edited link, a
scanner's guess. A view that reads one declares its form with `@query_form(SomeForm)` (outermost,
above the access decorator) and reads it with `read_query`, which returns the form's cleaned
values and, for each value that does not validate, the field's initial value: a bad value shows
the default page, never a server error. tests/test_query_fuzz.py reads the declarations to fuzz
every declared field of every URL.

Patient data never goes in a query string (searches are POSTed); these forms read filters,
dates and page numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest

View = TypeVar("View", bound=Callable[..., Any])

# Far enough inside date.min and date.max that the day or week either side of any shown day
# exists too (a week view links to the previous and next weeks).
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2099, 12, 31)


def day_in_range(day: dt.date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


class DayField(forms.DateField):
    """A calendar day (YYYY-MM-DD) between EARLIEST_DAY and LATEST_DAY."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not day_in_range(value):
            raise ValidationError(
                f"Choose a date in the years {EARLIEST_DAY.year} to {LATEST_DAY.year}.",
                code="out_of_range",
            )


class PageField(forms.IntegerField):
    """A page number of a list; the paginator shows the last page for one past the end."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 1_000_000)
        kwargs.setdefault("initial", 1)
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(**kwargs)


def query_form(form_class: type[forms.Form]) -> Callable[[View], View]:
    """Declare the form a view reads its query string with (tests fuzz its fields)."""

    def declare(view: View) -> View:
        view.query_form = form_class  # type: ignore[attr-defined]  # read by declared_form
        return view

    return declare


def declared_form(view: Callable[..., Any]) -> type[forms.Form] | None:
    return getattr(view, "query_form", None)


def read_query(request: HttpRequest, form_class: type[forms.Form], **kwargs: Any) -> dict[str, Any]:
    """The cleaned query values; each one that does not validate is the field's initial value."""
    form = form_class(request.GET, **kwargs)
    form.is_valid()
    return {
        name: form.cleaned_data[name]
        if name in form.cleaned_data
        else form.get_initial_for_field(field, name)
        for name, field in form.fields.items()
    }
