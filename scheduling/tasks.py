"""Periodic scheduling work."""

from __future__ import annotations

from celery import shared_task

from scheduling import services


@shared_task
def release_expired_holds() -> int:
    """Every minute: offers not taken in time go to the next patient waiting."""
    return services.release_expired_holds()
