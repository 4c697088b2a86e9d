"""The patient page: one page per patient for the desk, with what clinicians and nurses may see.

Who sees what (docs/roles/front-desk.md#the-patient-page): the desk (front desk and clinic
admins) sees contact, intake status, the plan's schedule facts, series, messages by status, the
desk's tasks and notes; clinicians also see the dose, the link to the intake summary and their
own tasks; nurses of a location where the patient has a session see the dose, as on the chart.
The insurance card follows its own rule: front desk and clinicians (docs/security.md#uploads).
No role reads a message's text here. Every read and every note is audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language_info
from django.views.decorators.http import require_http_methods

from accounts.access import role_required
from accounts.models import PatientProfile, Role, User
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from intake import services as intake_services
from intake.models import Intake, UrgentFlag
from locations.models import Location
from notifications.models import Message, MessageStatus
from review.models import TreatmentPlan
from scheduling import access
from scheduling.forms import PatientNoteForm
from scheduling.models import PatientNote, Series, Session, Visit
from scheduling.patient_panels import panels_for
from worklist.models import Queue, Task

DESK = (Role.FRONT_DESK, Role.CLINIC_ADMIN)
# Messages that will never go (a move or cancellation replaced them, or a rule skipped them).
FOLDED: tuple[str, ...] = (MessageStatus.CANCELLED, MessageStatus.SKIPPED)
# What the page reads of a message: its status, never its text (docs/security.md#least-privilege).
MESSAGE_FIELDS = (
    "kind",
    "channel",
    "group",
    "send_at",
    "status",
    "delivery_status",
    "delivery_error",
    "last_error",
)
TASK_QUEUE = {
    Role.FRONT_DESK: Queue.DESK,
    Role.CLINIC_ADMIN: Queue.DESK,
    Role.CLINICIAN: Queue.CLINICAL,
}


@role_required(*DESK, Role.CLINICIAN, Role.NURSE)
@require_http_methods(["GET", "POST"])
def patient_page(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    patient = access.get_patient_for(
        request, public_id, User.objects.select_related("patient_profile__preferred_location")
    )
    form = PatientNoteForm()
    if request.method == "POST":
        if request.user.role not in DESK:
            raise PermissionDenied  # notes are the desk's to write
        form = PatientNoteForm(request.POST)
        if form.is_valid():
            note = PatientNote.objects.create(
                patient=patient, author=request.user, text=form.cleaned_data["text"]
            )
            audit.record(request, "create", "patient_note", note.pk, patient.pk, "desk note")
            messages.success(request, "Note added.")
            return redirect("scheduling:patient", public_id=patient.public_id)
    audit.record(request, "read", "patient", patient.public_id, patient.pk, "patient page")
    return render(request, "scheduling/patient_page.html", _context(request, patient, form))


def _context(request: AuthenticatedRequest, patient: User, form: PatientNoteForm) -> dict[str, Any]:
    role = request.user.role
    profile: PatientProfile | None = getattr(patient, "patient_profile", None)
    intake = Intake.objects.filter(patient=patient).order_by("-version").first()
    reviewed = (
        intake
        if intake is None or not intake.is_draft
        else Intake.objects.submitted().filter(patient=patient).order_by("-version").first()
    )
    series = list(
        Series.objects.filter(patient=patient).select_related("location").order_by("-created_at")
    )
    sessions = list(
        Session.objects.filter(patient=patient)
        .select_related("location", "chair", "nurse", "series")
        .order_by("starts_at")
    )
    by_series: dict[int, list[Session]] = defaultdict(list)
    for session in sessions:
        by_series[session.series_id].append(session)
    for one in series:
        one.session_list = by_series[one.pk]  # type: ignore[attr-defined]  # for the template
    visits = list(
        Visit.objects.filter(patient=patient)
        .select_related("location", "clinician")
        .order_by("starts_at")
    )
    return {
        "patient": patient,
        "profile": profile,
        "language": _language(profile.preferred_language if profile else ""),
        "intake": intake,
        "summary_intake": reviewed if role == Role.CLINICIAN else None,
        "plan": TreatmentPlan.objects.filter(patient=patient).order_by("-approved_at").first(),
        "clinical": role in (Role.CLINICIAN, Role.NURSE),
        "clinician": role == Role.CLINICIAN,
        "desk": role in DESK,
        "card": (
            intake_services.insurance_card(reviewed.public_id)
            if reviewed is not None and role in (Role.FRONT_DESK, Role.CLINICIAN)
            else None
        ),
        "series_list": series,
        "timeline": _timeline(sessions, visits),
        "outbox": _messages(series, sessions, visits),
        "tasks": _tasks(patient, series, sessions, role),
        "notes": list(PatientNote.objects.filter(patient=patient).select_related("author")[:50]),
        "form": form,
        "zone": request.user.time_zone(),
        "panels": panels_for(request, patient),
    }


def _language(code: str) -> str:
    if not code:
        return ""
    try:
        return str(get_language_info(code)["name"])
    except KeyError:
        return "Another language"


@dataclass(frozen=True)
class MessageRow:
    message: Message
    session: Session | None  # None for a message about the whole series
    location: Location  # whose zone its time is read in


@dataclass(frozen=True)
class TimelineRow:
    """One appointment of the patient's timeline: an infusion or a visit with a clinician."""

    starts_at: Any
    location: Location
    what: str
    who: str
    status: str
    link: str
    is_visit: bool = False


