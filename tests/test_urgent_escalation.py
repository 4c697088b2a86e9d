"""The urgent path end to end with a real Celery worker on real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from bench.smtp_peer import SmtpPeer, _Keeper
from intake import services as intake_services
from intake.models import UrgentFlag
from intake.tasks import sweep_urgent_flags
from notifications import services as outbox
from notifications.models import Message, MessageStatus
from notifications.tasks import dispatch_due
from review import services
from review.models import ProtocolTemplate
from tests.crashable_postgres import postgres_of_its_own
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import fill_intake
from tests.servers import free_port
from worklist.models import Task

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team():
    stamford = LocationFactory.create(slug="stamford", name="Stamford")
    irvine = LocationFactory.create(slug="irvine", name="Irvine", time_zone="America/Los_Angeles")
    here = UserFactory.create(role=Role.CLINICIAN, email="stamford.doc@example.org")
    here.locations.set([stamford])
    elsewhere = UserFactory.create(role=Role.CLINICIAN, email="irvine.doc@example.org")
    elsewhere.locations.set([irvine])
    return here, elsewhere


def _wait_until_notified(flag: UrgentFlag, timeout: float = 10) -> None:
    """The flag is marked notified right after its email is recorded sent, which is just after
    the email arrives."""
    deadline = time.monotonic() + timeout
    while UrgentFlag.objects.get(pk=flag.pk).notified_at is None:
        assert time.monotonic() < deadline, "the flag was not marked notified"
        time.sleep(0.1)


def test_an_urgent_intake_notifies_the_locations_clinicians_and_blocks_booking(
    celery_worker, team, login
):
    here, _elsewhere = team
    patient = UserFactory.create(role=Role.PATIENT, email="urgent.patient@example.org")
    draft = fill_intake(patient, changes={"mood": {"phq9_9": "2"}})
    patient_client = login(patient)

    started = time.monotonic()
    response = patient_client.post(reverse("intake:submit", args=[draft.public_id]))
    assert response.status_code == 302

    mails = celery_worker.wait_for_mail(1, timeout=60)
    elapsed = time.monotonic() - started
    assert elapsed < 60
    assert "To: stamford.doc@example.org" in mails[0]
    assert "irvine.doc@example.org" not in "".join(mails)
    # The message names no patient: only the location and a link with an opaque id.
    assert "Avery" not in mails[0] and "Testperson" not in mails[0]
    assert str(draft.public_id) in mails[0]
    flag = UrgentFlag.objects.get(intake=draft)
    _wait_until_notified(flag)

    # The in-app notice on the clinician's home page.
    queue = login(here).get(reverse("review:queue")).content.decode()
    assert "Urgent safety flags waiting for acknowledgement (1)" in queue

    template = ProtocolTemplate.objects.get(is_default=True)
    draft.refresh_from_db()
    services.approve(draft, here, {f: getattr(template, f) for f in services.PLAN_FIELDS})
    with pytest.raises(services.NotBookable):
        services.assert_bookable(patient)

    services.acknowledge(flag, here, "Spoke with the patient; safety plan in place.")
    assert services.assert_bookable(patient).patient == patient

    # A duplicate task finds the notification done and sends nothing more.
    from intake.tasks import notify_urgent_flag

    notify_urgent_flag.delay(flag.pk)
    # The worker takes tasks in order: once a later flag's notice has arrived, the duplicate
    # has run too.
    other = fill_intake(UserFactory.create(role=Role.PATIENT))
    other.refresh_from_db()
    later = UrgentFlag.objects.create(intake=other, patient=other.patient, location=other.location)
    notify_urgent_flag.delay(later.pk)
    mails = celery_worker.wait_for_mail(2)
    assert len(mails) == 2
    assert [str(draft.public_id) in mail for mail in mails].count(True) == 1
    assert [str(other.public_id) in mail for mail in mails].count(True) == 1


def test_the_sweep_resends_a_notification_whose_message_was_lost(celery_worker, team):
    patient = UserFactory.create(role=Role.PATIENT)
    intake = fill_intake(patient)
    intake.refresh_from_db()  # the services saved its location on their own copy
    # A flag whose task never reached the broker (Redis was down at submit time).
    flag = UrgentFlag.objects.create(intake=intake, patient=patient, location=intake.location)
    UrgentFlag.objects.filter(pk=flag.pk).update(raised_at=timezone.now() - dt.timedelta(minutes=2))

    sweep_urgent_flags.delay()

    mails = celery_worker.wait_for_mail(1, timeout=60)
    assert len(mails) == 1
    assert "stamford.doc@example.org" in mails[0]
    _wait_until_notified(flag)


def _urgent_draft(email: str = "urgent.patient@example.org"):
    patient = UserFactory.create(role=Role.PATIENT, email=email)
    return fill_intake(patient, changes={"mood": {"phq9_9": "2"}})


def test_the_urgent_email_is_an_outbox_row_written_in_the_flags_transaction(team):
    draft = _urgent_draft()
    with pytest.raises(RuntimeError), transaction.atomic():
        intake_services.submit(draft)
        raise RuntimeError("the submission fails after the flag was raised")
    assert not UrgentFlag.objects.exists()
    assert not Message.objects.exists()

    intake_services.submit(draft)

    flag = UrgentFlag.objects.get(intake=draft)
    (message,) = Message.objects.filter(group=f"flag:{flag.pk}")
    assert (message.channel, message.kind, message.status) == ("email", "urgent_flag", "pending")
    assert message.recipient == "stamford.doc@example.org"  # the location's clinicians only
    assert message.send_at <= timezone.now()
    # It names no patient: the location and a link with an opaque id.
    words = message.subject + message.body_text + message.body_html
    assert draft.patient.last_name not in words and draft.patient.first_name not in words
    assert "urgent.patient" not in words
    assert "Stamford" in message.subject
    assert reverse("review:summary", args=[draft.public_id]) in message.body_text
    assert flag.notified_at is None  # notified once it is sent, not before


def test_an_urgent_email_is_retried_then_given_up_on_the_failed_page_with_tasks(
    team, settings, login
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    draft = _urgent_draft()
    intake_services.submit(draft)
    flag = UrgentFlag.objects.get(intake=draft)
    message = Message.objects.get(group=f"flag:{flag.pk}")

    assert outbox.send_batch(outbox.claim_due()) == {"retry": 1}
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "cannot connect: ConnectionRefusedError"
    assert message.send_at > timezone.now()  # backed off

    Message.objects.filter(pk=message.pk).update(send_at=timezone.now())
    assert outbox.send_batch(outbox.claim_due()) == {"failed": 1}
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 2)
    flag.refresh_from_db()
    assert flag.notified_at is None

    page = login(UserFactory.create(role=Role.FRONT_DESK)).get(
        reverse("scheduling:failed_messages")
    )
    assert page.status_code == 200
    assert "Urgent flag notice to clinicians" in page.content.decode()
    desk = Task.objects.get(cause="message_failed", about=f"flag:{flag.pk}")
    assert (desk.queue, desk.urgent, desk.link, desk.location_pk) == (
        "desk",
        True,
        reverse("scheduling:failed_messages"),
        flag.location_id,
    )
    assert desk.subject == "Urgent safety flag at Stamford"
    assert "gave up after 2 attempts" in desk.detail
    assert draft.patient.last_name not in desk.subject + desk.detail
    clinical = Task.objects.get(cause="urgent_flag", about=f"flag:{flag.pk}")
    assert clinical.link == reverse("review:summary", args=[draft.public_id])
    assert "email to the clinicians could not be sent" in clinical.detail


class _HoldingKeeper(_Keeper):
    """Holds the next message at the end of its DATA, before answering, until let go."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = threading.Event()
        self.held = threading.Event()
        self.released = threading.Event()
        self.accept = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold.is_set():
            self.hold.clear()
            self.held.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            self.released.clear()
            if not self.accept:
                return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


