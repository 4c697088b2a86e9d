"""Background work of the intake: telling clinicians about urgent safety flags at once."""

from __future__ import annotations

import datetime as dt
import smtplib

from celery import shared_task
from django.utils import timezone

from intake import notifications
from intake.models import UrgentFlag

# A flag not notified this long after it was raised is sent again by the sweep.
SWEEP_AFTER = dt.timedelta(seconds=20)


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=6,
)
def notify_urgent_flag(flag_id: int) -> bool:
    return notifications.notify_urgent_flag(flag_id)


@shared_task
def sweep_urgent_flags() -> int:
    """Every minute: re-send notifications that were lost (broker down, worker killed)."""
    due = UrgentFlag.objects.filter(
        notified_at__isnull=True, raised_at__lte=timezone.now() - SWEEP_AFTER
    ).values_list("pk", flat=True)
    count = 0
    for flag_id in due:
        notify_urgent_flag.delay(flag_id)
        count += 1
    return count
