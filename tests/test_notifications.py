"""The outbox and the message plan (docs/product-rules.md#reminders), on real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import PatientProfile, Role
from notifications import services as outbox
from notifications.models import Message, MessageStatus
from scheduling import services
from scheduling.models import ReminderRule
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 1, 15, tzinfo=dt.UTC)  # Monday 1 March, before the DST change


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _book(location, email, first, times, **plan_fields):
    plan = approved_plan(email, location, **plan_fields)
    series = services.book_series(
        plan,
        location,
        [services.Choice(day, time) for day, time in times],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    return series


def deliver_everything(until: dt.datetime) -> list[tuple[dt.datetime, Message]]:
    """Walk the clock through every planned instant up to `until`, sending what is due there as
    the worker does; the (instant, row) pairs of what was sent."""
    sent: list[tuple[dt.datetime, Message]] = []
    while True:
        due = Message.objects.filter(status="pending", send_at__lte=until).order_by("send_at")
        first = due.first()
        if first is None:
            return sent
        with time_machine.travel(max(first.send_at, dt.datetime.now(dt.UTC)), tick=False):
            moment = dt.datetime.now(dt.UTC)
            ids = outbox.claim_due()
            outbox.send_batch(ids)
            for message in Message.objects.filter(pk__in=ids, status="sent"):
                sent.append((moment, message))


def _messages(**filters):
    return list(Message.objects.filter(**filters).order_by("send_at", "channel"))


@pytest.mark.parametrize("zone", ["America/New_York", "America/Los_Angeles"])
def test_each_message_is_planned_at_its_instant_across_the_dst_change(zone):
    location = make_location(zone.split("/")[1].lower(), zone, shifts_from=dt.date(2027, 3, 1))
    tz = zoneinfo.ZoneInfo(zone)
    # Tuesday 16 March 10:00 local, after DST starts on Sunday 14 March: 72 h before is before it.
    day = dt.date(2027, 3, 16)
    series = _book(location, "dst@example.org", "Avery", [(day, dt.time(10))], infusions=1)
    session = series.sessions.get()
    start = dt.datetime.combine(day, dt.time(10), tzinfo=tz)

    def at(kind, channel="email"):
        return Message.objects.get(kind=kind, channel=channel, group=f"session:{session.pk}")

    assert session.starts_at == start
    # Hours before are real elapsed hours, so they are counted in UTC.
    utc_start = start.astimezone(dt.UTC)
    assert at("preparation").send_at == utc_start - dt.timedelta(hours=72)  # before the change
    assert at("reminder").send_at == utc_start - dt.timedelta(hours=48)
    assert at("tomorrow").send_at == utc_start - dt.timedelta(hours=24)
    assert at("fasting").send_at == dt.datetime.combine(day, dt.time(8), tzinfo=tz)
    assert at("followup").send_at == session.ends_at + dt.timedelta(hours=24)
    assert at("preparation").send_at.astimezone(tz).utcoffset() != start.utcoffset()
    # The texts (consent given in the sample intake) follow the same plan.
    assert at("reminder", "sms").send_at == at("reminder").send_at
    confirmation = Message.objects.get(kind="confirmation", channel="email")
    assert confirmation.send_at == NOW
    assert confirmation.context == {"sessions": [session.pk]}
    # One session is both the middle and the end: baseline and end, by email and text.
    assert Message.objects.filter(kind="questionnaire").count() == 2 * 2


def test_an_early_session_gets_its_fasting_reminder_the_evening_before():
    location = make_location(shifts_from=dt.date(2027, 3, 1))
    series = _book(
        location,
        "early@example.org",
        "Avery",
        [(dt.date(2027, 3, 10), dt.time(8, 15))],
        infusions=1,
    )
    fasting = Message.objects.get(kind="fasting", channel="email")

    local = fasting.send_at.astimezone(location.zone)
    assert (local.date(), local.time()) == (dt.date(2027, 3, 9), dt.time(19))
    assert series.sessions.get().starts_at > fasting.send_at


def test_texts_wait_out_quiet_hours_and_emails_do_not():
    location = make_location(shifts_from=dt.date(2027, 3, 1))
    ReminderRule.objects.create(location=location, kind="reminder", hours=30)
    _book(location, "quiet@example.org", "Avery", [(dt.date(2027, 3, 10), dt.time(9))], infusions=1)

    email = Message.objects.get(kind="reminder", channel="email")
    sms = Message.objects.get(kind="reminder", channel="sms")
    assert email.send_at.astimezone(location.zone).time() == dt.time(3)  # 30 h before 09:00
    assert sms.send_at.astimezone(location.zone).time() == dt.time(8)


def test_quiet_hours_boundaries():
    tz = zoneinfo.ZoneInfo("America/New_York")

    def local(h, m=0):
        return dt.datetime(2027, 3, 10, h, m, tzinfo=tz)

    assert outbox.defer_out_of_quiet_hours(local(20, 59), tz) == local(20, 59)
    assert outbox.defer_out_of_quiet_hours(local(21), tz) == dt.datetime(2027, 3, 11, 8, tzinfo=tz)
    assert outbox.defer_out_of_quiet_hours(local(7, 59), tz) == local(8)
    assert outbox.defer_out_of_quiet_hours(local(8), tz) == local(8)


def test_no_text_without_consent_and_no_email_when_declined(mailoutbox, settings, tmp_path):
    settings.SMS_BACKEND = "notifications.backends.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    location = make_location(shifts_from=dt.date(2027, 3, 1))
    plan = approved_plan("nosms@example.org", location, infusions=1)
    PatientProfile.objects.filter(user=plan.patient).update(
        sms_reminders=False, sms_consent_at=None, email_reminders=True
    )
    services.book_series(
        plan,
        location,
        [services.Choice(dt.date(2027, 3, 10), dt.time(11))],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )

    deliver_everything(until=dt.datetime(2027, 3, 20, tzinfo=dt.UTC))

    assert not (tmp_path / "deliveries.log").exists()
    texts = Message.objects.filter(channel="sms")
    assert set(texts.values_list("status", "last_error")) == {
        ("skipped", "no consent to text messages")
    }
    assert mailoutbox
    # No clinical detail and no surname in any message delivered.
    for email in mailoutbox:
        text = f"{email.subject} {email.body} {email.alternatives}"
        for word in ("ketamine", "Testperson", "PHQ", "infusion", "depression", "pain score"):
            assert word not in text, (email.subject, word)


def test_cancelling_a_session_cancels_its_pending_messages_and_sends_a_notice():
    location = make_location(shifts_from=dt.date(2027, 3, 1))
    series = _book(
        location, "c@example.org", "A", [(dt.date(2027, 3, 10), dt.time(11))], infusions=1
    )
    session = series.sessions.get()

    services.cancel_sessions(session)

    group = Message.objects.filter(group=f"session:{session.pk}")
    assert set(group.values_list("status", flat=True)) == {"cancelled"}
    assert Message.objects.filter(kind="cancelled", status="pending").count() == 2
    assert outbox.claim_due() == sorted(
        Message.objects.filter(status="queued").values_list("pk", flat=True)
    )
    assert not Message.objects.filter(group=f"session:{session.pk}", status="queued").exists()


def test_moving_a_session_re_plans_its_messages():
    location = make_location(shifts_from=dt.date(2027, 3, 1))
    series = _book(
        location, "m@example.org", "A", [(dt.date(2027, 3, 10), dt.time(11))], infusions=1
    )
    session = series.sessions.get()

    services.move_sessions(session, services.Choice(dt.date(2027, 3, 11), dt.time(14)))

    session.refresh_from_db()
    live = Message.objects.filter(group=f"session:{session.pk}", status="pending")
    reminder = live.get(kind="reminder", channel="email")
    assert reminder.send_at == session.starts_at - dt.timedelta(hours=48)
    assert Message.objects.filter(group=f"session:{session.pk}", status="cancelled").count() > 0
    assert Message.objects.filter(kind="changed").count() == 2


def test_claiming_takes_only_due_rows_and_reclaims_stale_ones(settings):
    due = outbox.enqueue(
        channel="email",
        kind="t",
        group="g",
        recipient="a@example.org",
        send_at=NOW - dt.timedelta(minutes=1),
        body_text="x",
    )
    later = outbox.enqueue(
        channel="email",
        kind="t",
        group="g",
        recipient="a@example.org",
        send_at=NOW + dt.timedelta(minutes=1),
        body_text="x",
    )

    assert outbox.claim_due() == [due.pk]
    assert outbox.claim_due() == []
    with time_machine.travel(NOW + dt.timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER + 61)):
        assert outbox.claim_due() == [due.pk, later.pk]


def test_sending_marks_a_message_sent_exactly_once(settings, tmp_path):
    settings.EMAIL_BACKEND = "notifications.mail.OutboxFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    message = outbox.enqueue(
        channel="email",
        kind="t",
        group="g",
        recipient="a@example.org",
        send_at=NOW,
        subject="Hello",
        body_text="Hi",
    )
    outbox.claim_due()

    assert outbox.send(message.pk) == "sent"
    assert outbox.send(message.pk) == "skipped"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == ("sent", 1, NOW)
    assert (tmp_path / "deliveries.log").read_text().count(".eml") == 1


def test_transient_failures_retry_with_backoff_then_fail_with_the_reason(settings):
    settings.SMS_BACKEND = "tests.sms_backends.FlakySmsBackend"
    message = outbox.enqueue(
        channel="sms", kind="t", group="g", recipient="+19995550100", send_at=NOW, body_text="x"
    )
    moment = NOW
    for attempt in range(1, settings.NOTIFICATIONS_MAX_ATTEMPTS):
        with time_machine.travel(moment, tick=False):
            assert outbox.claim_due() == [message.pk]
            assert outbox.send(message.pk) == "retry"
        message.refresh_from_db()
        assert message.send_at - moment == outbox.backoff(attempt)
        moment = message.send_at
    with time_machine.travel(moment, tick=False):
        outbox.claim_due()
        assert outbox.send(message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "gave up after 5 attempts: provider timed out" in message.last_error


def test_a_permanent_failure_fails_at_once_and_the_desk_sees_it(settings, login):
    settings.SMS_BACKEND = "tests.sms_backends.FlakySmsBackend"
    message = outbox.enqueue(
        channel="sms",
        kind="notice",
        group="g",
        recipient="+18885550100",
        send_at=NOW,
        body_text="x",
    )
    outbox.claim_due()
    assert outbox.send(message.pk) == "failed"

    page = login(UserFactory.create(role=Role.FRONT_DESK)).get(
        reverse("scheduling:failed_messages")
    )

    assert "number cannot receive texts" in page.content.decode()


def test_planning_a_series_reads_the_patients_profile_once_not_per_session():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    location = make_location(shifts_from=dt.date(2027, 3, 1))
    plan = approved_plan("once@example.org", location)
    days = [8, 10, 12, 15, 17, 19, 22, 24]  # Mondays, Wednesdays and Fridays of March 2027
    choices = [services.Choice(dt.date(2027, 3, day), dt.time(11)) for day in days]

    with CaptureQueriesContext(connection) as queries:
        services.book_series(
            plan, location, choices, booked_by=UserFactory.create(role=Role.FRONT_DESK)
        )

    profile_reads = [q for q in queries if 'FROM "accounts_patientprofile"' in q["sql"]]
    assert len(profile_reads) <= 1
    assert Message.objects.filter(kind="reminder").count() == 2 * plan.infusions


def test_a_row_a_task_is_still_sending_is_not_claimed_again_before_its_time_limit(settings):
    """A batch slower than NOTIFICATIONS_REQUEUE_AFTER must not be sent a second time while it
    is still delivering: a taken row is claimed again only after the task's hard time limit."""
    settings.NOTIFICATIONS_REQUEUE_AFTER = 60
    settings.NOTIFICATIONS_SENDING_TIMEOUT = 600
    message = outbox.enqueue(
        channel="email", kind="t", group="g", recipient="a@example.org", send_at=NOW, body_text="x"
    )
    Message.objects.filter(pk=message.pk).update(status="sending", claimed_at=NOW)

    with time_machine.travel(NOW + dt.timedelta(seconds=120), tick=False):
        assert outbox.claim_due() == []  # past the requeue delay, but a task may still be sending
    with time_machine.travel(NOW + dt.timedelta(seconds=601), tick=False):
        assert outbox.claim_due() == [message.pk]
    message.refresh_from_db()
    assert message.status == "queued"


