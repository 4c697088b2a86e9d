"""Two-way SMS (docs/reminders.md#two-way-texts-twilio): patients answer a reminder by text, through
Twilio's inbound webhook.

Every request is signed the way Twilio signs it (the SDK's RequestValidator, a test auth token,
over the public URL SITE_URL + path); unsigned, tampered and wrongly signed ones are refused.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import pytest
import time_machine
from django.test import Client

from accounts.models import PatientProfile, Role
from locations.models import Location
from notifications.models import Message, MessageStatus
from scheduling.models import Status
from tests import sms_world
from tests.factories import UserFactory
from tests.sms_world import (
    CLINIC_PHONE,
    INBOUND,
    book,
    reminder_sent,
    send_due,
)
from tests.twilio_peer import SITE, twilio_post

pytestmark = pytest.mark.django_db

# The shared fixtures of the SMS tests.
clinic = sms_world.clinic
twilio_settings = sms_world.twilio_settings

AFTER_REMINDER = dt.datetime(2027, 3, 8, 16, tzinfo=dt.UTC)  # 47 h before session 1
TOO_LATE_ONLINE = dt.datetime(2027, 3, 9, 16, tzinfo=dt.UTC)  # 23 h before session 1
NUMBER = "+12035550111"


def tasks(**filters):
    from worklist.models import Task

    return list(Task.objects.filter(**filters))


def reply(body: str, number: str = NUMBER, client: Client | None = None, **kwargs):
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "1" * 32,
        "From": number,
        "To": "+12035550100",
        "Body": body,
        "NumMedia": "0",
    }
    return twilio_post(client or Client(), INBOUND, params, **kwargs)


@pytest.fixture
def booked(twilio_settings, clinic):
    patient = book(clinic, "texter@example.org", NUMBER)
    reminder_sent(patient)
    return patient


@pytest.fixture
def after_reminder(booked):
    with time_machine.travel(AFTER_REMINDER, tick=False):
        yield booked


# --- Signatures --------------------------------------------------------------------------------


def test_an_unsigned_reply_is_refused_and_changes_nothing(after_reminder):
    response = reply("C", signed=False)

    assert response.status_code == 403
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.BOOKED


@pytest.mark.parametrize("how", ["tampered body", "wrong token", "other url"])
def test_a_tampered_or_wrongly_signed_reply_is_refused(after_reminder, how):
    params = {"MessageSid": "SM" + "2" * 32, "From": NUMBER, "Body": "C"}
    from tests.twilio_peer import signature

    sign_params, token, url = dict(params), "test-auth-token-0123456789abcdef", SITE + INBOUND
    if how == "tampered body":
        sign_params["Body"] = "hello"
    elif how == "wrong token":
        token = "another-accounts-token"
    else:
        url = SITE + "/sms/twilio/status/"
    response = Client().post(
        INBOUND, params, headers={"X-Twilio-Signature": signature(url, sign_params, token)}
    )

    assert response.status_code == 403
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.BOOKED


def test_a_refused_reply_is_logged_without_its_body(after_reminder, caplog):
    with caplog.at_level(logging.DEBUG):
        response = reply("my private words", signed=False)

    assert response.status_code == 403
    assert "my private words" not in caplog.text
    assert NUMBER not in caplog.text


def test_behind_the_proxy_the_signature_is_checked_against_the_public_url(after_reminder, settings):
    """Twilio signs the address it was given (SITE_URL); the proxy forwards to an internal host
    over plain HTTP. A request signed for the internal address is not Twilio's."""
    settings.ALLOWED_HOSTS = ["web", "testserver"]
    behind: dict[str, Any] = {"HTTP_HOST": "web:8000", "HTTP_X_FORWARDED_PROTO": "https"}

    internal = reply("C", signed_url="http://web:8000" + INBOUND, **behind)
    assert internal.status_code == 403

    public = reply("C", **behind)
    assert public.status_code == 200
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.CONFIRMED


def test_a_webhook_delivered_twice_with_one_idempotency_token_is_handled_once(after_reminder):
    first = reply("what time is parking open?", idempotency="token-1")
    second = reply("what time is parking open?", idempotency="token-1")

    assert first.status_code == second.status_code == 200
    unclear = tasks(cause="unclear_reply")
    assert len(unclear) == 1
    assert unclear[0].detail.count("parking") == 1


# --- Confirm -------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["C", "c", " c. ", "1", "YES", "yes"])
def test_c_1_or_yes_confirms_the_session_of_the_latest_reminder(after_reminder, word, login):
    response = reply(word)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert "confirmed" in response.content.decode()
    session = after_reminder.session
    session.refresh_from_db()
    assert session.status == Status.CONFIRMED
    # The other session of the series was not the reminder's.
    assert after_reminder.series.sessions.get(number=2).status == Status.BOOKED
    # Still opted in: YES with a reminder awaiting an answer is a confirmation.
    profile = PatientProfile.objects.get(user=after_reminder.patient)
    assert profile.sms_reminders is True


