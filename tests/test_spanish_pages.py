"""Every patient page and every message a patient receives, rendered in Spanish, has no English left
(docs/languages.md#tests): strings never marked for translation count too
(tests/spanish_scan.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import PatientProfile, Role, User
from intake import services as intake_services
from intake.samples import fill_intake, sample_steps
from intake.steps import steps_for
from messaging import reminders
from scheduling import links, services
from scheduling.models import ReminderKind, Series
from tests.factories import PASSWORD, UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.spanish_scan import leftovers

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 14, tzinfo=dt.UTC)  # Monday 09:00 in Stamford


def _typed_values() -> frozenset[str]:
    """What the sample patient typed (kept as typed, in any language), and fixed names."""
    typed = {
        str(value)
        for fields in sample_steps().values()
        for value in fields.values()
        if isinstance(value, str) and len(value) > 2
    }
    typed |= {
        settings.SITE_NAME,
        "Stamford",
        "1 Example Street",
        "Lucía",
        "Ramos",
        "Avery",
        "Testperson",
        "America/New_York",
        "Suicide & Crisis Lifeline",
        "Chair 1",
        "ketamine",
    }
    return frozenset(typed)


ALLOWED = _typed_values()


@dataclass
class World:
    booked: User  # approved, a series booked
    drafting: User  # an intake draft with every step saved
    to_book: User  # approved, books online
    series: Series
    draft_id: str


def _spanish(user: User) -> User:
    PatientProfile.objects.filter(user=user).update(preferred_language="es")
    return user


@pytest.fixture
def world() -> World:
    with time_machine.travel(NOW, tick=False):
        location = make_location(shifts_from=NOW.date())
        location.phone = "203 555 0100"
        location.self_booking = True
        location.save()
        plan = approved_plan("booked@example.org", location, infusions=2, min_days_between=2)
        series = services.book_series(
            plan,
            location,
            [
                services.Choice(dt.date(2026, 11, 4), dt.time(10)),
                services.Choice(dt.date(2026, 11, 6), dt.time(10)),
            ],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        )
        to_book = approved_plan("tobook@example.org", location, infusions=3).patient
        drafting = UserFactory.create(
            role=Role.PATIENT, email="drafting@example.org", first_name="Lucía", last_name="Ramos"
        )
        PatientProfile.objects.create(user=drafting, date_of_birth=dt.date(1979, 5, 2))
        draft = fill_intake(drafting, changes={"mood": {"phq9_9": "1"}})
    for user in (plan.patient, drafting, to_book):
        _spanish(user)
    return World(plan.patient, drafting, to_book, series, str(draft.public_id))


def _both(client: Client, url: str, *, signed_in: bool) -> tuple[str, str]:
    """The page in Spanish and in English, through the language switch as a patient uses it."""
    rendered = {}
    for code in ("en", "es"):
        client.post("/language/", {"language": code, "next": "/"})
        response = client.get(url)
        assert response.status_code in (200, 404, 410), (url, response.status_code)
        html = response.content.decode()
        assert f'<html lang="{code}">' in html, (url, code)
        rendered[code] = html
    return rendered["es"], rendered["en"]


def _signed_in(user: User) -> Client:
    client = Client()
    assert client.post("/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _scan(pages: list[tuple[Client, str]], signed_in: bool) -> dict[str, list[str]]:
    found = {}
    for client, url in pages:
        spanish, english = _both(client, url, signed_in=signed_in)
        if left := leftovers(spanish, english, ALLOWED):
            found[url] = left
    return found


def test_pages_before_signing_in_have_no_english_left_in_spanish(world):
    anonymous = Client()
    pages = [
        "/login/",
        "/register/",
        "/register/sent/",
        "/register/resend/",
        "/register/verify/not-a-token/",
        "/register/invite/not-a-token/",
        "/password-reset/",
        "/password-reset/sent/",
        "/password-reset/done/",
        "/password-reset/MQ/not-a-token/",
        "/no-such-page/",
        "/r/not-a-token/",
    ]
    with time_machine.travel(NOW, tick=False):
        found = _scan([(anonymous, url) for url in pages], signed_in=False)

    assert found == {}, "\n".join(f"{url}: {left}" for url, left in found.items())


def test_the_signed_in_patient_s_pages_have_no_english_left_in_spanish(world):
    with time_machine.travel(NOW, tick=False):
        booked, drafting, to_book = (
            _signed_in(world.booked),
            _signed_in(world.drafting),
            _signed_in(world.to_book),
        )
        intake = (
            intake_services.latest_intake(world.booked)
            if hasattr(intake_services, "latest_intake")
            else world.booked.intakes.order_by("-version").first()
        )
        session = world.series.sessions.get(number=1)
        pages = [
            (booked, reverse("scheduling:patient_home")),
            (booked, reverse("scheduling:my_sessions")),
            (booked, reverse("scheduling:self_home")),
            (booked, reverse("outcomes:mine")),
            (booked, reverse("intake:submitted", args=[intake.public_id])),
            (drafting, reverse("scheduling:patient_home")),
            (drafting, reverse("intake:review", args=[world.draft_id])),
            (to_book, reverse("scheduling:self_home")),
            (to_book, reverse("scheduling:self_book")),
        ]
        draft = world.drafting.intakes.get()
        pages += [
            (drafting, reverse("intake:step", args=[world.draft_id, step.slug]))
            for step in steps_for(draft)
        ]
        token = links.signed(links.ACTION_SALT, str(session.public_id), session.starts_at)
        check_in = links.signed(
            links.CHECKIN_SALT, str(session.public_id), NOW + dt.timedelta(days=7)
        )
        questionnaire = links.signed(
            links.QUESTIONNAIRE_SALT,
            f"{world.series.public_id}:baseline",
            NOW + dt.timedelta(days=7),
        )
        pages += [
            (booked, reverse("scheduling:session_action", args=[token])),
            (booked, reverse("outcomes:check_in", args=[check_in])),
            (booked, reverse("outcomes:questionnaire", args=[questionnaire])),
        ]
        found = _scan(pages, signed_in=True)

    assert found == {}, "\n".join(f"{url}: {left}" for url, left in found.items())


def _message_context(world: World) -> dict[str, object]:
    session = world.series.sessions.get(number=1)
    return {
        "first_name": "Lucía",
        "clinic": settings.SITE_NAME,
        "location": session.location,
        "instructions": translation.gettext(reminders.INSTRUCTIONS),
        "when": "Wednesday 4 November at 10:00 AM EST",
        "number": 1,
        "sessions": ["Wednesday 4 November at 10:00 AM EST"],
        "milestone": "mid",
        "can_cancel_online": True,
        "link": settings.SITE_URL + "/r/token/",
        "offered": "Wednesday 4 November at 10:00 AM EST",
        "expires": "10:30 AM",
        "link_days": 7,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "hours": 48,
        "days": 7,
        "email": "lucia@example.org",
        "protocol": "https",
        "domain": "example.org",
        "uid": "MQ",
        "token": "token",
        "location_name": "Stamford",
        "reason": "",
        "login_link": settings.SITE_URL + "/login/",
        "reset_link": settings.SITE_URL + "/password-reset/",
    }


MESSAGE_TEMPLATES = (
    [
        # A visit's messages, its reminder among them, share notifications/visit/.
        f"notifications/{'visit' if kind == ReminderKind.VISIT_REMINDER else kind}/{part}"
        for kind in ReminderKind.values
        for part in ("subject.txt", "email.txt", "email.html", "sms.txt")
    ]
    + [
        f"accounts/email/{name}_{part}"
        for name in ("verify", "invitation", "already_registered")
        for part in ("subject.txt", "body.txt", "body.html")
    ]
    + [f"accounts/email/password_reset_{part}" for part in ("subject.txt", "body.txt", "body.html")]
)


@pytest.mark.parametrize("template", MESSAGE_TEMPLATES)
def test_every_message_template_has_no_english_left_in_spanish(world, template):
    allowed = ALLOWED | {"Wednesday 4 November at 10:00 AM EST", "10:30 AM"}
    with translation.override("es"):
        spanish = render_to_string(template, _message_context(world))
    with translation.override("en"):
        english = render_to_string(template, _message_context(world))

    assert spanish != english
    assert leftovers(spanish, english, allowed, html=template.endswith(".html")) == []
