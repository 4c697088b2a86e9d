"""Every URL pattern of the project, as every role, with hostile query strings and path values:
never a server error.

The URL list is built by walking the resolver, so a new URL is swept as soon as it exists. Path
arguments are filled with the ids, slugs, uuids and tokens of a small world, or with random and
hostile values that still match the pattern's converter. Query strings carry each view's declared
fields (`clinic.querystrings.query_form`) plus common and random names, with hostile values:
huge and negative numbers, dates at the ends of the calendar, NUL bytes, unicode, long strings,
repeated parameters.

A role the view refuses before reading anything (a 403, the sign-in redirect, a 405) gets a few
examples; a role that reaches the view gets the full count. The admin site is left to the admin
test of the sign-in work, beyond its index.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django import forms
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.querystrings import declared_form
from intake.models import IntakeAttachment
from intake.steps import STEPS
from locations.models import Closure, NurseShift
from paperwork import estimates
from scheduling.links import ACTION_SALT, CHECKIN_SALT, QUESTIONNAIRE_SALT, signed
from scheduling.models import CalendarFeed
from tests.paperwork_data import set_up_billing

# Links these tests open are signed here to work until long after the test.
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db

ROLES = ["anon", "patient", "other", "front_desk", "nurse", "clinician", "clinic_admin"]
EXAMPLES_REACHED = 15
EXAMPLES_REFUSED = 3

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "-99999999999999999999",
    "99999999999999999999",
    "9" * 400,
    "1e309",
    "NaN",
    "0.5",
    "0001-01-01",
    "0001-01-02",
    "9999-12-31",
    "9999-12-27",
    "2027-02-30",
    "10000-01-01",
    "\x00",
    "a\x00b",
    "😀" * 40,
    "١٢",  # Arabic-Indic digits: int() reads them
    "\u202e",
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "true",
    "[]",
]
COMMON_NAMES = [
    "q",
    "page",
    "next",
    "email",
    "week",
    "from",
    "location",
    "status",
    "search",
    "patient",
    "user",
    "since",
    "until",
    "day",
    "o",
    "e",
]


@dataclass(frozen=True)
class Target:
    name: str
    view: Any
    converters: dict[str, Any]
    query_fields: dict[str, forms.Field]


def _matches(regex: str, value: str) -> bool:
    return re.fullmatch(regex, value) is not None


def targets() -> list[Target]:
    """Every named URL pattern, walked recursively, with its converters and declared fields."""
    found: list[Target] = []

    def walk(patterns: list[Any], namespace: str | None, converters: dict[str, Any]) -> None:
        for pattern in patterns:
            own = {**converters, **getattr(pattern.pattern, "converters", {})}
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    found.append(Target("admin:index", None, {}, {}))
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace, own)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                form = declared_form(pattern.callback)
                fields = dict(form().fields) if form is not None else {}
                found.append(Target(name, pattern.callback, own, fields))

    walk(get_resolver().url_patterns, None, {})
    return found


def test_every_view_reading_a_query_string_declares_its_form():
    """The sweep fuzzes declared fields: a view that reads request.GET without a declared form
    would be fuzzed with random names only."""
    import inspect

    undeclared = []
    for target in targets():
        if target.name.startswith(("admin:", "accounts:")):  # Django's and the sign-in work's
            continue
        source = inspect.getsource(inspect.unwrap(target.view))
        if "request.GET" in source and not target.query_fields:
            undeclared.append(target.name)
    assert undeclared == []


@pytest.fixture
def world(booked_world, login, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    location, plan, series = booked_world.location, booked_world.plan, booked_world.series
    session, hold, first = booked_world.session, booked_world.hold, booked_world.first
    feed = CalendarFeed.objects.create(patient=plan.patient)
    IntakeAttachment.objects.create(
        intake=plan.intake,
        kind=IntakeAttachment.Kind.INSURANCE_CARD,
        content_type="image/png",
        size=4,
        file=ContentFile(b"card", name="card.png"),
    )
    # A closure on a day between the two sessions, for the desk's rebooking step.
    training = first + dt.timedelta(days=1)
    closure = Closure.objects.create(
        location=location, starts_on=training, ends_on=training, reason="Training"
    )
    set_up_billing(location, plan.approved_by)
    estimate = estimates.on_series_changed(series)
    users = booked_world.users
    clients = {"anon": Client(), **{role: login(users[role]) for role in ROLES[1:]}}
    existing = {
        "public_id": [
            str(value)
            for value in (
                plan.intake.public_id,
                plan.public_id,
                series.public_id,
                session.public_id,
                plan.patient.public_id,
                estimate.public_id,
            )
        ],
        "slug": [location.slug, *(step.slug for step in STEPS)],
        "action": ["check-in", "no-show"],
        "hold_id": [str(hold.pk)],
        "pk": [str(closure.pk)],
        "shift_id": [str(NurseShift.objects.filter(location=location).values_list("pk")[0][0])],
        "day": [first.isoformat(), "0001-01-01", "9999-12-31", "9999-12-27"],
        "token": [
            feed.token,
            signed(ACTION_SALT, str(session.public_id), FAR),
            signed(CHECKIN_SALT, str(session.public_id), FAR),
            signed(QUESTIONNAIRE_SALT, f"{series.public_id}:mid", FAR),
            "set-password",
        ],
        "uidb64": ["MQ"],
    }
    choices = {
        "location": [str(location.pk)],
        "weekdays": ["0", "2", "4"],
    }
    return clients, existing, choices


def path_values(target: Target, existing: dict[str, list[str]]) -> st.SearchStrategy:
    strategies = {}
    for name, converter in target.converters.items():
        known = [v for v in existing.get(name, []) if re.fullmatch(converter.regex, v)]
        hostile = [value for value in HOSTILE if re.fullmatch(converter.regex, value)]
        options = [
            st.sampled_from(known or ["x"]),
            st.from_regex(converter.regex, fullmatch=True).filter(
                functools.partial(_matches, converter.regex)
            ),
        ]
        if hostile:
            options.append(st.sampled_from(hostile))
        strategies[name] = st.one_of(*options)
    return st.fixed_dictionaries(strategies)


EDGE_DATES = ["0001-01-01", "0001-01-07", "9999-12-31", "9999-12-27", "1999-12-31", "2100-01-01"]
EDGE_NUMBERS = ["0", "-1", str(2**31), str(2**63), "99999999999999999999", "1e3", "١"]


def field_values(field: forms.Field, choices: list[str]) -> st.SearchStrategy:
    """Values for one field, weighted towards what breaks its type."""
    options: list[st.SearchStrategy] = [st.sampled_from(HOSTILE), st.text(max_size=30)]
    if isinstance(field, forms.DateField):
        options = [st.sampled_from(EDGE_DATES), st.dates().map(dt.date.isoformat), *options]
    if isinstance(field, forms.IntegerField | forms.ModelChoiceField):
        options = [
            st.sampled_from(EDGE_NUMBERS),
            st.integers(-(10**20), 10**20).map(str),
            *options,
        ]
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        keys = [str(key) for key, _ in field.choices]  # type: ignore[misc]  # a list of pairs here
        options.append(st.sampled_from(keys or [""]))
    if choices:
        options.append(st.sampled_from(choices))
    value = st.one_of(*options)
    return st.one_of(value, st.lists(value, min_size=1, max_size=3))


def queries(target: Target, choices: dict[str, list[str]]) -> st.SearchStrategy:
    declared = {
        name: field_values(field, choices.get(name, []))
        for name, field in target.query_fields.items()
    }
    generic = field_values(forms.CharField(), [])
    unknown = st.dictionaries(
        st.one_of(st.sampled_from(COMMON_NAMES), st.text(min_size=1, max_size=12)),
        generic,
        max_size=3,
    )
    some_declared = (
        st.one_of(st.fixed_dictionaries(declared), st.fixed_dictionaries({}, optional=declared))
        if declared
        else st.just({})
    )
    return st.tuples(some_declared, unknown).map(lambda pair: {**pair[1], **pair[0]})


def _refused(response: Any) -> bool:
    if response.status_code in (403, 405):
        return True
    return response.status_code == 302 and response["Location"].startswith(("/login/", "/mfa/"))


@pytest.mark.slow
def test_no_url_answers_any_role_with_a_server_error(world):
    clients, existing, choices = world
    swept = 0
    for target in targets():
        for role in ROLES:
            client = clients[role]
            first = client.get(reverse(target.name, kwargs=_first_values(target, existing)))
            assert first.status_code < 500, (target.name, role)
            examples = EXAMPLES_REFUSED if _refused(first) else EXAMPLES_REACHED

            _sweep(client, target, role, existing, choices, examples)
            swept += 1
    assert swept >= len(ROLES) * 60  # every URL of the project, as every role


def _sweep(
    client: Client,
    target: Target,
    role: str,
    existing: dict[str, list[str]],
    choices: dict[str, list[str]],
    examples: int,
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(kwargs=path_values(target, existing), query=queries(target, choices))
    def probe(kwargs: dict[str, str], query: dict[str, Any]) -> None:
        url = reverse(target.name, kwargs=kwargs)
        response = client.get(url, query)
        assert response.status_code < 500, (target.name, role, url, query)

    probe()


def _first_values(target: Target, existing: dict[str, list[str]]) -> dict[str, str]:
    return {
        name: next((v for v in existing.get(name, []) if re.fullmatch(converter.regex, v)), "x")
        for name, converter in target.converters.items()
    }


def test_a_control_character_in_any_query_string_is_a_page_not_a_server_error(world):
    """Every URL, every role, a NUL or another control character in each declared field (or a
    common name): the 400 page in people's words, before the view reads it. The FHIR API answers
    its own way, with an OperationOutcome."""
    clients, existing, _choices = world
    controls = ["a\x00b", "\x00", "x\x1by", "\x7f", "\x85"]
    for target in targets():
        url = reverse(target.name, kwargs=_first_values(target, existing))
        names = [*target.query_fields, "q"]
        for role in ROLES:
            for number, name in enumerate(names):
                control = controls[number % len(controls)]
                response = clients[role].get(url, {name: control})
                if getattr(target.view, "checks_its_own_input", False):
                    assert response.status_code in (400, 401), (target.name, role, name)
                    assert response["Content-Type"] == "application/fhir+json"
                    continue
                assert response.status_code == 400, (target.name, role, name, response.status_code)
                assert "hidden character" in response.content.decode(), (target.name, role)
