"""FHIR search parameters, read through a form (clinic.querystrings): patient, date prefixes,
paging.

Unlike the app's pages, which show their default for a bad value, the API answers a value it
cannot read with 400 and an OperationOutcome: a client that asked for one patient's observations
of one month must never receive everyone's of all time. Parameters the API does not support are
ignored, as FHIR's lenient handling asks, and left out of the Bundle's self link.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q

DEFAULT_PAGE_SIZE = 50
MAX_OFFSET = 100_000

_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6})\d*)?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
SUPPORTED_PREFIXES = ("eq", "gt", "lt", "ge", "le")


@dataclass(frozen=True)
class DateBound:
    """One `date=` value: a prefix and the range of time its precision covers, [start, end)."""

    prefix: str
    text: str
    start: dt.datetime
    end: dt.datetime

    def condition(self, field: str) -> Q:
        """The FHIR rule for a point in time against a range (FHIR R4 search, "date")."""
        if self.prefix == "eq":
            return Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})
        if self.prefix == "ge":
            return Q(**{f"{field}__gte": self.start})
        if self.prefix == "gt":
            return Q(**{f"{field}__gte": self.end})
        if self.prefix == "le":
            return Q(**{f"{field}__lt": self.end})
        return Q(**{f"{field}__lt": self.start})  # lt


def parse_date(value: str) -> DateBound:
    match = _DATE.match(value)
    if match is None:
        raise ValidationError(f"{value!r} is not a FHIR date, such as ge2025-01-31.")
    parts = match.groupdict()
    prefix = parts["prefix"] or "eq"
    if prefix not in SUPPORTED_PREFIXES:
        raise ValidationError(f"The date prefix {prefix!r} is not supported (eq, gt, lt, ge, le).")
    zone: dt.tzinfo = dt.UTC
    try:
        if parts["zone"] and parts["zone"] != "Z":
            sign = 1 if parts["zone"][0] == "+" else -1
            hours, minutes = int(parts["zone"][1:3]), int(parts["zone"][4:6])
            # An offset of a day or more is no zone (timezone() refuses it with ValueError).
            zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        year = int(parts["year"])
        month, day = int(parts["month"] or 1), int(parts["day"] or 1)
        hour, minute = int(parts["hour"] or 0), int(parts["minute"] or 0)
        second = int(parts["second"] or 0)
        micro = int((parts["fraction"] or "0").ljust(6, "0"))
        start = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
        # A value without a zone is read in UTC, the zone the API writes every time in.
        if parts["fraction"] is not None:
            end = start + dt.timedelta(microseconds=1)
        elif parts["second"] is not None:
            end = start + dt.timedelta(seconds=1)
        elif parts["minute"] is not None:
            end = start + dt.timedelta(minutes=1)
        elif parts["day"] is not None:
            end = start + dt.timedelta(days=1)
        elif parts["month"] is not None:
            end = start.replace(year=year + month // 12, month=month % 12 + 1)
        else:
            end = start.replace(year=year + 1)
    except (ValueError, OverflowError):
        raise ValidationError(f"{value!r} is not a date the API can search.") from None
    return DateBound(prefix, value, start, end)


class DateSearchField(forms.Field):
    """Repeatable (`date=ge2025-01-01&date=lt2025-02-01`): every value must hold."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[DateBound]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [parse_date(str(text)) for text in values if str(text)]


class PatientField(forms.CharField):
    """`patient=<id>` or `patient=Patient/<id>`."""

    def to_python(self, value: Any) -> uuid.UUID | None:  # type: ignore[override]  # typed value
        text = str(super().to_python(value) or "")
        if not text:
            return None
        text = text.removeprefix("Patient/")
        try:
            return uuid.UUID(text)
        except ValueError:
            raise ValidationError(f"{text[:80]!r} is not a patient id.") from None


class SearchForm(forms.Form):
    patient = PatientField(required=False)
    date = DateSearchField(required=False)
    authored = DateSearchField(required=False)
    url = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # FHIR's names start with an underscore, which a class attribute would hide from readers.
        self.fields["_id"] = forms.UUIDField(required=False)
        self.fields["_count"] = forms.IntegerField(required=False, min_value=0)
        self.fields["_offset"] = forms.IntegerField(
            required=False, min_value=0, max_value=MAX_OFFSET
        )


@dataclass(frozen=True)
class Search:
    """The parameters one search reads, and how to write them again in the Bundle's links."""

    patient: uuid.UUID | None = None
    dates: tuple[DateBound, ...] = ()
    ids: uuid.UUID | None = None
    url: str = ""
    count: int = DEFAULT_PAGE_SIZE
    offset: int = 0

    def params(self, date_name: str) -> list[tuple[str, str]]:
        """The query of this search, its paging left out."""
        found: list[tuple[str, str]] = []
        if self.ids:
            found.append(("_id", str(self.ids)))
        if self.patient:
            found.append(("patient", str(self.patient)))
        found += [(date_name, bound.text) for bound in self.dates]
        if self.url:
            found.append(("url", self.url))
        return found

    def condition(self, field: str) -> Q:
        condition = Q()
        for bound in self.dates:
            condition &= bound.condition(field)
        return condition


def errors(form: forms.Form) -> str:
    return "; ".join(
        f"{name}: {' '.join(str(message) for message in messages)}"
        for name, messages in form.errors.items()
    )


def read(form: SearchForm, date_name: str | None) -> Search:
    """The cleaned search; `date_name` is the date parameter of the type (date, authored)."""
    data = form.cleaned_data
    count = data["_count"]
    return Search(
        patient=data["patient"],
        dates=tuple(data[date_name]) if date_name else (),
        ids=data["_id"],
        url=data["url"],
        # A larger page than the server gives is not an error: FHIR lets it return fewer.
        count=min(DEFAULT_PAGE_SIZE if count is None else count, settings.FHIR_MAX_PAGE_SIZE),
        offset=data["_offset"] or 0,
    )