def _timeline(sessions: list[Session], visits: list[Visit]) -> list[TimelineRow]:
    """Sessions and visits in one line of time (docs/visits.md#the-patient-page)."""
    rows = [
        TimelineRow(
            s.starts_at,
            s.location,
            f"Infusion {s.number}",
            s.nurse.get_short_name(),
            s.get_status_display(),
            reverse("scheduling:series", args=[s.series.public_id]),
        )
        for s in sessions
    ]
    rows += [
        TimelineRow(
            v.starts_at,
            v.location,
            f"{v.get_kind_display()} visit ({v.where()})",
            v.clinician.get_full_name() or v.clinician.email,
            v.get_status_display(),
            reverse("scheduling:visit", args=[v.public_id]),
            is_visit=True,
        )
        for v in visits
    ]
    return sorted(rows, key=lambda row: row.starts_at)


def _messages(
    series: list[Series], sessions: list[Session], visits: list[Visit] | None = None
) -> dict[str, list[MessageRow]]:
    """The outbox rows about the patient's series, sessions and visits, as the series page lists
    them: what, how, when and its status; those that will never go folded apart."""
    about: dict[str, tuple[Location, Session | None]] = {
        f"series:{one.pk}": (one.location, None) for one in series
    }
    about.update({f"session:{s.pk}": (s.location, s) for s in sessions})
    about.update({f"visit:{v.pk}": (v.location, None) for v in visits or []})
    rows = [
        MessageRow(message, about[message.group][1], about[message.group][0])
        for message in Message.objects.filter(group__in=list(about))
        .only(*MESSAGE_FIELDS)
        .order_by("send_at")
    ]
    return {
        "live": [row for row in rows if row.message.status not in FOLDED],
        "folded": [row for row in rows if row.message.status in FOLDED],
    }


def _tasks(patient: User, series: list[Series], sessions: list[Session], role: str) -> list[Task]:
    """The open tasks of the viewer's own list that are about this patient: keyed by the patient,
    one of their series or sessions, or (for clinicians) one of their urgent flags."""
    queue = TASK_QUEUE.get(Role(role))
    if queue is None:
        return []
    keys = [f"patient:{patient.pk}"]
    keys += [f"series:{one.pk}" for one in series]
    keys += [f"session:{s.pk}" for s in sessions]
    if queue == Queue.CLINICAL:
        flags = UrgentFlag.objects.filter(patient=patient).values_list("pk", flat=True)
        keys += [f"flag:{pk}" for pk in flags]
    return list(Task.objects.open().in_queue(queue).filter(about__in=keys))


def patients_named(tasks: Iterable[Task]) -> dict[int, UUID]:
    """The patient each task is about, by task, for the worklist's links to the patient page: a
    task keyed `patient:<pk>`, `series:<pk>` or `session:<pk>`; three queries at most."""
    wanted: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for task in tasks:
        kind, _, key = task.about.partition(":")
        if kind in ("patient", "series", "session") and key.isdigit():
            wanted[kind][int(key)].append(task.pk)
    found: dict[int, UUID] = {}
    sources = {
        "patient": User.objects.filter(role=Role.PATIENT).values_list("pk", "public_id"),
        "series": Series.objects.values_list("pk", "patient__public_id"),
        "session": Session.objects.values_list("pk", "patient__public_id"),
    }
    for kind, tasks_by_pk in wanted.items():
        for object_pk, public_id in sources[kind].filter(pk__in=list(tasks_by_pk)):
            for task_pk in tasks_by_pk[object_pk]:
                found[task_pk] = public_id
    return found
