"""Periodic messaging work."""

from __future__ import annotations

from celery import shared_task

from messaging import booster_messages, staff_tasks


# Named as it was when it lived in scheduling: beat's schedule and queued messages carry the
# name, and CELERY_TASK_ROUTES sends it to the booking queue by it (docs/operations.md#queues).
@shared_task(name="scheduling.tasks.open_follow_up_tasks")
def open_follow_up_tasks() -> int:
    """Hourly: a clinicians' task for each series over with nothing booked next."""
    return staff_tasks.open_follow_up_tasks()


@shared_task(name="scheduling.tasks.remind_due_boosters")
def remind_due_boosters() -> int:
    """Daily: tell patients whose booster may now be booked (docs/visits.md#boosters)."""
    return booster_messages.remind_due_boosters()
