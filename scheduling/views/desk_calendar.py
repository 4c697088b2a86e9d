"""The desk's calendar at each location (docs/roles/front-desk.md#the-desks-calendar): the day
(chairs as columns) and the week (days by chairs), a session's actions, an empty slot's booking,
and the version the pages poll to show another desk's change.

The calendar's actions post to the desk's own views (scheduling.views.desk: move, cancel,
check-in, no-show) with `back=calendar`: the same services, rules and messages as the series
page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import patients_visible_to
from accounts.models import User
from accounts.requests import AuthenticatedRequest
from clinic.querystrings import day_in_range, query_form, read_query
from locations.models import Location
from review.models import TreatmentPlan
from review.services import NotBookable
from scheduling import access, calendar, services
from scheduling.forms import BookSlotForm, CancelForm, SearchForm, SlotForm
from scheduling.models import UPCOMING_STATUSES, Series, Session, Status
from scheduling.views.desk import patient_terms
from scheduling.views.roles import desk_only

# How often the calendar asks whether another desk changed it (milliseconds, read by
# static/js/desk-calendar.js from the page).
POLL_MS = 4000


def _location_or_404(request: AuthenticatedRequest, slug: str) -> Location:
    """A location of the reader's (any for a clinic admin): another location's calendar is not
    found (docs/security.md#which-locations-patients-each-role-sees)."""
    return access.get_location_for(request, slug)


def _parse_day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Http404 from None
    if not day_in_range(day):  # the links to the day or week either side must exist
        raise Http404
    return day


def _now_label(location: Location) -> str:
    return f"{location.local_now():%H:%M}"


@desk_only
def day_view(request: AuthenticatedRequest, slug: str, day: str | None = None) -> HttpResponse:
    """Chairs as columns and 15-minute rows; each session a block to open, drag or move; each
    nurse's load per row at the side; an empty slot opens its booking."""
    location = _location_or_404(request, slug)
    date = _parse_day(day) or location.local_today()
    start, end = location.day_bounds(date)
    slot_url = reverse("scheduling:slot", args=[slug, date.isoformat()])
    return render(
        request,
        "scheduling/day.html",
        {
            "location": location,
            "date": date,
            "day": calendar.day_calendar(location, date, slot_url),
            "version": calendar.version(location, start, end),
            "version_url": reverse("scheduling:day_version", args=[slug, date.isoformat()]),
            "poll_ms": POLL_MS,
            "now": _now_label(location),
            "previous": date - dt.timedelta(days=1),
            "next": date + dt.timedelta(days=1),
            "week_start": date - dt.timedelta(days=date.weekday()),
        },
    )


@desk_only
def week_view(request: AuthenticatedRequest, slug: str, day: str | None = None) -> HttpResponse:
    """Days by chairs: each session with its time, patient, status, series number and nurse."""
    location = _location_or_404(request, slug)
    date = _parse_day(day) or location.local_today()
    monday = date - dt.timedelta(days=date.weekday())
    start, _ = location.day_bounds(monday)
    _, end = location.day_bounds(monday + dt.timedelta(days=6))
    return render(
        request,
        "scheduling/week.html",
        {
            "location": location,
            "monday": monday,
            "week": calendar.week_calendar(location, monday),
            "version": calendar.version(location, start, end),
            "version_url": reverse("scheduling:week_version", args=[slug, monday.isoformat()]),
            "poll_ms": POLL_MS,
            "now": _now_label(location),
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
        },
    )


@require_GET
@desk_only
def day_version(request: AuthenticatedRequest, slug: str, day: str) -> HttpResponse:
    return _version(request, slug, day, days=1)


@require_GET
@desk_only
def week_version(request: AuthenticatedRequest, slug: str, day: str) -> HttpResponse:
    return _version(request, slug, day, days=7)


def _version(request: AuthenticatedRequest, slug: str, day: str, *, days: int) -> HttpResponse:
    """The calendar's version as JSON with an ETag: one aggregate query; 304 when unchanged."""
    location = _location_or_404(request, slug)
    first = _parse_day(day)
    assert first is not None
    start, _ = location.day_bounds(first)
    _, end = location.day_bounds(first + dt.timedelta(days=days - 1))
    current = calendar.version(location, start, end)
    etag = f'"{current}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse({"version": current})
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _session_or_404(request: AuthenticatedRequest, public_id: UUID) -> Session:
    return access.get_session_for(
        request,
        public_id,
        Session.objects.select_related(
            "series__plan", "location", "patient", "chair", "nurse", "moved_by"
        ),
    )


@desk_only
def session_actions(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """What the desk can do with a session from the calendar: open the patient page, move it
    (the keyboard's way to do what a drag does), cancel, check in on its day, mark a no-show."""
    session = _session_or_404(request, public_id)
    now = timezone.now()
    upcoming = session.status in UPCOMING_STATUSES
    start = session.local_start()
    return render(
        request,
        "scheduling/calendar_session.html",
        {
            "session": session,
            "location": session.location,
            "local_start": start,
            "local_setup_ends": session.setup_ends_at.astimezone(session.location.zone),
            "local_end": session.ends_at.astimezone(session.location.zone),
            "chairs": session.location.chairs.filter(is_active=True).order_by("position", "name"),
            "version": calendar.session_version(session.starts_at, session.chair_id),
            "upcoming": upcoming,
            "check_in_refusal": session.check_in_refusal(now) if upcoming else None,
            "can_no_show": upcoming and session.starts_at <= now,
            "checked_in": session.status == Status.CHECKED_IN,
            "cancel_form": CancelForm(),
            "day_url": reverse("scheduling:day", args=[session.location.slug, start.date()]),
        },
    )


def _ready_plans(patients: list[User] | None) -> list[dict[str, Any]]:
    """Approved plans the desk may book from (of the patients found, or the first waiting ones),
    each with its active series and how many of its sessions are booked."""
    plans = TreatmentPlan.objects.active().select_related("patient").order_by("approved_at")
    if patients is not None:
        plans = plans.filter(patient__in=patients)
    found = list(plans[:30])
    series = {
        s.plan_id: s
        for s in Series.objects.filter(
            plan__in=found, status=Series.SeriesStatus.ACTIVE
        ).select_related("location")
    }
    booked: dict[int, int] = {}
    for plan_id in (
        Session.objects.active()
        .filter(series__plan__in=found, series__status=Series.SeriesStatus.ACTIVE)
        .values_list("series__plan_id", flat=True)
    ):
        booked[plan_id] = booked.get(plan_id, 0) + 1
    return [
        {
            "plan": plan,
            "series": series.get(plan.pk),
            "booked": booked.get(plan.pk, 0),
            "next": booked.get(plan.pk, 0) + 1,
            "full": booked.get(plan.pk, 0) >= plan.infusions,
        }
        for plan in found
    ]


@query_form(SlotForm)
@desk_only
def slot(request: AuthenticatedRequest, slug: str, day: str) -> HttpResponse:
    """An empty slot of the day calendar: book one session there for a patient with an
    approved plan (found by the search, POSTed so that no name goes in an address), or plan a
    series from that time."""
    location = _location_or_404(request, slug)
    date = _parse_day(day)
    assert date is not None
    query = read_query(request, SlotForm)
    chair = (
        location.chairs.filter(pk=query["chair"], is_active=True).first()
        if query["chair"]
        else None
    )
    time = query.get("time") or dt.time(9)
    search_form = SearchForm(request.POST if request.method == "POST" else None)
    patients: list[User] | None = None
    if found := search_form.query():
        patients = list(patients_visible_to(request.user).filter(patient_terms(found))[:50])
    window_end = (dt.datetime.combine(date, time) + dt.timedelta(hours=1)).time()
    return render(
        request,
        "scheduling/calendar_slot.html",
        {
            "location": location,
            "date": date,
            "time": time,
            "chair": chair,
            "chairs": list(location.chairs.filter(is_active=True).order_by("position", "name")),
            "search_form": search_form,
            "searched": patients is not None,
            "plans": _ready_plans(patients),
            "window_end": window_end if window_end > time else dt.time(23, 45),
            "day_url": reverse("scheduling:day", args=[slug, date.isoformat()]),
        },
    )


@desk_only
@require_POST
def book_slot(request: AuthenticatedRequest, slug: str, day: str) -> HttpResponse:
    """Book one session in the slot for the plan chosen: the same checks as every booking."""
    location = _location_or_404(request, slug)
    date = _parse_day(day)
    assert date is not None
    back = redirect("scheduling:day", slug=slug, day=date.isoformat())
    form = BookSlotForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a patient, a chair and a time; nothing was booked.")
        return back
    plan = access.get_plan_for(
        request,
        form.cleaned_data["plan"],
        TreatmentPlan.objects.active().select_related("patient"),
    )
    chair = location.chairs.filter(pk=form.cleaned_data["chair"], is_active=True).first()
    if chair is None:
        messages.error(request, "Choose a chair of this location; nothing was booked.")
        return back
    choice = services.Choice(date, form.cleaned_data["time"], chair_id=chair.pk)
    try:
        session = services.book_one(plan, location, choice, booked_by=request.user)
    except services.BookingConflict as conflict:
        why = (
            ""
            if conflict.reasons
            else ": the chair, a nurse or the patient is not free then, or the clinic is closed"
        )
        messages.error(
            request,
            f"Session {conflict.describe()} cannot be booked there{why}. Nothing was booked.",
        )
    except (services.SchedulingError, NotBookable) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Booked session {session.number} for {plan.patient.get_full_name()} at "
            f"{session.local_start():%H:%M} in {chair.name}.",
        )
    return back
