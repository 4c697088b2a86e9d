"""The outbox with real Celery workers and real Redis: on time, exactly once, crash-proof."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
from celery import Celery
from django.utils import timezone

from clinic.embedded import EmbeddedRedis
from notifications import services as outbox
from notifications.models import Message, MessageStatus
from notifications.tasks import dispatch_due

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def _make(count: int, *, due: bool = True, sms_every: int = 4) -> list[Message]:
    now = timezone.now()
    return [
        outbox.enqueue(
            channel="sms" if n % sms_every == 0 else "email",
            kind="reminder",
            group=f"test:{n}",
            recipient="+12035550100" if n % sms_every == 0 else f"p{n}@example.org",
            send_at=now - dt.timedelta(seconds=5) if due else now + dt.timedelta(hours=1),
            subject="Reminder",
            body_text=f"Message {n}",
        )
        for n in range(count)
    ]


def _wait_until(condition, timeout: float = 60, worker=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker is not None:
            assert worker.process.poll() is None, worker.log.read_text()[-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


def _delivered_once(worker, messages: list[Message]) -> None:
    counts = Counter(worker.deliveries())
    for message in messages:
        names = [name for name in counts if str(message.public_id) in name]
        assert len(names) == 1, message.pk
        assert counts[names[0]] == 1, (message.pk, counts[names[0]])


def test_due_messages_go_out_once_and_future_ones_wait(start_worker):
    worker = start_worker()
    due = _make(40)
    later = _make(5, due=False)

    dispatch_due.delay()  # what beat does every minute

    sent = Message.objects.filter(status=MessageStatus.SENT)
    _wait_until(lambda: sent.count() == 40, worker=worker)
    assert all(m.status == "pending" for m in Message.objects.filter(pk__in=[m.pk for m in later]))
    _delivered_once(worker, due)
    for message in Message.objects.filter(status="sent"):
        assert message.sent_at is not None
        assert message.sent_at >= message.send_at


def test_a_worker_killed_mid_batch_and_restarted_sends_everything_exactly_once(start_worker):
    env = {"WORKER_POOL": "prefork", "WORKER_CONCURRENCY": "2", "NOTIFICATIONS_REQUEUE_AFTER": "3"}
    worker = start_worker("first", **env)
    messages = _make(400)

    dispatch_due.delay()
    sent = Message.objects.filter(status=MessageStatus.SENT)
    _wait_until(lambda: sent.count() >= 20, worker=worker)
    worker.kill()
    interrupted = sent.count()
    assert interrupted < 400, "the batch finished before the kill; make it larger"

    restarted = start_worker("first", **env)
    time.sleep(3.5)  # past NOTIFICATIONS_REQUEUE_AFTER: claimed rows whose tasks died
    dispatch_due.delay()
    _wait_until(lambda: sent.count() == 400, timeout=90, worker=restarted)

    assert Message.objects.exclude(status="sent").count() == 0
    _delivered_once(restarted, messages)


def test_redis_restarted_empty_loses_nothing(start_worker, tmp_path):
    broker = EmbeddedRedis(tmp_path / "redis")
    url = broker.start()
    app = Celery("probe", broker=url, set_as_current=False)
    messages = _make(30)

    # The dispatcher claims the rows and hands their ids to Redis ...
    ids = outbox.claim_due()
    app.send_task("notifications.tasks.send_messages", args=[ids])
    assert Message.objects.filter(status="queued").count() == 30
    # ... and Redis restarts with nothing in it: the sending task is gone.
    broker.stop()
    for path in (tmp_path / "redis").iterdir():
        path.unlink()
    url = broker.start()
    app = Celery("probe", broker=url, set_as_current=False)

    worker = start_worker("after-restart", REDIS_URL=url, NOTIFICATIONS_REQUEUE_AFTER="2")
    time.sleep(2.5)
    app.send_task("notifications.tasks.dispatch_due")  # the next beat tick
    _wait_until(lambda: Message.objects.filter(status="sent").count() == 30, worker=worker)
    _delivered_once(worker, messages)
    broker.stop()


def test_a_cancelled_message_is_never_sent(start_worker):
    worker = start_worker()
    keep, drop = _make(2)
    outbox.cancel_group(drop.group)

    dispatch_due.delay()
    _wait_until(lambda: Message.objects.filter(status="sent").count() == 1, worker=worker)
    time.sleep(1)

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert (keep.status, drop.status) == ("sent", "cancelled")
    assert not [line for line in worker.deliveries() if str(drop.public_id) in line]


def test_a_message_goes_out_at_its_instant_not_before(start_worker):
    worker = start_worker()
    message = outbox.enqueue(
        channel="email",
        kind="reminder",
        group="test:instant",
        recipient="p@example.org",
        send_at=timezone.now() + dt.timedelta(seconds=4),
        subject="Reminder",
        body_text="Soon",
    )

    dispatch_due.delay()  # too early: nothing is due yet
    time.sleep(2)
    message.refresh_from_db()
    assert message.status == "pending"
    time.sleep(3)
    dispatch_due.delay()  # the next tick after the instant
    _wait_until(lambda: Message.objects.get(pk=message.pk).status == "sent", worker=worker)

    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.send_at <= message.sent_at <= message.send_at + dt.timedelta(seconds=60)
