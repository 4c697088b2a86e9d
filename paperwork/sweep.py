"""The desk's worklist for estimates still owed (docs/paperwork.md#deadlines).

Every hour (beat) each open `EstimateDue` is tried again (the prices or identities may have been
set since), and one still owed whose deadline is within a business day, or past, opens the
desk's task "Good Faith Estimate not yet given" about its series (or patient). The task says
when it is due and why it could not be issued; it names no patient in its subject.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from paperwork import deadlines, estimates
from paperwork.models import EstimateDue
from worklist.models import Cause
from worklist.services import open_task


def open_estimate_tasks() -> int:
    """The number of owed estimates the desk's worklist shows."""
    shown = 0
    for due in EstimateDue.objects.open().select_related("location", "series", "patient"):
        with transaction.atomic():
            if estimates.retry_due(due) is not None:
                continue
        due.refresh_from_db()
        if due.estimate_id is not None or due.withdrawn_at is not None:
            continue
        today = due.location.local_today()
        if deadlines.add_business_days(due.location, today, 1) < due.due_on:
            continue
        late = due.due_on < today
        about = f"series:{due.series_id}" if due.series_id else f"patient:{due.patient_id}"
        open_task(
            Cause.ESTIMATE_DUE,
            about,
            subject=("Overdue" if late else "Due")
            + f": Good Faith Estimate by {due.due_on:%d %b %Y}",
            detail=due.problem or "Not issued yet.",
            link=reverse("scheduling:patient", args=[due.patient.public_id]),
            location_pk=due.location_id,
            urgent=late,
        )
        shown += 1
    return shown