def test_the_registrations_check_sees_a_resolver_left_behind_and_one_undone(register_kind):
    """tests/conftest.py fails a test that leaves the outbox's registrations changed; this is
    what it compares."""
    from notifications import registry
    from tests.conftest import registrations

    at_start = registrations()

    registry.register("left-behind-test", lambda message: registry.Resolved("a@example.org", "x"))
    left = registrations()
    registry.unregister("left-behind-test")

    assert left != at_start
    assert registrations() == at_start
    register_kind("undone-test", lambda message: registry.Resolved("a@example.org", "x"))
    assert registry.resolver_for("undone-test") is not None


def test_a_batch_out_of_time_returns_with_what_it_sent_recorded_and_the_rest_left_to_retry(
    settings, tmp_path, register_kind
):
    """The sending task's soft time limit fires mid-batch (here while the third message is
    resolved, before any is delivered): the batch returns cleanly instead of failing the task,
    and its rows stay `sending`, claimed again only after NOTIFICATIONS_SENDING_TIMEOUT."""
    from celery.exceptions import SoftTimeLimitExceeded

    from notifications import registry

    settings.EMAIL_BACKEND = "notifications.mail.OutboxFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    resolved: list[int] = []

    def slow(message: Message) -> registry.Resolved:
        resolved.append(message.pk)
        if len(resolved) == 3:
            raise SoftTimeLimitExceeded()
        return registry.Resolved(recipient="a@example.org", subject="Hello", body_text="Hi")

    register_kind("out-of-time-test", slow)
    messages = [
        outbox.enqueue(
            channel="email",
            kind="out-of-time-test",
            group=f"g{n}",
            recipient="",
            send_at=NOW,
            subject="",
            body_text="",
        )
        for n in range(4)
    ]
    ids = outbox.claim_due()

    outcomes = outbox.send_batch(ids)

    assert outcomes == {"out_of_time": 1}
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert [statuses[m.pk] for m in messages] == ["sending"] * 4
    assert not (tmp_path / "deliveries.log").exists()
    assert outbox.claim_due() == []  # not before the sending task's time limit
