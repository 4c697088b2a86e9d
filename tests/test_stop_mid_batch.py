"""A STOP reply that commits while a batch of texts is going out stops the texts after it.

A real Celery worker sends a batch through the real Twilio backend and SDK to the local stand-in
of Twilio's API (tests/twilio_peer.py); while the stand-in takes one of the texts, the patient's
STOP arrives by the signed inbound webhook and commits, and only then is that text answered.
The worker sends one text at a time, so every text it hands over after that answer was started
after the STOP committed: none of them may reach the provider.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import PatientProfile, Role, User
from notifications import services as outbox
from notifications.models import Message, MessageStatus
from notifications.tasks import dispatch_due
from tests.factories import UserFactory
from tests.twilio_peer import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SITE,
    FakeTwilio,
    Received,
    start_fake_twilio,
    twilio_post,
)

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

STOPPING = "+12035550181"
OTHER = "+12035550182"
INBOUND = "/sms/twilio/inbound/"


@pytest.fixture
def fake_twilio(settings):
    settings.SITE_URL = SITE
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    fake, server = start_fake_twilio()
    yield fake
    server.shutdown()
    server.server_close()


def _patient(number: str) -> User:
    patient = UserFactory.create(role=Role.PATIENT)
    PatientProfile.objects.create(
        user=patient,
        date_of_birth=dt.date(1980, 1, 1),
        mobile_phone=number,
        sms_reminders=True,
        sms_consent_at=timezone.now(),
    )
    return patient


def _texts(number: str, count: int) -> list[Message]:
    """Texts written complete (a kind with no resolver): the check at delivery is all there is."""
    return [
        outbox.enqueue(
            channel="sms",
            kind="notice",
            group=f"test:{number}:{n}",
            recipient=number,
            send_at=timezone.now() - dt.timedelta(seconds=5),
            body_text=f"Message {n}",
        )
        for n in range(count)
    ]


def _stop_while_taking(fake: FakeTwilio, nth: int) -> dict[str, float]:
    """While the provider takes the `nth` text to STOPPING, the patient replies STOP (the signed
    inbound webhook, committed); the text is answered after. Returns when the STOP committed."""
    seen = {"count": 0}
    moments: dict[str, float] = {}
    lock = threading.Lock()

    def on_receive(received: Received) -> None:
        if received.form.get("To") != STOPPING:
            return
        with lock:
            seen["count"] += 1
            if seen["count"] != nth:
                return
        try:
            response = twilio_post(
                Client(),
                INBOUND,
                {
                    "MessageSid": "SM" + "5" * 32,
                    "From": STOPPING,
                    "To": "+12035550100",
                    "Body": "STOP",
                },
            )
            assert response.status_code == 200
            moments["stop_committed"] = time.monotonic()
        finally:
            connection.close()  # this thread's own connection

    fake.on_receive = on_receive
    return moments


def _wait_until(condition, worker, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.process.poll() is None, worker.log.read_text()[-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_no_text_reaches_the_provider_after_a_stop_reply_commits_mid_batch(
    start_worker, fake_twilio
):
    worker = start_worker(
        SMS_BACKEND="tests.sms_backends.LocalTwilioSmsBackend",
        TWILIO_TEST_API_URL=fake_twilio.url,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER="+12035550100",
        SITE_URL=SITE,
    )
    stopping, other = _patient(STOPPING), _patient(OTHER)
    # One batch of 60: the stopping number's texts come first (by send time), the other's after.
    texts = _texts(STOPPING, 30) + _texts(OTHER, 30)
    moments = _stop_while_taking(fake_twilio, nth=5)

    dispatch_due.delay()
    settled = Message.objects.filter(pk__in=[m.pk for m in texts]).exclude(
        status__in=[MessageStatus.PENDING, MessageStatus.QUEUED, MessageStatus.SENDING]
    )
    _wait_until(lambda: settled.count() == len(texts), worker)

    # The STOP was recorded, mid-batch.
    profile = PatientProfile.objects.get(user=stopping)
    assert (profile.sms_reminders, profile.sms_consent_source) == (False, "replied STOP by text")
    committed = moments["stop_committed"]
    to_stopping = [r for r in fake_twilio.requests if r.form["To"] == STOPPING]
    # Nothing reached the provider for that number once the STOP had committed ...
    assert [r.form["Body"] for r in to_stopping if r.at > committed] == []
    assert len(to_stopping) == 5
    # ... while the other patient's texts went on after it.
    assert len([r for r in fake_twilio.requests if r.form["To"] == OTHER and r.at > committed]) > 0

    stopped = Message.objects.filter(recipient=STOPPING)
    assert stopped.filter(status=MessageStatus.SENT).count() == 5
    skipped = stopped.filter(status=MessageStatus.SKIPPED)
    assert skipped.count() == 25
    # Recorded as not sent, never handed over, not to be retried.
    assert set(skipped.values_list("last_error", "attempts", "provider_id")) == {
        ("not sent: the number opted out of texts", 0, "")
    }
    assert set(Message.objects.filter(recipient=OTHER).values_list("status", flat=True)) == {
        MessageStatus.SENT
    }
    assert PatientProfile.objects.get(user=other).sms_reminders is True


def test_a_shared_number_gets_texts_while_one_of_its_patients_consents_and_none_after_stop():
    from accounts import consent

    _patient(STOPPING)
    household = UserFactory.create(role=Role.PATIENT)
    PatientProfile.objects.create(
        user=household, date_of_birth=dt.date(2010, 1, 1), mobile_phone=STOPPING
    )  # said no to texts at the intake
    assert consent.texts_refused(STOPPING) == ""
    assert consent.texts_refused("+12035550199") == ""  # no patient's number: not ours to judge

    consent.withdraw_sms_consent(STOPPING, "replied STOP by text")
    assert consent.texts_refused(STOPPING) == "the number opted out of texts"

    consent.restore_sms_consent(STOPPING, "replied START by text")
    assert consent.texts_refused(STOPPING) == ""
    assert not PatientProfile.objects.get(user=household).sms_reminders