class _HoldingPeer(SmtpPeer):
    def __init__(self) -> None:
        super().__init__()
        from aiosmtpd.controller import Controller

        self.holding = _HoldingKeeper()
        self.keeper = self.holding
        self.controller = Controller(self.holding, hostname=self.host, port=self.port)

    def hold_next(self) -> None:
        # A held session whose client died was cancelled with it, and left its release unused.
        self.holding.released.clear()
        self.holding.held.clear()
        self.holding.hold.set()

    def let_go(self, *, accept: bool) -> None:
        self.holding.accept = accept
        self.holding.released.set()


def _tick_until(condition, worker, timeout: float = 90) -> None:
    """Tick the dispatcher every second, as beat does every minute, until `condition`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.process.poll() is None, worker.log.read_text()[-3000:]
        assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
        dispatch_due.delay()
        time.sleep(1)


def test_the_urgent_email_arrives_though_the_worker_is_killed_and_postgresql_crashes_mid_send(
    start_worker, team
):
    peer = _HoldingPeer()
    peer.start()
    try:
        with postgres_of_its_own() as postgres:
            env = {
                **peer.env(),
                "DATABASE_URL": postgres.url,
                "NOTIFICATIONS_REQUEUE_AFTER": "2",
                "NOTIFICATIONS_SENDING_TIMEOUT": "5",
            }
            first = start_worker("first", **env)
            draft = _urgent_draft()
            peer.hold_next()
            intake_services.submit(draft)  # the row, and the dispatcher told on commit
            flag = UrgentFlag.objects.get(intake=draft)
            message = Message.objects.get(group=f"flag:{flag.pk}")

            # The worker is in the middle of the SMTP conversation: it is killed.
            assert peer.holding.held.wait(60), first.log.read_text()[-3000:]
            message.refresh_from_db()
            assert message.status == "sending"
            first.kill()
            peer.let_go(accept=False)
            assert peer.messages == []

            # Another worker takes it again; while the server holds it, PostgreSQL crashes, and
            # the server then takes it: the worker cannot record that it went.
            second = start_worker("second", **env)
            peer.hold_next()
            _tick_until(peer.holding.held.is_set, second)
            postgres.crash()
            peer.let_go(accept=True)
            peer.wait_for(1)

            # The crash came between the delivery and its record.
            _tick_until(lambda: "server closed the connection" in second.log.read_text(), second)

            # It is sent again once its claim is stale, and recorded sent.
            sent = Message.objects.filter(pk=message.pk, status=MessageStatus.SENT)
            _tick_until(sent.exists, second)
            message.refresh_from_db()
            mails = peer.messages
            # The same Message-ID each time: the receiver can tell the repeat.
            assert {mail["Message-ID"].split("@")[0] for mail in mails} == {f"<{message.public_id}"}
            # At least once: the copy taken during the crash and the one sent after it.
            assert len(mails) == 2
            assert {mail["To"] for mail in mails} == {"stamford.doc@example.org"}
            assert message.attempts == 1 and message.sent_at is not None
            _wait_until_notified(flag)
    finally:
        peer.stop()
