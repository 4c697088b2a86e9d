"""The Celery app. Tasks take primary keys only and are safe to run twice (see STYLE.md)."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from django.db import transaction

logger = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

# Every queue a task is routed to (CELERY_TASK_ROUTES), the default one last. A worker started
# with all of them (`-Q messages,booking,reports,celery`) does every kind of work.
QUEUES = ("messages", "booking", "reports", "payments", "celery")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Send a task once the transaction commits; a broker outage must not fail the request.

    Every task sent this way has a row in PostgreSQL that a periodic sweep re-sends if this
    message is lost, so logging the failure is enough here.
    """

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False)
        except Exception:  # kombu raises several types; none may reach the user
            logger.warning("could not enqueue %s; the periodic sweep will retry", task.name)

    transaction.on_commit(send)
