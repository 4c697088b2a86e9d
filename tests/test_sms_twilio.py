"""Texts through the twilio SDK and Twilio's delivery-status callbacks
(docs/reminders.md#two-way-texts-twilio).

The SDK talks real HTTP to a local stand-in of Twilio's API in a thread of this process
(tests/twilio_peer.py); callbacks are POSTed signed as Twilio signs them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts.models import PatientProfile
from notifications import services as outbox
from notifications.models import Message, MessageStatus
from tests import sms_world
from tests.sms_world import (
    STATUS,
    book,
    reminder_sent,
)
from tests.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, SITE, start_fake_twilio, twilio_post

pytestmark = pytest.mark.django_db

# The shared fixtures of the SMS tests.
clinic = sms_world.clinic
twilio_settings = sms_world.twilio_settings

NUMBER = "+12035550144"


def tasks(**filters):
    from worklist.models import Task

    return list(Task.objects.filter(**filters))


@pytest.fixture
def fake_twilio(twilio_settings):
    fake, server = start_fake_twilio()
    twilio_settings.TWILIO_TEST_API_URL = fake.url
    twilio_settings.SMS_BACKEND = "tests.sms_backends.LocalTwilioSmsBackend"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def booked(fake_twilio, clinic):
    return book(clinic, "delivery@example.org", NUMBER)


def callback(
    message: Message,
    status: str,
    *,
    error: str = "",
    idempotency: str | None = None,
    signed_url: str | None = None,
    **kw,
):
    """Twilio's status callback for `message`, to the URL it was given when sending."""
    url = message.status_callback_url
    params = {
        "MessageSid": message.provider_id,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": ACCOUNT_SID,
        "To": message.recipient,
        "From": "+12035550100",
        "ApiVersion": "2010-04-01",
    }
    if error:
        params["ErrorCode"] = error
    parts = urlsplit(url)
    path = parts.path + "?" + parts.query
    return twilio_post(
        Client(), path, params, signed_url=signed_url or url, idempotency=idempotency, **kw
    )


def test_a_text_goes_out_through_the_twilio_sdk_with_a_status_callback(booked, fake_twilio):
    reminder = reminder_sent(booked)

    sent = [r for r in fake_twilio.requests if r.form["Body"] == reminder.body_text]
    assert len(sent) == 1
    request = sent[0]
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.credentials == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.form["To"] == NUMBER
    assert request.form["From"] == "+12035550100"
    callback_url = urlsplit(request.form["StatusCallback"])
    assert f"{callback_url.scheme}://{callback_url.netloc}" == SITE
    assert callback_url.path == STATUS
    assert parse_qs(callback_url.query) == {"message": [str(reminder.public_id)]}
    assert reminder.provider_id.startswith("SM")
    assert reminder.delivery_status == "queued"


def test_a_provider_outage_is_retried_and_a_refused_number_fails_with_a_desk_task(
    booked, fake_twilio
):
    fake_twilio.errors[NUMBER] = (503, 20500)
    text = outbox.enqueue(
        channel="sms",
        kind="notice",
        group="g",
        recipient=NUMBER,
        send_at=dt.datetime.now(dt.UTC),
        body_text="x",
    )
    outbox.claim_due()
    assert outbox.send(text.pk) == "retry"

    fake_twilio.errors[NUMBER] = (400, 21211)  # an invalid 'To' number
    Message.objects.filter(pk=text.pk).update(send_at=dt.datetime.now(dt.UTC))
    outbox.claim_due()
    assert outbox.send(text.pk) == "failed"
    text.refresh_from_db()
    assert "21211" in text.last_error
    assert len(tasks(cause="message_failed")) == 1


def test_error_21610_on_sending_records_withdrawn_consent_not_a_failure(booked, fake_twilio):
    fake_twilio.errors[NUMBER] = (400, 21610)
    confirmation = Message.objects.get(kind="confirmation", channel="sms")
    moment = dt.datetime(2027, 3, 1, 15, 5, tzinfo=dt.UTC)

    with time_machine.travel(moment, tick=False):
        outbox.send_batch(outbox.claim_due())

    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.SKIPPED
    assert "opted out" in confirmation.last_error
    profile = PatientProfile.objects.get(user=booked.patient)
    assert profile.sms_reminders is False
    assert profile.sms_withdrawn_at == moment
    assert "21610" in profile.sms_consent_source
    assert tasks(cause="message_failed") == []
    assert booked.texts(channel="sms", status="pending") == []


def test_delivery_status_only_moves_forward_when_callbacks_arrive_out_of_order(booked):
    reminder = reminder_sent(booked)

    for status in ["delivered", "sent", "queued", "undelivered"]:
        assert callback(reminder, status).status_code == 200
        reminder.refresh_from_db()
        assert reminder.delivery_status == "delivered"
    assert tasks() == []


