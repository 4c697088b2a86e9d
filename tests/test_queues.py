"""Tasks go to queues by kind of work, so a slow mail server delays only mail
(docs/operations.md#queues)."""

from __future__ import annotations

import time

import pytest

from clinic.celery import QUEUES, app

EXPECTED = {
    "notifications.tasks": "messages",
    "scheduling.tasks": "booking",
    "intake.tasks": "celery",
    "accounts.tasks": "celery",
    # Drawing PDFs is slow work: the reports workers do it (docs/operations.md#queues).
    "paperwork.tasks": "reports",
    "billing.tasks": "payments",
}


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_each_task_module_routes_its_tasks_to_the_queue_of_its_kind_of_work():
    app.loader.import_default_modules()
    names = [name for name in app.tasks if not name.startswith("celery.")]
    assert names, "no task registered"
    for name in names:
        module = name.rsplit(".", 1)[0]
        assert module in EXPECTED, f"{name} has no intended queue in this test"
        assert _queue_of(name) == EXPECTED[module], name
    # Every module is represented: a renamed module would otherwise fall to the default queue.
    assert {name.rsplit(".", 1)[0] for name in names} == set(EXPECTED)


def test_reports_work_has_its_own_queue():
    assert _queue_of("outcomes.tasks.export_outcomes") == "reports"
    assert _queue_of("fhir.tasks.export_bundle") == "reports"
    assert _queue_of("paperwork.tasks.store_estimate_pdf") == "reports"


def test_every_routed_queue_is_one_the_workers_consume():
    from django.conf import settings

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} == set(QUEUES)


def _waiting(queue: str) -> int:
    with app.connection_for_write() as connection:
        return connection.default_channel.client.llen(queue)  # type: ignore[attr-defined]  # Redis channel


@pytest.mark.django_db(transaction=True)
def test_a_booking_worker_runs_booking_tasks_while_messages_wait(start_worker):
    worker = start_worker("booking", WORKER_QUEUES="booking")
    from notifications.tasks import dispatch_due
    from scheduling.tasks import release_expired_holds

    dispatch_due.delay()
    result = release_expired_holds.delay()

    deadline = time.monotonic() + 30
    while f"{result.id}] succeeded".encode() not in worker.log.read_bytes():
        assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
        time.sleep(0.2)
    # Still queued for a messages worker (other work of the run may have queued more there).
    assert _waiting("messages") >= 1
    assert b"Task notifications.tasks.dispatch_due" not in worker.log.read_bytes()
