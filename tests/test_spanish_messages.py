"""Emails, texts and calendar files in the patient's language at the moment they are sent (issue
21): the outbox row keeps no words; the resolver writes them in the language the profile holds
when the message goes out."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from icalendar import Calendar

from accounts.models import PatientProfile, Role
from messaging import reminders
from notifications.models import Message
from scheduling import links, services
from scheduling.models import CalendarFeed, ReminderKind, ReminderRule
from tests.factories import PASSWORD, UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)  # Tuesday 1 December, 10:00 in Stamford


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def series():
    location = make_location(shifts_from=NOW.date())
    location.phone = "203 555 0100"
    location.save()
    plan = approved_plan("lucia@example.org", location, infusions=2, min_days_between=2)
    PatientProfile.objects.filter(user=plan.patient).update(
        preferred_language="es",
        mobile_phone="+12035550199",
        sms_reminders=True,
        sms_consent_at=NOW,
    )
    return services.book_series(
        plan,
        location,
        [
            services.Choice(dt.date(2026, 12, 7), dt.time(11)),
            services.Choice(dt.date(2026, 12, 9), dt.time(11)),
        ],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )


def _message(kind: str, channel: str) -> Message:
    message = Message.objects.filter(kind=kind, channel=channel).order_by("send_at").first()
    assert message is not None, (kind, channel)
    return message


def test_the_confirmation_email_and_its_calendar_file_are_in_spanish(series):
    resolved = reminders.resolve(_message(ReminderKind.CONFIRMATION, "email"))

    assert resolved.subject.startswith("Sus citas en")
    assert "están programadas" in resolved.body_text
    assert "lunes 7 de diciembre a las 11:00 EST" in resolved.body_text
    assert "Dirección: 1 Example Street" in resolved.body_text
    (_name, content, _type) = resolved.attachments[0]
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]).startswith("Cita en ")
    assert "Llegue 10 minutos antes" in str(event["DESCRIPTION"])


def test_the_language_is_the_one_the_patient_has_when_the_message_is_sent(series):
    reminder = _message(ReminderKind.REMINDER, "email")
    text = _message(ReminderKind.REMINDER, "sms")

    in_spanish = reminders.resolve(reminder)
    spanish_text = reminders.resolve(text)
    PatientProfile.objects.filter(user=series.patient).update(preferred_language="en")
    in_english = reminders.resolve(reminder)

    assert in_spanish.subject.startswith("Recordatorio: su cita del")
    assert in_spanish.body_text.startswith("Hola, ")
    assert "Responda C para confirmar, R para cambiarla." in spanish_text.body_text
    assert in_english.subject.startswith("Reminder: your appointment on")
    assert "Monday 7 December at 11:00 AM EST" in in_english.body_text


def test_a_locations_own_english_texts_go_to_english_readers_only(series):
    ReminderRule.objects.create(
        location=series.location,
        kind=ReminderKind.REMINDER,
        email_subject="See you soon, {{ first_name }}",
    )
    reminder = _message(ReminderKind.REMINDER, "email")

    spanish = reminders.resolve(reminder)
    PatientProfile.objects.filter(user=series.patient).update(preferred_language="en")
    english = reminders.resolve(reminder)

    assert spanish.subject.startswith("Recordatorio:")
    assert english.subject.startswith("See you soon")


def test_the_calendar_feed_is_in_the_patients_language_whatever_the_calendar_app_asks(series):
    feed = CalendarFeed.objects.create(patient=series.patient, token="t" * 32)

    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/calendar/{feed.token}.ics")

    calendar = Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Citas en la clínica"
    assert all(str(e["SUMMARY"]).startswith("Cita en ") for e in calendar.walk("VEVENT"))


def test_the_link_in_a_spanish_reminder_opens_a_spanish_page_for_a_signed_out_browser(series):
    session = series.sessions.get(number=1)
    token = links.signed(links.ACTION_SALT, str(session.public_id), session.starts_at)

    html = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/r/{token}/").content.decode()

    assert '<html lang="es">' in html
    assert "Sí, vendré" in html


def test_signing_in_after_submitting_keeps_the_patients_language(series):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post("/login/", {"username": "lucia@example.org", "password": PASSWORD})

    assert '<html lang="es">' in client.get("/sessions/").content.decode()
