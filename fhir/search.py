"""FHIR search parameters, read through a form (clinic.querystrings): patient, date prefixes,
category, paging.

Unlike the app's pages, which show their default for a bad value, the API answers a value it
cannot read with 400 and an OperationOutcome: a client that asked for one patient's observations
of one month must never receive everyone's of all time. The same goes for a parameter the API
does not support, or one given empty: it is refused by name (FHIR's strict handling), unless the
client asks for lenient handling (`Prefer: handling=lenient`), and then the Bundle carries an
OperationOutcome (search mode "outcome") saying what was left out. `PARAMETERS` is what each type
supports; the CapabilityStatement lists it, and nothing else is read.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, QueryDict

from fhir import codes

DEFAULT_PAGE_SIZE = 50
MAX_OFFSET = 100_000

_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6})\d*)?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
SUPPORTED_PREFIXES = ("eq", "gt", "lt", "ge", "le")

# Name, FHIR type, documentation: the search parameters each type supports, as the
# CapabilityStatement lists them.
Parameter = tuple[str, str, str]
PARAMETERS: dict[str, list[Parameter]] = {
    "Patient": [("_id", "token", "The patient's id")],
    "Observation": [
        ("patient", "reference", "The patient the observation is about"),
        ("date", "date", "Observation.effective (eq, ge, gt, le, lt)"),
        ("category", "token", "vital-signs or survey (observation-category)"),
    ],
    "QuestionnaireResponse": [
        ("patient", "reference", "The patient who answered"),
        ("authored", "date", "When the answers were submitted (eq, ge, gt, le, lt)"),
    ],
    "Appointment": [
        ("patient", "reference", "The patient of the appointment"),
        ("date", "date", "Appointment.start (eq, ge, gt, le, lt)"),
    ],
    "Location": [],
    "Questionnaire": [("url", "uri", "The canonical URL")],
}
FORMAT_PARAMETER: Parameter = ("_format", "string", "json only (the default)")
RESULT_PARAMETERS: list[Parameter] = [
    ("_count", "number", "Resources per page (default 50)"),
    ("_offset", "number", "Resources to skip (paging; the Bundle's next link carries it)"),
    FORMAT_PARAMETER,
]
# Patient/<id>/$everything returns the whole record on one page: it reads no parameter.
EVERYTHING_PARAMETERS = [FORMAT_PARAMETER]
# Each value of these must hold (FHIR's AND); any other parameter is given once.
REPEATABLE = frozenset({"date", "authored", "category"})
JSON_FORMATS = ("json", "application/json", "application/fhir+json")


def accepted(resource_type: str) -> frozenset[str]:
    return frozenset(name for name, _, _ in [*PARAMETERS[resource_type], *RESULT_PARAMETERS])


# An issue of an OperationOutcome: its code (FHIR's issue-type) and what to tell the client.
Issue = tuple[str, str]


def screen(query: QueryDict, names: Collection[str]) -> tuple[QueryDict, list[Issue]]:
    """The query with only the parameters in `names` and their values that are not empty, and
    an issue for each parameter left out or emptied.

    A filter the API would drop answers with more than was asked for (`Observation?subject=...`
    with every patient's), so the caller refuses these issues unless the client asked for
    lenient handling.
    """
    kept = QueryDict(mutable=True)
    issues: list[Issue] = []
    for name, values in query.lists():
        shown = repr(name[:60])
        if name not in names:
            issues.append(
                (
                    "not-supported",
                    f"The parameter {shown} is not supported here: the CapabilityStatement "
                    "(/metadata) lists the parameters of each type.",
                )
            )
            continue
        filled = [value for value in values if value.strip()]
        if len(filled) < len(values):
            issues.append(
                ("invalid", f"The parameter {shown} is empty: give it a value or leave it out.")
            )
        if filled:
            kept.setlist(name, filled)
    return kept, issues


def lenient(request: HttpRequest) -> bool:
    """FHIR's `Prefer: handling=lenient`; strict handling is the default."""
    for preference in request.headers.get("Prefer", "").split(","):
        name, _, value = preference.partition("=")
        if name.strip().lower() == "handling":
            return value.strip().strip('"').lower() == "lenient"
    return False


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


def parse_categories(value: str) -> frozenset[str]:
    """`category=` values: codes, each with or without the observation-category system, comma
    separated (any of them). A code of another system matches nothing."""
    found = set()
    for token in value.split(","):
        system, bar, code = token.strip().rpartition("|")
        if not bar or system == codes.OBSERVATION_CATEGORY:
            found.add(code)
    return frozenset(found)


class CategorySearchField(forms.Field):
    """Repeatable: an observation matches when it is of one of the codes of each value."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(text)[:500] for text in values if str(text)]


class SearchForm(forms.Form):
    patient = PatientField(required=False)
    date = DateSearchField(required=False)
    authored = DateSearchField(required=False)
    category = CategorySearchField(required=False)
    url = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # FHIR's names start with an underscore, which a class attribute would hide from readers.
        self.fields["_id"] = forms.UUIDField(required=False)
        self.fields["_count"] = forms.IntegerField(required=False, min_value=0)
        self.fields["_offset"] = forms.IntegerField(
            required=False, min_value=0, max_value=MAX_OFFSET
        )
        self.fields["_format"] = forms.ChoiceField(
            required=False,
            choices=[(value, value) for value in JSON_FORMATS],
            error_messages={"invalid_choice": "This API answers in JSON only (_format=json)."},
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if isinstance(self.data, QueryDict):
            for name in self.fields:
                if name not in REPEATABLE and len(self.data.getlist(name)) > 1:
                    # Two patients would be both at once (FHIR's AND), never what was meant.
                    self.add_error(name, "Give this parameter once.")
        return cleaned


@dataclass(frozen=True)
class Search:
    """The parameters one search reads, and how to write them again in the Bundle's links."""

    patient: uuid.UUID | None = None
    dates: tuple[DateBound, ...] = ()
    ids: uuid.UUID | None = None
    url: str = ""
    # The observation categories wanted (None: any), and the values as the client wrote them.
    categories: frozenset[str] | None = None
    category_texts: tuple[str, ...] = ()
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
        found += [("category", text) for text in self.category_texts]
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
    texts = tuple(data["category"])
    categories = None
    for text in texts:  # each value must hold
        wanted = parse_categories(text)
        categories = wanted if categories is None else categories & wanted
    return Search(
        patient=data["patient"],
        dates=tuple(data[date_name]) if date_name else (),
        ids=data["_id"],
        url=data["url"],
        categories=categories,
        category_texts=texts,
        # A larger page than the server gives is not an error: FHIR lets it return fewer.
        count=min(DEFAULT_PAGE_SIZE if count is None else count, settings.FHIR_MAX_PAGE_SIZE),
        offset=data["_offset"] or 0,
    )
