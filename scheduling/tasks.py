"""Periodic scheduling work."""

from __future__ import annotations

from celery import shared_task

from scheduling import services, staff_tasks


@shared_task
def release_expired_holds() -> int:
    """Every minute: offers not taken in time go to the next patient waiting."""
    return services.release_expired_holds()


@shared_task
def open_follow_up_tasks() -> int:
    """Hourly: a clinicians' task for each series over with nothing booked next."""
    return staff_tasks.open_follow_up_tasks()
