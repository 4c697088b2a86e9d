"""Visits' pages (docs/visits.md): the desk books, moves and cancels them; clinicians and the desk
mark them held or missed; a patient sees their own visit with its video link and, where the
location allows it, books one online."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from accounts.access import get_seen_or_404, role_required
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from clinic.querystrings import query_form, read_query
from locations.models import Location
from review.models import TreatmentPlan
from scheduling import access, boosters, services, visits
from scheduling.models import Series, Visit, VisitKind, VisitMode, VisitStatus
from scheduling.services import SchedulingError
from scheduling.views.roles import desk_only, patient_only
from scheduling.visit_forms import (
    MoveVisitForm,
    SlotForm,
    VisitForm,
    _local_instant,
    clinicians,
)

SLOT_DAYS = 14
desk_or_clinician = role_required(Role.FRONT_DESK, Role.CLINIC_ADMIN, Role.CLINICIAN)


class BookVisitQuery(forms.Form):
    """?kind=follow_up&series=<id>: what the worklist's follow-up task asks for."""

    kind = forms.ChoiceField(choices=VisitKind.choices, required=False)
    series = forms.UUIDField(required=False)


def _patient_or_404(request: AuthenticatedRequest, public_id: UUID) -> User:
    return access.get_patient_for(
        request, public_id, User.objects.select_related("patient_profile__preferred_location")
    )


def _default_location(patient: User, series: Series | None) -> Location | None:
    if series is not None:
        return series.location
    profile = getattr(patient, "patient_profile", None)
    return profile.preferred_location if profile is not None else None


