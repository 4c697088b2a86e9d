"""Reminders as the patient receives them: the delivered email, the link inside it, the calendar
attachment as a calendar app parses it (docs/reminders.md#calendars). Messages are sent in-process
through the same send path the worker runs, into Django's in-memory mailbox, which keeps every
delivery."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from accounts.models import PatientProfile, Role
from notifications.models import Message
from outcomes.models import CheckIn
from scheduling import services
from scheduling.models import ReminderRule, Status
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.test_notifications import deliver_everything

pytestmark = pytest.mark.django_db

BOOKED_ON = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)  # Tuesday 1 December
LINK = re.compile(r"https?://\S+?/(?:r|check-in|questionnaire)/[^/\s]+/")


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(BOOKED_ON, tick=False):
        yield


def _series(location, email="series@example.org", days=None, time=dt.time(11), **fields):
    plan = approved_plan(email, location, **fields)
    days = days or [2, 4, 7, 9, 11, 14, 16, 18]  # an 8-session series over 17 days
    return services.book_series(
        plan,
        location,
        [services.Choice(dt.date(2026, 12, day), time) for day in days],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )


def _links(email) -> list[str]:
    return LINK.findall(email.body)


def test_every_link_in_every_email_of_a_series_works_when_it_arrives(client, mailoutbox):
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    _series(location)
    sent = deliver_everything(until=dt.datetime(2027, 1, 31, tzinfo=dt.UTC))

    arrived = {str(m.public_id): moment for moment, m in sent if m.channel == "email"}
    checked = 0
    for email in mailoutbox:
        moment = arrived[email.extra_headers["Message-ID"].strip("<>").split("@")[0]]
        for link in _links(email):
            # The patient opens it an hour after it arrives.
            with time_machine.travel(moment + dt.timedelta(hours=1), tick=False):
                response = client.get(link.removeprefix("http://localhost:8000"))
            assert response.status_code == 200, (email.subject, link)
            checked += 1
    # 7 confirm/cancel reminders (the first session is too soon for one), 8 check-ins, and the
    # baseline, mid and end questionnaires.
    assert checked == 7 + 8 + 3


def test_texts_stop_at_once_when_the_patient_withdraws_consent(settings, tmp_path):
    settings.SMS_BACKEND = "notifications.backends.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    series = _series(location, days=[7], infusions=1)
    pending = Message.objects.filter(channel="sms", status="pending")
    assert pending.count() >= 4

    PatientProfile.objects.filter(user=series.patient).update(
        sms_reminders=False, sms_consent_at=None
    )
    deliver_everything(until=dt.datetime(2026, 12, 31, tzinfo=dt.UTC))

    assert not (tmp_path / "deliveries.log").exists()
    assert set(Message.objects.filter(channel="sms").values_list("status", flat=True)) == {
        "skipped"
    }


def test_a_changed_email_address_and_phone_are_used_when_the_message_is_sent(
    settings, tmp_path, mailoutbox
):
    settings.SMS_BACKEND = "notifications.backends.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    series = _series(location, days=[7], infusions=1)
    patient = series.patient
    patient.email = "new.address@example.org"
    patient.save(update_fields=["email"])
    PatientProfile.objects.filter(user=patient).update(mobile_phone="+12035550177")

    deliver_everything(until=dt.datetime(2026, 12, 31, tzinfo=dt.UTC))

    assert {email.to[0] for email in mailoutbox} == {"new.address@example.org"}
    texts = (tmp_path / "deliveries.log").read_text().split()
    assert texts
    import json

    numbers = {json.loads(p.read_text())["to"] for p in tmp_path.glob("*.json.*")}
    assert numbers == {"+12035550177"}


def test_the_reminder_offers_online_cancellation_only_while_it_is_open(client, mailoutbox):
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    location.phone = "203-555-0100"
    location.save()
    series = _series(location, days=[7], infusions=1)

    deliver_everything(until=dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
    (reminder,) = [e for e in mailoutbox if e.subject.startswith("Reminder")]
    assert "confirm, or cancel" in reminder.body
    (link,) = _links(reminder)
    page = client.get(link.removeprefix("http://localhost:8000")).content.decode()
    assert "Cancel this appointment" in page

    # A location that sends its reminder 20 hours before: cancelling online is already closed.
    ReminderRule.objects.create(location=location, kind="reminder", hours=20)
    session = series.sessions.get()
    services.move_sessions(session, services.Choice(dt.date(2026, 12, 8), dt.time(11)))
    mail.outbox.clear()
    deliver_everything(until=dt.datetime(2026, 12, 8, 15, tzinfo=dt.UTC))
    (reminder,) = [e for e in mailoutbox if e.subject.startswith("Reminder")]
    assert "cancel" not in reminder.body.split("If you cannot come")[0].lower()
    assert "please call 203-555-0100" in reminder.body


@pytest.mark.parametrize(
    ("moved_to", "fasting_local"),
    [
        # Same day, later (it is 10:00 there now): the morning's reminder went by, so now.
        ((1, dt.time(15)), (dt.date(2026, 12, 1), dt.time(10))),
        # Next day at 11:00: that morning at 08:00.
        ((2, dt.time(11)), (dt.date(2026, 12, 2), dt.time(8))),
        # Next day before 10:00: the evening before.
        ((2, dt.time(9)), (dt.date(2026, 12, 1), dt.time(19))),
    ],
)
def test_every_move_re_plans_the_fasting_reminder(moved_to, fasting_local):
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    series = _series(location, days=[4], infusions=1)
    session = series.sessions.get()
    day, time = moved_to

    services.move_sessions(session, services.Choice(dt.date(2026, 12, day), time))

    fasting = Message.objects.get(
        group=f"session:{session.pk}", kind="fasting", channel="email", status="pending"
    )
    local = fasting.send_at.astimezone(location.zone)
    assert (local.date(), local.time()) == fasting_local


def _calendars(email) -> list[Calendar]:
    """Every calendar attached to the email, parsed from the message as it is sent."""
    return [
        Calendar.from_ical(part.get_payload(decode=True))
        for part in email.message().walk()
        if part.get_content_type() == "text/calendar"
    ]


def test_calendar_invitations_update_and_cancel_the_same_event(mailoutbox, settings):
    settings.SITE_URL = "https://clinic.example.org"
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    series = _series(location, days=[7], infusions=1)
    session = series.sessions.get()
    deliver_everything(until=BOOKED_ON)
    (confirmation,) = [e for e in mailoutbox if e.attachments]

    (booked,) = _calendars(confirmation)
    (event,) = booked.walk("VEVENT")
    assert booked["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"{session.public_id}@clinic.example.org"
    assert str(event["ORGANIZER"]) == f"mailto:{settings.CLINIC_MAILBOX}"
    assert str(event["ATTENDEE"]) == f"mailto:{series.patient.email}"
    assert int(str(event["SEQUENCE"])) == 0
    assert event.decoded("DTSTART") == session.starts_at
    message = confirmation.message()
    calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar_part.get_param("method") == "REQUEST"

    mail.outbox.clear()
    services.move_sessions(session, services.Choice(dt.date(2026, 12, 8), dt.time(14)))
    deliver_everything(until=BOOKED_ON)
    (moved,) = _calendars(next(e for e in mailoutbox if e.attachments))
    (event,) = moved.walk("VEVENT")
    session.refresh_from_db()
    assert moved["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"{session.public_id}@clinic.example.org"
    assert int(str(event["SEQUENCE"])) == 1
    assert event.decoded("DTSTART") == session.starts_at

    mail.outbox.clear()
    services.cancel_sessions(session)
    deliver_everything(until=BOOKED_ON)
    (cancelled,) = _calendars(next(e for e in mailoutbox if e.attachments))
    (event,) = cancelled.walk("VEVENT")
    assert cancelled["METHOD"] == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(str(event["SEQUENCE"])) == 2


def test_the_check_in_link_of_a_cancelled_session_refuses_and_stores_nothing(client, mailoutbox):
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    series = _series(location, days=[2, 4], infusions=2, min_days_between=2)
    first = series.sessions.get(number=1)
    deliver_everything(until=dt.datetime(2026, 12, 3, 20, tzinfo=dt.UTC))
    (check_in,) = [e for e in mailoutbox if "/check-in/" in e.body]
    (link,) = _links(check_in)
    type(first).objects.filter(pk=first.pk).update(status=Status.CANCELLED)

    response = client.post(link.removeprefix("http://localhost:8000"), {"pain": "3"})

    assert response.status_code == 410
    assert "was cancelled" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_the_desk_sees_each_message_in_words_at_the_locations_time(login):
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    series = _series(location, days=[7], infusions=1)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    page = desk.get(f"/desk/series/{series.public_id}/").content.decode()

    assert "Reminder with confirm/cancel link, 48 hours before" in page
    assert "See you tomorrow" in page
    # 48 h before Monday 7 December 11:00 EST is Saturday 5 December 11:00 EST.
    assert "5 Dec 11:00 EST" in page
    assert " UTC" not in page


def test_a_clinic_admin_switches_a_kind_off_changes_its_text_and_previews_it(login):
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    url = f"/settings/{location.slug}/reminders/"

    page = admin.get(url).content.decode()
    assert "Reminder with confirm/cancel link, 48 hours before" in page
    assert "Hello Alex" in page  # the fictional patient of the preview

    fields = {
        "kind": "preparation",
        "preparation-enabled": "on",
        "preparation-hours": "96",
        "preparation-sms_text": "{{ clinic }}: see you on {{ when }}, {{ first_name }}.",
    }
    preview = admin.post(url, {**fields, "action": "preview"}).content.decode()
    assert "see you on" in preview and ", Alex." in preview
    assert not ReminderRule.objects.exists()  # a preview saves nothing

    admin.post(url, {**fields, "action": "save"})
    rule = ReminderRule.objects.get(location=location, kind="preparation")
    assert (rule.enabled, rule.hours) == (True, 96)

    broken = admin.post(url, {**fields, "preparation-sms_text": "{% if %}", "action": "save"})
    assert "mistake in a {{ }} or {% %} tag" in broken.content.decode()
    rule.refresh_from_db()
    assert rule.sms_text.startswith("{{ clinic }}")

    off = {"kind": "tomorrow", "action": "save"}  # the checkbox left unticked
    admin.post(url, off)
    _series(location, days=[7], infusions=1)
    assert not Message.objects.filter(kind="tomorrow").exists()
    assert Message.objects.get(kind="preparation", channel="email").send_at == (
        dt.datetime(2026, 12, 7, 11, tzinfo=location.zone) - dt.timedelta(hours=96)
    )


def test_only_clinic_admins_reach_the_reminder_rules(login):
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    for role in (Role.FRONT_DESK, Role.CLINICIAN, Role.NURSE, Role.PATIENT):
        response = login(UserFactory.create(role=role)).get(f"/settings/{location.slug}/reminders/")
        assert response.status_code in (302, 403, 404), role


def test_the_desk_sees_a_failed_message_at_its_locations_time_and_in_words(login):
    location = make_location(shifts_from=dt.date(2026, 12, 1))
    _series(location, days=[7], infusions=1)
    failed = Message.objects.get(kind="reminder", channel="email")
    Message.objects.filter(pk=failed.pk).update(status="failed", last_error="address refused")
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    page = desk.get("/desk/messages/failed/").content.decode()

    assert "Reminder with confirm/cancel link" in page
    assert "5 Dec 2026 11:00 EST" in page  # 48 h before Monday 11:00 in Stamford
    assert "address refused" in page
