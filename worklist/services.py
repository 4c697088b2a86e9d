"""Opening, assigning and closing worklist tasks."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils import timezone

from worklist.models import QUEUE_OF, Task, TaskStatus


def open_task(
    cause: str,
    about: str,
    *,
    subject: str = "",
    detail: str = "",
    link: str = "",
    location_pk: int | None = None,
    urgent: bool = False,
) -> Task:
    """The open task of `cause` about `about`, opened now if there is none; safe to call again.

    The insert skips a conflict with the partial unique constraint (one open task per cause and
    subject), so two callers at once still make one task. A `detail` given to a task already
    open is added to it (a second unclear reply joins the first).
    """
    with transaction.atomic():
        Task.objects.bulk_create(
            [
                Task(
                    queue=QUEUE_OF[cause],
                    cause=cause,
                    about=about,
                    subject=subject[:200],
                    detail=detail,
                    link=link[:200],
                    location_pk=location_pk,
                    urgent=urgent,
                )
            ],
            ignore_conflicts=True,
        )
        task = Task.objects.select_for_update().open().get(cause=cause, about=about)
        if detail and detail not in task.detail:
            Task.objects.filter(pk=task.pk).update(detail=Concat("detail", Value("\n" + detail)))
            task.refresh_from_db(fields=["detail"])
    return task


def ever_opened(cause: str, about: str) -> bool:
    """Whether a task of `cause` about `about` was ever opened, done ones included: a periodic
    check asks this so that it does not bring back what someone already dealt with."""
    return Task.objects.filter(cause=cause, about=about).exists()


def assign(task: Task, user: Any) -> bool:
    """Assign an open task to `user` ("assign to me"); False if it is closed."""
    return bool(Task.objects.open().filter(pk=task.pk).update(assigned_to=user))


def close_task(task: Task, user: Any, note: str) -> bool:
    """Done, with a note saying what was done; True if this call closed it.

    Closing a task never changes what it is about: an urgent flag keeps its own acknowledgement
    (with its own note) on the intake summary.
    """
    if not note.strip():
        raise ValueError("Say what was done.")
    return bool(
        Task.objects.open()
        .filter(pk=task.pk)
        .update(status=TaskStatus.DONE, closed_at=timezone.now(), closed_by=user, note=note.strip())
    )


def close_open_task(cause: str, about: str, user: Any, note: str) -> bool:
    """Close the open task of `cause` about `about`, if there is one, with `note`: for the app
    where the task's subject was dealt with (an acknowledged flag closes its task)."""
    task = Task.objects.open().filter(cause=cause, about=about).first()
    return task is not None and close_task(task, user, note)
