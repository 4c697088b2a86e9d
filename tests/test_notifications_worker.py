"""The outbox with real Celery workers, real Redis and a real SMTP peer: on time, nothing lost,
repeats only within the bound the README states."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
from celery import Celery
from django.db.models import Q
from django.utils import timezone

from bench.smtp_peer import SmtpPeer
from clinic.embedded import EmbeddedRedis
from notifications import services as outbox
from notifications.models import Message, MessageStatus
from notifications.tasks import BATCH, dispatch_due

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


# Messages written complete (a kind with no resolver), so these tests are about delivery only.
KIND = "notice"


def _make(count: int, *, due: bool = True, sms_every: int = 4) -> list[Message]:
    now = timezone.now()
    return [
        outbox.enqueue(
            channel="sms" if n % sms_every == 0 else "email",
            kind=KIND,
            group=f"test:{n}",
            recipient="+12035550100" if n % sms_every == 0 else f"p{n}@example.org",
            send_at=now - dt.timedelta(seconds=5) if due else now + dt.timedelta(hours=1),
            subject="Reminder",
            body_text=f"Message {n}",
        )
        for n in range(count)
    ]


def _wait_until(condition, timeout: float = 60, worker=None, beat: float | None = None) -> None:
    """Poll `condition` until `timeout`; with `beat`, tick the dispatcher every `beat` seconds as
    Celery beat does in production (a batch cut short by its time limit is claimed again then)."""
    deadline = time.monotonic() + timeout
    next_tick = time.monotonic() + (beat or 0)
    while not condition():
        if worker is not None:
            assert worker.process.poll() is None, worker.log.read_text()[-3000:]
        assert time.monotonic() < deadline, "timed out"
        if beat is not None and time.monotonic() >= next_tick:
            dispatch_due.delay()
            next_tick = time.monotonic() + beat
        time.sleep(0.05)


@pytest.fixture
def smtp_peer():
    peer = SmtpPeer().start()
    yield peer
    peer.stop()


def _deliveries(peer: SmtpPeer, *workers) -> Counter[str]:
    """Every delivery that reached the SMTP peer or the SMS file, by message public id,
    duplicates included."""
    counts: Counter[str] = Counter()
    for email in peer.messages:
        counts[email["Message-ID"].strip("<>").split("@")[0]] += 1
    for sms_dir in {worker.sms_dir for worker in workers}:  # a restarted worker shares it
        log = sms_dir / "deliveries.log"
        if log.exists():
            counts.update(line.removesuffix(".json") for line in log.read_text().split())
    return counts


def _in_flight_claims_are_stale() -> bool:
    """Nothing claimed within NOTIFICATIONS_REQUEUE_AFTER (3 s here) nor taken by a task within
    NOTIFICATIONS_SENDING_TIMEOUT (10 s here): the sweep takes every row left behind."""
    now = timezone.now()
    return not Message.objects.filter(
        Q(status="queued", claimed_at__gte=now - dt.timedelta(seconds=3))
        | Q(status="sending", claimed_at__gte=now - dt.timedelta(seconds=10))
    ).exists()


def test_due_messages_go_out_once_over_one_smtp_connection_per_batch(start_worker, smtp_peer):
    worker = start_worker(**smtp_peer.env())
    due = _make(40)
    later = _make(5, due=False)

    dispatch_due.delay()  # what beat does every minute

    sent = Message.objects.filter(status=MessageStatus.SENT)
    _wait_until(lambda: sent.count() == 40, worker=worker)
    assert all(m.status == "pending" for m in Message.objects.filter(pk__in=[m.pk for m in later]))
    counts = _deliveries(smtp_peer, worker)
    assert counts == Counter({str(m.public_id): 1 for m in due})
    assert smtp_peer.connections == 1  # 30 emails in one batch of 40
    for message in Message.objects.filter(status="sent"):
        assert message.sent_at is not None
        assert message.sent_at >= message.send_at


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_what_was_in_flight(
    start_worker, smtp_peer
):
    concurrency = 2
    env = {
        "WORKER_POOL": "prefork",
        "WORKER_CONCURRENCY": str(concurrency),
        "NOTIFICATIONS_REQUEUE_AFTER": "3",
        "NOTIFICATIONS_SENDING_TIMEOUT": "10",
        **smtp_peer.env(),
    }
    worker = start_worker("first", **env)
    messages = _make(400)

    dispatch_due.delay()
    sent = Message.objects.filter(status=MessageStatus.SENT)
    _wait_until(lambda: sent.count() >= 20, worker=worker)
    worker.kill()
    interrupted = sent.count()
    assert interrupted < 400, "the batch finished before the kill; make it larger"

    restarted = start_worker("first", **env)
    _wait_until(_in_flight_claims_are_stale, worker=restarted)
    dispatch_due.delay()
    _wait_until(lambda: sent.count() == 400, timeout=90, worker=restarted, beat=5)

    assert Message.objects.exclude(status="sent").count() == 0
    counts = _deliveries(smtp_peer, worker, restarted)
    assert set(counts) == {str(m.public_id) for m in messages}  # nothing lost
    repeated = sum(n - 1 for n in counts.values())
    assert repeated <= concurrency * BATCH  # at most what was in flight at the kill


def test_redis_restarted_empty_loses_nothing(start_worker, tmp_path, smtp_peer):
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

    worker = start_worker(
        "after-restart",
        REDIS_URL=url,
        NOTIFICATIONS_REQUEUE_AFTER="2",
        NOTIFICATIONS_SENDING_TIMEOUT="10",
        **smtp_peer.env(),
    )
    _wait_until(_in_flight_claims_are_stale, worker=worker)
    app.send_task("notifications.tasks.dispatch_due")  # the next beat tick
    _wait_until(lambda: Message.objects.filter(status="sent").count() == 30, worker=worker)
    assert _deliveries(smtp_peer, worker) == Counter({str(m.public_id): 1 for m in messages})
    broker.stop()


def test_a_cancelled_message_is_never_sent(start_worker, smtp_peer):
    worker = start_worker(**smtp_peer.env())
    keep, drop = _make(2, sms_every=99)
    outbox.cancel_group(drop.group)

    dispatch_due.delay()
    _wait_until(lambda: Message.objects.filter(status="sent").count() == 1, worker=worker)

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert (keep.status, drop.status) == ("sent", "cancelled")
    assert _deliveries(smtp_peer, worker) == Counter({str(keep.public_id): 1})


def test_a_message_goes_out_at_its_instant_not_before(start_worker, smtp_peer):
    worker = start_worker(**smtp_peer.env())
    message = outbox.enqueue(
        channel="email",
        kind=KIND,
        group="test:instant",
        recipient="p@example.org",
        send_at=timezone.now() + dt.timedelta(seconds=4),
        subject="Reminder",
        body_text="Soon",
    )
    (marker,) = _make(1, sms_every=99)  # due now: shows when the early tick has run

    dispatch_due.delay()  # too early for the message
    _wait_until(lambda: Message.objects.get(pk=marker.pk).status == "sent", worker=worker)
    message.refresh_from_db()
    assert message.status == "pending"
    _wait_until(lambda: timezone.now() >= message.send_at)
    dispatch_due.delay()  # the next tick after the instant
    _wait_until(lambda: Message.objects.get(pk=message.pk).status == "sent", worker=worker)

    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.send_at <= message.sent_at <= message.send_at + dt.timedelta(seconds=60)