def test_a_confirmation_by_text_appears_on_the_series_page(after_reminder, login):
    reply("C")

    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    page = desk.get(f"/desk/series/{after_reminder.series.public_id}/").content.decode()

    assert "Confirmed by text" in page


# --- Reschedule or cancel ----------------------------------------------------------------------


@pytest.mark.parametrize("word", ["R", "r", "2"])
def test_r_or_2_asks_the_desk_to_reschedule_and_cancels_nothing(after_reminder, word):
    response = reply(word)

    assert response.status_code == 200
    session = after_reminder.session
    session.refresh_from_db()
    assert session.status == Status.BOOKED
    assert "Nothing is cancelled" in response.content.decode()
    assert "will call you" in response.content.decode()
    (task,) = tasks(cause="reschedule_request")
    assert task.queue == "desk" and task.status == "open"
    assert "Nothing was cancelled" in task.detail


def test_r_where_patients_change_online_answers_with_the_link_to_move_it(after_reminder):
    Location.objects.filter(pk=after_reminder.session.location_id).update(self_booking=True)

    response = reply("R")

    answer = response.content.decode()
    assert f"{SITE}/my-series/" in answer
    assert "Nothing is cancelled" in answer
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.BOOKED
    (task,) = tasks(cause="reschedule_request")
    assert task.status == "open"


def test_r_right_after_c_keeps_the_confirmed_appointment(after_reminder):
    reply("C")
    response = reply("R")

    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.CONFIRMED
    assert "Nothing is cancelled" in response.content.decode()
    (task,) = tasks(cause="reschedule_request")
    assert task.status == "open"


@pytest.mark.parametrize(
    ("moved_at", "expected_local"),
    [
        # Monday 11:00 in Stamford: the text goes at once.
        (AFTER_REMINDER, dt.datetime(2027, 3, 8, 11)),
        # Monday 22:00 in Stamford, quiet hours: the text waits for 08:00.
        (dt.datetime(2027, 3, 9, 3, tzinfo=dt.UTC), dt.datetime(2027, 3, 9, 8)),
    ],
)
def test_a_session_moved_inside_its_confirm_window_gets_its_reminder_at_once(
    booked, moved_at, expected_local
):
    from scheduling import services

    session = booked.session
    with time_machine.travel(moved_at, tick=False):
        services.move_sessions(
            session, services.Choice(dt.date(2027, 3, 10), dt.time(9)), moved_by=booked.patient
        )

    zone = session.location.zone
    (pending,) = Message.objects.filter(
        group=f"session:{session.pk}", kind="reminder", channel="sms", status="pending"
    )
    session.refresh_from_db()
    assert session.starts_at - moved_at < dt.timedelta(hours=48)
    assert pending.send_at == expected_local.replace(tzinfo=zone)


def test_r_too_late_to_cancel_online_opens_a_call_back_task_and_cancels_nothing(booked):
    with time_machine.travel(TOO_LATE_ONLINE, tick=False):
        response = reply("R")

    assert response.status_code == 200
    booked.session.refresh_from_db()
    assert booked.session.status == Status.BOOKED
    (task,) = tasks(cause="reschedule_request")
    assert "call" in task.detail.lower()
    assert CLINIC_PHONE in response.content.decode()


# --- Opt-out, opt-in, help ---------------------------------------------------------------------

OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]


@pytest.mark.parametrize("word", [*OPT_OUT, "stop", "Stop."])
def test_each_opt_out_word_withdraws_sms_consent_with_its_time_and_source(after_reminder, word):
    response = reply(word)

    assert response.status_code == 200
    assert "<Message>" not in response.content.decode()  # the provider answers opt-outs
    profile = PatientProfile.objects.get(user=after_reminder.patient)
    assert profile.sms_reminders is False
    assert profile.sms_withdrawn_at == AFTER_REMINDER
    assert word.strip(".").upper() in profile.sms_consent_source
    # CANCEL is an opt-out word, never a cancellation of the appointment.
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.BOOKED


def test_stop_ends_all_texts(after_reminder, mailoutbox):
    pending_texts = after_reminder.texts(channel="sms", status="pending")
    assert pending_texts

    reply("STOP")

    assert after_reminder.texts(channel="sms", status="pending") == []
    sent = send_due(dt.datetime(2027, 4, 30, tzinfo=dt.UTC))
    assert [m for m in sent if m.channel == "sms"] == []
    assert [m for m in sent if m.channel == "email"]  # email still goes out


@pytest.mark.parametrize("word", ["START", "UNSTOP", "YES", "start"])
def test_start_unstop_or_yes_with_nothing_to_confirm_re_consents(after_reminder, word):
    reply("STOP")
    with time_machine.travel(AFTER_REMINDER + dt.timedelta(minutes=5), tick=False):
        if word.upper() == "YES":
            # Nothing awaits an answer once the session is confirmed at the desk.
            after_reminder.series.sessions.update(status=Status.CONFIRMED)
        response = reply(word)

    assert response.status_code == 200
    profile = PatientProfile.objects.get(user=after_reminder.patient)
    assert profile.sms_reminders is True
    assert profile.sms_consent_at == AFTER_REMINDER + dt.timedelta(minutes=5)
    assert word.upper() in profile.sms_consent_source
    # The texts STOP cancelled are planned again.
    assert after_reminder.texts(channel="sms", status="pending")