def test_status_moves_from_queued_to_sent_to_delivered(booked):
    reminder = reminder_sent(booked)
    seen = []
    for status in ["sent", "delivered"]:
        callback(reminder, status)
        reminder.refresh_from_db()
        seen.append(reminder.delivery_status)

    assert seen == ["sent", "delivered"]


def test_an_undelivered_text_falls_back_to_email_when_the_email_copy_did_not_go(booked):
    # The email copy was not sent (the patient had declined email then); they agree now.
    PatientProfile.objects.filter(user=booked.patient).update(email_reminders=False)
    reminder = reminder_sent(booked)
    PatientProfile.objects.filter(user=booked.patient).update(email_reminders=True)
    mail.outbox.clear()

    assert reminder.sent_at is not None
    with time_machine.travel(reminder.sent_at + dt.timedelta(minutes=2), tick=False):
        response = callback(reminder, "undelivered", error="30003")
        outbox.send_batch(outbox.claim_due())

    assert response.status_code == 200
    reminder.refresh_from_db()
    assert reminder.delivery_status == "undelivered"
    assert reminder.delivery_error == "30003"
    fallback = Message.objects.get(kind="reminder", channel="email", status="sent")
    assert fallback.context.get("fallback_for") == str(reminder.public_id)
    assert [m.to for m in mail.outbox] == [[booked.patient.email]]
    (task,) = tasks(cause="undelivered_text")
    assert task.queue == "desk" and "email" in task.detail


def test_an_undelivered_text_sends_no_second_email_when_the_email_copy_went(booked):
    reminder = reminder_sent(booked)
    emails = Message.objects.filter(kind="reminder", channel="email").count()

    callback(reminder, "failed", error="30008")

    assert Message.objects.filter(kind="reminder", channel="email").count() == emails
    (task,) = tasks(cause="undelivered_text")
    assert "already" in task.detail


def test_an_undelivered_text_without_email_consent_only_opens_a_task(booked):
    PatientProfile.objects.filter(user=booked.patient).update(email_reminders=False)
    reminder = reminder_sent(booked)
    emails = Message.objects.filter(channel="email").exclude(status="skipped").count()

    callback(reminder, "undelivered", error="30005")

    assert Message.objects.filter(channel="email").exclude(status="skipped").count() == emails
    (task,) = tasks(cause="undelivered_text")
    assert "no consent" in task.detail


def test_a_repeated_callback_is_handled_once_by_its_idempotency_token(booked):
    PatientProfile.objects.filter(user=booked.patient).update(email_reminders=False)
    reminder = reminder_sent(booked)
    PatientProfile.objects.filter(user=booked.patient).update(email_reminders=True)
    token = uuid.uuid4().hex

    first = callback(reminder, "undelivered", error="30003", idempotency=token)
    # A task closed in between would be opened again by a second handling.
    from worklist.models import Task

    Task.objects.update(status="done", note="called the patient", closed_at=dt.datetime.now(dt.UTC))
    again = callback(reminder, "undelivered", error="30003", idempotency=token)

    assert first.status_code == again.status_code == 200
    fallbacks = Message.objects.filter(group=reminder.group, kind="reminder", channel="email")
    assert fallbacks.filter(status="pending").count() == 1
    assert Task.objects.filter(status="open").count() == 0


def test_error_21610_in_a_callback_withdraws_consent_and_is_not_a_failure(booked):
    reminder = reminder_sent(booked)

    callback(reminder, "failed", error="21610")

    reminder.refresh_from_db()
    assert reminder.delivery_status == "opted_out"
    profile = PatientProfile.objects.get(user=booked.patient)
    assert profile.sms_reminders is False and "21610" in profile.sms_consent_source
    assert tasks() == []


@pytest.mark.parametrize("how", ["unsigned", "tampered", "wrong token"])
def test_a_status_callback_without_a_valid_signature_is_refused(booked, how):
    reminder = reminder_sent(booked)
    choices: dict[str, dict[str, Any]] = {
        "unsigned": {"signed": False},
        "tampered": {"signed_url": reminder.status_callback_url + "x"},
        "wrong token": {"token": "not-the-auth-token"},
    }
    kwargs = choices[how]

    response = callback(reminder, "undelivered", error="30003", **kwargs)

    assert response.status_code == 403
    reminder.refresh_from_db()
    assert reminder.delivery_status == "queued"
    assert tasks() == []


def test_idempotency_tokens_are_forgotten_after_a_week(booked):
    from notifications.models import WebhookReceipt
    from notifications.tasks import prune_webhook_receipts

    reminder = reminder_sent(booked)
    callback(reminder, "sent")
    WebhookReceipt.objects.create(token="old")
    WebhookReceipt.objects.filter(token="old").update(
        received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    )

    assert prune_webhook_receipts() == 1
    assert WebhookReceipt.objects.count() == 1
