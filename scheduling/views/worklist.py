"""The staff worklists, the desk's and the clinicians' (the worklist app; its tasks are opened by
messaging.staff_tasks, intake's submit and scheduling's services)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import works_at
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from clinic.querystrings import query_form, read_query
from locations.models import Location
from scheduling.forms import TaskFilterForm
from scheduling.views.roles import clinicians_only, desk_only
from worklist import services as worklist
from worklist.forms import DoneForm
from worklist.models import Queue, Task

TASK_PAGES: dict[str, str] = {
    Queue.DESK: "scheduling:desk_tasks",
    Queue.CLINICAL: "scheduling:review_tasks",
}


def _task_or_404(request: AuthenticatedRequest, queue: str, public_id: UUID) -> Task:
    """An open task of this worklist that the reader's list shows; a task of the other one, or
    of another location, is not found from here."""
    return get_object_or_404(_tasks(request, queue), public_id=public_id)


def _tasks(request: AuthenticatedRequest, queue: str) -> QuerySet[Task]:
    """The open tasks of this worklist at the reader's locations (any for a clinic admin), and
    those about no location (docs/security.md#which-locations-patients-each-role-sees)."""
    tasks = Task.objects.open().in_queue(queue)
    if request.user.role == Role.CLINIC_ADMIN:
        return tasks  # works_at is Q() for them, which an OR would drop
    return tasks.filter(works_at(request.user, "location_pk") | Q(location_pk__isnull=True))


def _task_list(
    request: AuthenticatedRequest,
    queue: str,
    *,
    failed: UUID | None = None,
    done_form: DoneForm | None = None,
) -> HttpResponse:
    filters = read_query(request, TaskFilterForm)
    tasks = _tasks(request, queue).select_related("assigned_to")
    if filters["location"] is not None:
        tasks = tasks.filter(location_pk=filters["location"].pk)
    if filters["kind"]:
        tasks = tasks.filter(cause=filters["kind"])
    if filters["mine"]:
        tasks = tasks.filter(assigned_to=request.user)
    shown = list(tasks[:200])
    locations = Location.objects.in_bulk({t.location_pk for t in shown if t.location_pk})
    return render(
        request,
        "scheduling/tasks.html",
        {
            "queue": queue,
            "title": "Tasks for the front desk" if queue == Queue.DESK else "Tasks for clinicians",
            "page": TASK_PAGES[queue],
            "rows": [(task, locations.get(task.location_pk or 0)) for task in shown],
            "filter_form": TaskFilterForm(request.GET or None),
            "failed": failed,
            "done_form": done_form,
        },
    )


def _assign(request: AuthenticatedRequest, queue: str, public_id: UUID) -> HttpResponse:
    task = _task_or_404(request, queue, public_id)
    worklist.assign(task, request.user)
    messages.success(request, "Assigned to you.")
    return redirect(TASK_PAGES[queue])


def _done(request: AuthenticatedRequest, queue: str, public_id: UUID) -> HttpResponse:
    task = _task_or_404(request, queue, public_id)
    form = DoneForm(request.POST)
    if not form.is_valid():
        return _task_list(request, queue, failed=task.public_id, done_form=form)
    worklist.close_task(task, request.user, form.cleaned_data["note"])
    messages.success(request, f"Done: {task.get_cause_display()}.")
    return redirect(TASK_PAGES[queue])


@query_form(TaskFilterForm)
@desk_only
def desk_tasks(request: AuthenticatedRequest) -> HttpResponse:
    return _task_list(request, Queue.DESK)


@desk_only
@require_POST
def desk_task_assign(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _assign(request, Queue.DESK, public_id)


@desk_only
@require_POST
def desk_task_done(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _done(request, Queue.DESK, public_id)


@query_form(TaskFilterForm)
@clinicians_only
def review_tasks(request: AuthenticatedRequest) -> HttpResponse:
    return _task_list(request, Queue.CLINICAL)


@clinicians_only
@require_POST
def review_task_assign(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _assign(request, Queue.CLINICAL, public_id)


@clinicians_only
@require_POST
def review_task_done(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _done(request, Queue.CLINICAL, public_id)