@pytest.mark.parametrize("word", ["HELP", "INFO", "help"])
def test_help_answers_with_the_clinics_phone_unless_the_provider_answers(
    after_reminder, settings, word
):
    settings.SMS_PROVIDER_ANSWERS_HELP = True
    provider = reply(word)
    assert "<Message>" not in provider.content.decode()

    settings.SMS_PROVIDER_ANSWERS_HELP = False
    ours = reply(word)
    assert ours.status_code == 200
    assert CLINIC_PHONE in ours.content.decode()
    assert tasks(cause="unclear_reply") == []


# --- Anything else -----------------------------------------------------------------------------


def test_anything_else_opens_an_unclear_reply_task_and_a_second_joins_it(after_reminder):
    first = reply("can I bring my dog")
    reply("also is there parking")

    assert first.status_code == 200
    (task,) = tasks(cause="unclear_reply", status="open")
    assert task.queue == "desk"
    assert "dog" in task.detail and "parking" in task.detail
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.BOOKED


def test_an_unclear_reply_says_when_it_came_in_the_locations_time(after_reminder):
    reply("can I bring my dog")

    (task,) = tasks(cause="unclear_reply", status="open")
    # 16:00 UTC on 8 March 2027 is 11:00 in Stamford, still on standard time.
    assert task.detail.startswith("8 Mar 11:00 EST from "), task.detail
    assert "UTC" not in task.detail


def test_a_number_shared_by_two_patients_goes_to_the_one_whose_reminder_was_sent_last(
    twilio_settings, clinic
):
    shared = "+12035550122"
    earlier = book(clinic, "earlier@example.org", shared, days=(0, 2))
    later = book(clinic, "later@example.org", shared, days=(1, 5))
    reminder_sent(earlier)
    reminder_sent(later)

    with time_machine.travel(dt.datetime(2027, 3, 9, 16, tzinfo=dt.UTC) - dt.timedelta(hours=1)):
        response = reply("C", number=shared)

    assert response.status_code == 200
    later.session.refresh_from_db()
    earlier.session.refresh_from_db()
    assert later.session.status == Status.CONFIRMED
    assert earlier.session.status == Status.BOOKED


def test_a_shared_number_without_a_reminder_is_an_unclear_reply(twilio_settings, clinic):
    shared = "+12035550133"
    one = book(clinic, "one@example.org", shared, days=(0, 2))
    book(clinic, "two@example.org", shared, days=(1, 5))

    with time_machine.travel(dt.datetime(2027, 3, 2, 15, tzinfo=dt.UTC), tick=False):
        response = reply("C", number=shared)

    assert response.status_code == 200
    assert one.series.sessions.filter(status=Status.CONFIRMED).count() == 0
    assert len(tasks(cause="unclear_reply")) == 1


def test_a_reply_from_an_unknown_number_is_an_unclear_reply(after_reminder):
    response = reply("C", number="+14155550100")

    assert response.status_code == 200
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.BOOKED
    assert len(tasks(cause="unclear_reply")) == 1


# --- What the texts say ------------------------------------------------------------------------


def test_the_reminder_text_names_the_reply_words_and_never_asks_for_cancel(booked):
    reminder = Message.objects.get(
        group=f"session:{booked.session.pk}", kind="reminder", channel="sms"
    )

    assert reminder.status == MessageStatus.SENT
    assert "Reply C to confirm, R to reschedule" in reminder.body_text
    assert "CANCEL" not in reminder.body_text.upper()


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("Reply CANCEL to cancel your appointment.", True),
        ("{{ clinic }}: text END to stop.", True),
        ("{{ clinic }}: {{ when }}. Reply C to confirm, R to reschedule.", False),
        ("{{ clinic }}: {{ when }}. Reply STOP to stop texts.", False),
    ],
)
def test_a_location_cannot_set_a_text_that_asks_for_an_opt_out_word(clinic, login, text, refused):
    from scheduling.models import ReminderRule

    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    response = admin.post(
        f"/settings/{clinic.slug}/reminders/",
        {"kind": "reminder", "action": "save", "reminder-enabled": "on", "reminder-sms_text": text},
    )

    saved = ReminderRule.objects.filter(location=clinic, kind="reminder").first()
    if refused:
        assert response.status_code == 200
        assert "opting out" in response.content.decode()
        assert saved is None
    else:
        assert response.status_code == 302
        assert saved is not None and saved.sms_text == text


def test_without_an_auth_token_every_webhook_is_refused(after_reminder, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    response = reply("C", token="")

    assert response.status_code == 403
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.BOOKED


def test_a_spanish_speaking_patient_gets_the_answer_to_a_reply_in_spanish(after_reminder):
    PatientProfile.objects.filter(user=after_reminder.patient).update(preferred_language="es")

    response = reply("C")

    assert "gracias" in response.content.decode()
    assert "está confirmada" in response.content.decode()
    after_reminder.session.refresh_from_db()
    assert after_reminder.session.status == Status.CONFIRMED
