"""Background work of the intake: the urgent-flag notices of flags that have none."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from intake import notifications
from intake.models import UrgentFlag

# A flag not notified this long after it was raised is looked at by the sweep.
SWEEP_AFTER = dt.timedelta(seconds=20)


@shared_task
def notify_urgent_flag(flag_id: int) -> int:
    """Write the notice of a flag that has none; the outbox sends it. Kept under this name for
    the tasks a broker may still hold from before notices were outbox rows."""
    return notifications.plan_missing_notice(flag_id)


@shared_task
def sweep_urgent_flags() -> int:
    """Every minute: flags not notified yet whose notice was never written. A notice that was
    written is the outbox's to deliver (it re-claims rows a dead worker left behind)."""
    due = UrgentFlag.objects.filter(
        notified_at__isnull=True, raised_at__lte=timezone.now() - SWEEP_AFTER
    ).values_list("pk", flat=True)
    return sum(notifications.plan_missing_notice(flag_id) for flag_id in due)