@query_form(BookVisitQuery)
@desk_or_clinician
@require_http_methods(["GET", "POST"])
def book_visit(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The desk (or a clinician, from the follow-up task) books an evaluation or a follow-up
    for a patient, from the free slots shown or a time it types; a refusal says why and keeps
    what was typed."""
    patient = _patient_or_404(request, public_id)
    query = read_query(request, BookVisitQuery)
    series = None
    if query["series"]:
        series = Series.objects.filter(public_id=query["series"], patient=patient).first()
    has_plan = TreatmentPlan.objects.filter(patient=patient).exists()
    kind = query["kind"] or (VisitKind.FOLLOW_UP if has_plan else VisitKind.EVALUATION)
    location = _default_location(patient, series)
    initial: dict[str, Any] = {
        "kind": kind,
        "location": location,
        "minutes": visits.DEFAULT_MINUTES[VisitKind(kind)],
        "mode": VisitMode.ROOM,
    }
    form = VisitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = visits.book_visit(
                visits.VisitRequest(
                    patient=patient,
                    clinician=data["clinician"],
                    location=data["location"],
                    kind=data["kind"],
                    starts_at=data["starts_at"],
                    minutes=data["minutes"],
                    mode=data["mode"],
                    room=data["room"],
                    series=series,
                ),
                booked_by=request.user,
            )
        except SchedulingError as error:
            form.add_error(None, str(error))
        else:
            audit.record(request, "create", "visit", visit.public_id, patient.pk, "visit booked")
            messages.success(request, "Visit booked.")
            return redirect("scheduling:visit", public_id=visit.public_id)
    slots: list[visits.VisitSlot] = []
    if location is not None:
        today = location.local_today()
        slots = visits.free_slots(
            location,
            patient,
            today,
            today + dt.timedelta(days=SLOT_DAYS),
            minutes=initial["minutes"],
            limit=12,
        )
    names = {c.pk: c.get_full_name() or c.email for c in clinicians()}
    return render(
        request,
        "scheduling/visits/book.html",
        {
            "patient": patient,
            "form": form,
            "location": location,
            "slots": [
                {
                    "clinician_id": slot.clinician_id,
                    "clinician": names.get(slot.clinician_id, ""),
                    "local": slot.starts_at.astimezone(location.zone) if location else None,
                }
                for slot in slots
            ],
            "kind": kind,
            "minutes": initial["minutes"],
            "series": series,
        },
    )


def _visit_for_staff(request: AuthenticatedRequest, public_id: UUID) -> Visit:
    """A visit of a patient the reader sees
    (docs/security.md#which-locations-patients-each-role-sees)."""
    return get_seen_or_404(
        request,
        Visit.objects.select_related("patient", "clinician", "location", "series"),
        public_id=public_id,
    )


@desk_or_clinician
@require_http_methods(["GET", "POST"])
def visit_detail(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """One visit for the desk and clinicians: move, cancel, or mark it held or missed."""
    visit = _visit_for_staff(request, public_id)
    move_form = MoveVisitForm(
        request.POST if request.POST.get("action") == "move" else None,
        initial={"day": visit.local_start().date(), "time": visit.local_start().time()},
    )
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "cancel":
                visits.cancel_visit(visit, reason=request.POST.get("reason", ""))
                messages.success(request, "Visit cancelled.")
            elif action in (VisitStatus.HELD, VisitStatus.NO_SHOW):
                visits.set_outcome(visit, action)
                messages.success(request, "Visit recorded.")
            elif action == "move" and move_form.is_valid():
                starts = _local_instant(
                    visit.location, move_form.cleaned_data["day"], move_form.cleaned_data["time"]
                )
                if starts is None:
                    raise visits.VisitRefused("That time does not exist on that day.")
                visits.move_visit(visit, starts)
                messages.success(request, "Visit moved.")
            elif action != "move":
                raise Http404
            else:
                return _detail(request, visit, move_form)
        except SchedulingError as error:
            messages.error(request, str(error))
        else:
            audit.record(request, "update", "visit", visit.public_id, visit.patient_id, action)
        return redirect("scheduling:visit", public_id=visit.public_id)
    audit.record(request, "read", "visit", visit.public_id, visit.patient_id, "visit page")
    return _detail(request, visit, move_form)


def _detail(request: AuthenticatedRequest, visit: Visit, move_form: MoveVisitForm) -> HttpResponse:
    return render(
        request,
        "scheduling/visits/detail.html",
        {"visit": visit, "move_form": move_form, "video_url": visit.video_url()},
    )


def _own_visit(request: AuthenticatedRequest, public_id: UUID) -> Visit:
    """The signed-in patient's visit, or 404 (another patient's visit is not found)."""
    return get_object_or_404(
        Visit.objects.select_related("location", "clinician"),
        public_id=public_id,
        patient=request.user,
    )


@patient_only
def my_visit(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The patient's own visit: when and where, and for a video visit its room's link once it
    opens (before that, when it opens) (docs/visits.md#video-visits); move and cancel where the
    rule allows it, else why not (docs/visits.md#patients-change-their-visits)."""
    visit = _own_visit(request, public_id)
    now = timezone.now()
    return render(
        request,
        "scheduling/visits/mine.html",
        {
            "visit": visit,
            "video": visit.mode == VisitMode.VIDEO,
            "link_open": visit.video_link_open(now),
            "video_url": visit.video_url() if visit.video_link_open(now) else "",
            "opens_at": visit.video_opens_at(),
            "ended": visit.ends_at <= now or not visit.is_active,
            "change_refusal": visits.online_change_refusal(visit, now),
        },
    )


@patient_only
@require_http_methods(["GET", "POST"])
def my_visit_cancel(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The patient cancels their visit online; the GET asks first and changes nothing."""
    visit = _own_visit(request, public_id)
    refusal = visits.online_change_refusal(visit, timezone.now())
    if request.method == "GET":
        return render(
            request, "scheduling/visits/cancel_mine.html", {"visit": visit, "refusal": refusal}
        )
    try:
        visits.cancel_by_patient(visit)
    except SchedulingError as error:
        messages.warning(request, str(error))
    else:
        audit.record(request, "update", "visit", visit.public_id, visit.patient_id, "cancel")
        messages.success(request, gettext("Your visit is cancelled. The clinic has been told."))
    return redirect("scheduling:my_visit", public_id=visit.public_id)


@patient_only
@require_http_methods(["GET", "POST"])
def my_visit_move(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The patient moves their visit to a free time of the same clinician, from the page's own
    list of times, under the online rule (docs/visits.md#patients-change-their-visits)."""
    visit = _own_visit(request, public_id)
    refusal = visits.online_change_refusal(visit, timezone.now())
    if refusal:
        return render(
            request,
            "scheduling/visits/move_mine.html",
            {"visit": visit, "location": visit.location, "refusal": refusal},
        )
    error = ""
    if request.method == "POST":
        form = SlotForm(request.POST)
        if form.is_valid():
            try:
                visits.move_by_patient(visit, form.cleaned_data["starts_at"])
            except SchedulingError as refused:
                error = str(refused)
            else:
                audit.record(request, "update", "visit", visit.public_id, visit.patient_id, "move")
                messages.success(request, gettext("Your visit is moved. The clinic has been told."))
                return redirect("scheduling:my_visit", public_id=visit.public_id)
        else:
            error = gettext("Choose one of the times shown.")
    location = visit.location
    today = location.local_today()
    minutes = int((visit.ends_at - visit.starts_at).total_seconds() // 60)
    slots = visits.free_slots(
        location,
        request.user,
        today + dt.timedelta(days=1),
        today + dt.timedelta(days=SLOT_DAYS),
        minutes=minutes,
        clinician=visit.clinician,
        limit=20,
    )
    return render(
        request,
        "scheduling/visits/move_mine.html",
        {
            "visit": visit,
            "location": location,
            "error": error,
            "slots": [
                {
                    "clinician_id": slot.clinician_id,
                    "value": slot.starts_at.isoformat(),
                    "local": slot.starts_at.astimezone(location.zone),
                }
                for slot in slots
                if slot.starts_at != visit.starts_at
            ],
        },
    )


@patient_only
@require_http_methods(["GET", "POST"])
def self_book_visit(request: AuthenticatedRequest) -> HttpResponse:
    """A patient books their own visit at their location, where it allows it: an evaluation
    before any plan, a follow-up after."""
    patient = request.user
    profile = getattr(patient, "patient_profile", None)
    location = profile.preferred_location if profile is not None else None
    if location is None or not location.visits_self_booking:
        return render(request, "scheduling/visits/self_book.html", {"closed": True})
    kind = (
        VisitKind.FOLLOW_UP
        if TreatmentPlan.objects.filter(patient=patient).exists()
        else VisitKind.EVALUATION
    )
    minutes = visits.DEFAULT_MINUTES[kind]
    error = ""
    if request.method == "POST":
        form = SlotForm(request.POST)
        if form.is_valid():
            clinician = User.objects.filter(
                pk=form.cleaned_data["clinician"], role=Role.CLINICIAN
            ).first()
            if clinician is None:
                error = gettext("Choose one of the times shown.")
            else:
                try:
                    visit = visits.book_visit(
                        visits.VisitRequest(
                            patient=patient,
                            clinician=clinician,
                            location=location,
                            kind=kind,
                            starts_at=form.cleaned_data["starts_at"],
                            minutes=minutes,
                        ),
                        booked_by=patient,
                    )
                except SchedulingError as refusal:
                    error = str(refusal)
                else:
                    messages.success(request, gettext("Your visit is booked."))
                    return redirect("scheduling:my_visit", public_id=visit.public_id)
        else:
            error = gettext("Choose one of the times shown.")
    today = location.local_today()
    slots = visits.free_slots(
        location,
        patient,
        today + dt.timedelta(days=1),
        today + dt.timedelta(days=SLOT_DAYS),
        minutes=minutes,
        limit=20,
    )
    return render(
        request,
        "scheduling/visits/self_book.html",
        {
            "closed": False,
            "location": location,
            "kind": kind,
            "error": error,
            "slots": [
                {
                    "clinician_id": slot.clinician_id,
                    "value": slot.starts_at.isoformat(),
                    "local": slot.starts_at.astimezone(location.zone),
                }
                for slot in slots
            ],
        },
    )


# Boosters (docs/visits.md#boosters) ------------------------------------------------------------


class BoosterChoiceForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))


@desk_only
def booster_list(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The desk's list of boosters due soon or overdue at a location, with a link to book."""
    location = get_object_or_404(Location, slug=slug, is_active=True)
    today = location.local_today()
    horizon = today + dt.timedelta(days=boosters.DUE_SOON_DAYS)
    rows = [
        {"due": due, "overdue": due.overdue(today)}
        for due in boosters.due_boosters(location, today)
        if due.due <= horizon
    ]
    return render(
        request,
        "scheduling/visits/boosters.html",
        {"location": location, "rows": rows, "today": today},
    )


def _booster_page(
    request: AuthenticatedRequest,
    plan: TreatmentPlan,
    location: Location,
    *,
    booked_by: User,
    template: str,
    done: str,
) -> HttpResponse:
    due = boosters.booster_for(plan, location)
    form = BoosterChoiceForm(request.POST or None)
    error = ""
    if due is not None and request.method == "POST" and form.is_valid():
        choice = services.Choice(form.cleaned_data["day"], form.cleaned_data["time"])
        try:
            series = boosters.book_booster(plan, location, choice, booked_by=booked_by)
        except services.BookingConflict:
            error = gettext("That time is not free; choose another.")
        except SchedulingError as refusal:
            error = str(refusal)
        else:
            audit.record(request, "create", "series", series.public_id, plan.patient_id, "booster")
            messages.success(request, done)
            if request.user.role == Role.PATIENT:
                return redirect("scheduling:my_sessions")
            return redirect("scheduling:series", public_id=series.public_id)
    first = None
    if due is not None and not due.booked:
        since = max(due.earliest, location.local_today() + dt.timedelta(days=1))
        proposal = boosters.propose(plan, location, since)
        first = proposal.sessions[0] if proposal.sessions else None
    return render(
        request,
        template,
        {
            "plan": plan,
            "location": location,
            "due": due,
            "form": form,
            "error": error,
            "slot": first.slot if first else None,
            "alternatives": first.alternatives if first else [],
        },
    )


@desk_only
@require_http_methods(["GET", "POST"])
def book_booster(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The desk books a plan's next booster from the planner's proposal or a typed time."""
    plan = access.get_plan_for(request, public_id, TreatmentPlan.objects.select_related("patient"))
    location = boosters.booster_location(plan)
    if location is None:
        raise Http404
    return _booster_page(
        request,
        plan,
        location,
        booked_by=request.user,
        template="scheduling/visits/book_booster.html",
        done="Booster booked.",
    )


@patient_only
@require_http_methods(["GET", "POST"])
def self_book_booster(request: AuthenticatedRequest) -> HttpResponse:
    """A patient books their booster online from its reminder, where the location takes
    bookings online."""
    plan = TreatmentPlan.objects.active().filter(patient=request.user).first()
    location = boosters.booster_location(plan) if plan is not None else None
    if plan is None or location is None or not location.self_booking:
        return render(request, "scheduling/visits/self_booster.html", {"due": None})
    return _booster_page(
        request,
        plan,
        location,
        booked_by=request.user,
        template="scheduling/visits/self_booster.html",
        done=gettext("Your booster is booked."),
    )
