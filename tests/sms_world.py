"""A patient with a booked series whose texts go out, for the two-way SMS tests
(docs/reminders.md#two-way-texts-twilio)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from accounts.models import PatientProfile, Role, User
from locations.models import Location
from notifications import services as outbox
from notifications.models import Message
from scheduling import services
from scheduling.models import Series, Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, SITE

BOOKED_AT = dt.datetime(2027, 3, 1, 15, tzinfo=dt.UTC)  # Monday 1 March, 10:00 in Stamford
FIRST_DAY = dt.date(2027, 3, 10)  # Wednesday: session 1 at 10:00, its reminder 48 h before
CLINIC_PHONE = "+1 203 555 0142"
INBOUND = "/sms/twilio/inbound/"
STATUS = "/sms/twilio/status/"


@dataclass
class Booked:
    patient: User
    series: Series
    session: Session
    number: str

    def texts(self, **filters: object) -> list[Message]:
        groups = [f"session:{pk}" for pk in self.series.sessions.values_list("pk", flat=True)]
        return list(
            Message.objects.filter(group__in=[*groups, f"series:{self.series.pk}"], **filters)
        )


@pytest.fixture
def twilio_settings(settings, tmp_path):
    settings.SITE_URL = SITE
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = "+12035550100"
    settings.SMS_BACKEND = "notifications.backends.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


@pytest.fixture
def clinic(db) -> Location:
    location = make_location(shifts_from=dt.date(2027, 3, 1))
    Location.objects.filter(pk=location.pk).update(phone=CLINIC_PHONE)
    location.refresh_from_db()
    return location


def book(location: Location, email: str, number: str, *, days=(0, 2)) -> Booked:
    """A two-session series booked at BOOKED_AT, the patient texting from `number`."""
    with time_machine.travel(BOOKED_AT, tick=False):
        plan = approved_plan(email, location, infusions=len(days), min_days_between=2)
        PatientProfile.objects.filter(user=plan.patient).update(mobile_phone=number)
        series = services.book_series(
            plan,
            location,
            [services.Choice(FIRST_DAY + dt.timedelta(days=d), dt.time(10)) for d in days],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        )
    return Booked(plan.patient, series, series.sessions.get(number=1), number)


def send_due(until: dt.datetime) -> list[Message]:
    """Send everything due up to `until` through the worker's own path, the clock walked to each
    planned instant; the rows that went out."""
    sent: list[Message] = []
    while True:
        first = Message.objects.filter(status="pending", send_at__lte=until).order_by("send_at")
        due = first.first()
        if due is None:
            return sent
        with time_machine.travel(max(due.send_at, BOOKED_AT), tick=False):
            ids = outbox.claim_due()
            outbox.send_batch(ids)
            sent.extend(Message.objects.filter(pk__in=ids, status="sent"))


def reminder_sent(booked: Booked) -> Message:
    """Deliver everything up to the first session's text reminder; that reminder."""
    reminder = Message.objects.get(
        group=f"session:{booked.session.pk}", kind="reminder", channel="sms"
    )
    send_due(reminder.send_at)
    reminder.refresh_from_db()
    assert reminder.status == "sent", reminder.last_error
    return reminder
