"""The front desk's pages: the start page, search, planning and booking a series, a series and
its sessions, the day and week grids, messages that could not be sent."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import defaultdict
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from audit.models import AuditEvent
from clinic.querystrings import day_in_range, query_form
from intake import services as intake_services
from intake.models import UrgentFlag
from locations.models import Location, NurseShift, Opening
from notifications.models import InboundText, Message, MessageStatus
from review.models import TreatmentPlan
from review.services import NotBookable, booking_blockers
from scheduling import hooks, planner, services
from scheduling.forms import (
    BookForm,
    CancelForm,
    DeclineSeriesForm,
    MoveForm,
    PlanRequestForm,
    SearchForm,
    UndoCheckInForm,
    WaitlistForm,
    next_weekday,
)
from scheduling.models import (
    AWAITING_DESK,
    Hold,
    ReplyOutcome,
    Series,
    Session,
    Status,
    WaitlistEntry,
)
from scheduling.views.responses import cancel_confirmation
from scheduling.views.roles import desk_only

SLOT = dt.timedelta(minutes=15)


# Messages that will never go (a move or cancellation replaced them, or a rule skipped them).
FOLDED_MESSAGES = (MessageStatus.CANCELLED, MessageStatus.SKIPPED)


@desk_only
def desk(request: AuthenticatedRequest) -> HttpResponse:
    """The front desk's start page: locations, patients ready to book, offers waiting."""
    ready = (
        TreatmentPlan.objects.active()
        .exclude(series__status=Series.SeriesStatus.ACTIVE)
        .select_related("patient", "intake__location")
        .order_by("approved_at")[:50]
    )
    offers = (
        Hold.objects.live()
        .filter(entry__isnull=False)  # a patient's own proposal is not an offer
        .select_related("entry__session__patient", "location")
        .order_by("expires_at")
    )
    awaiting = list(
        Series.objects.filter(AWAITING_DESK)
        .select_related("patient", "location")
        .order_by("awaiting_desk_since")[:50]
    )
    return render(
        request,
        "scheduling/desk.html",
        {
            "locations": Location.objects.filter(is_active=True),
            "ready": ready,
            "offers": offers,
            "awaiting": awaiting,
            "search_form": SearchForm(),
        },
    )


@desk_only
def search(request: AuthenticatedRequest) -> HttpResponse:
    """Find a patient by name, email, phone or date of birth. Only a POST searches: a query in
    the address (?q=Casey) would stay in access logs, proxies and the browser's history."""
    form = SearchForm(request.POST if request.method == "POST" else None)
    patients: list[User] = []
    if query := form.query():
        if query.date_of_birth:
            terms = Q(patient_profile__date_of_birth=query.date_of_birth)
        elif query.phone_digits:
            # Phones are stored as +1XXXXXXXXXX: "(949) 555-0123" is searched by its digits.
            terms = Q(patient_profile__mobile_phone__contains=query.phone_digits)
        else:
            terms = Q()
        for word in query.words:
            # Fernandez finds Fernández, and fernández finds FERNANDEZ (PostgreSQL's unaccent).
            digits = re.sub(r"\D", "", word)
            terms &= (
                Q(first_name__unaccent__icontains=word)
                | Q(last_name__unaccent__icontains=word)
                | Q(email__icontains=word)
                | (
                    Q(patient_profile__mobile_phone__contains=digits)
                    if len(digits) >= 4
                    else Q(pk=None)
                )
            )
        patients = list(
            User.objects.filter(terms, role=Role.PATIENT)
            .select_related("patient_profile")
            .prefetch_related("series__location")
            .order_by("last_name", "first_name")[:50]
        )
    return render(request, "scheduling/search.html", {"form": form, "patients": patients})


def _plan_or_404(public_id: UUID) -> TreatmentPlan:
    return get_object_or_404(
        TreatmentPlan.objects.active().select_related("patient", "intake__location"),
        public_id=public_id,
    )


def _initial_request(plan: TreatmentPlan) -> dict[str, Any]:
    location = plan.intake.location
    # Tomorrow where the patient will be treated; an intake without a location has no better date.
    today = location.local_today() if location else timezone.localdate()
    return {
        "location": location,
        "first_date": next_weekday(today + dt.timedelta(days=1)),
        "weekdays": [0, 2, 4],
        "window_starts": dt.time(9),
        "window_ends": dt.time(12),
    }


@query_form(PlanRequestForm)
@desk_only
def plan_series(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """Plan a whole series for an approved patient, adjust any session, book all or nothing."""
    plan = _plan_or_404(public_id)
    request_form = PlanRequestForm(request.GET or None, initial=_initial_request(plan))
    context: dict[str, Any] = {"plan": plan, "request_form": request_form}

    context["blockers"] = booking_blockers(plan.patient)
    if request_form.is_bound and request_form.is_valid():
        location = request_form.cleaned_data["location"]
        planner_request = request_form.to_request(plan)
        if request.method == "POST":
            book_form = BookForm(request.POST, sessions=plan.infusions)
            if book_form.is_valid():
                choices = [services.Choice(day, time) for day, time in book_form.choices()]
                try:
                    series = services.book_series(
                        plan, location, choices, booked_by=request.user, request=planner_request
                    )
                except services.BookingConflict as conflict:
                    messages.error(
                        request,
                        f"Session {conflict.describe()} was taken meanwhile; nothing was "
                        "booked. Here is a fresh proposal.",
                    )
                    context["proposal"] = conflict.proposal or planner.propose(
                        location, plan.patient_id, planner_request
                    )
                    context["failed"] = conflict.failed
                except (services.SchedulingError, NotBookable) as error:
                    messages.error(request, str(error))
                else:
                    messages.success(
                        request, f"Booked {plan.infusions} sessions at {location.name}."
                    )
                    return redirect("scheduling:series", public_id=series.public_id)
            else:
                messages.error(request, "Choose a date and time for every session.")
        context.setdefault("proposal", planner.propose(location, plan.patient_id, planner_request))
        context["location"] = location
        context["query"] = request.GET.urlencode()
        context["terms"] = hooks.billing().booking_terms(location.pk, plan.patient)
    return render(request, "scheduling/plan.html", context)


def _series_or_404(public_id: UUID) -> Series:
    return get_object_or_404(
        Series.objects.select_related("patient", "location", "plan__intake"), public_id=public_id
    )


@desk_only
def series_detail(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _series_page(request, _series_or_404(public_id))


def _series_page(
    request: AuthenticatedRequest, series: Series, decline_form: DeclineSeriesForm | None = None
) -> HttpResponse:
    sessions = list(series.sessions.select_related("chair", "nurse", "location").order_by("number"))

    by_group: dict[str, list[Message]] = defaultdict(list)
    for message in Message.objects.filter(
        group__in=[f"session:{s.pk}" for s in sessions] + [f"series:{series.pk}"]
    ).order_by("send_at"):
        by_group[message.group].append(message)
    replied: dict[str, list[tuple[InboundText, str]]] = defaultdict(list)
    outcomes = dict(ReplyOutcome.choices)
    for text in InboundText.objects.filter(group__in=[f"session:{s.pk}" for s in sessions]):
        replied[text.group].append((text, outcomes.get(text.outcome, text.outcome)))
    for session in sessions:
        outbox = by_group[f"session:{session.pk}"]
        # After a move or two the cancelled reminders outnumber the live ones: folded apart.
        session.outbox = [m for m in outbox if m.status not in FOLDED_MESSAGES]  # type: ignore[attr-defined]  # for the template
        session.outbox_folded = [m for m in outbox if m.status in FOLDED_MESSAGES]  # type: ignore[attr-defined]  # for the template
        session.replies = replied[f"session:{session.pk}"]  # type: ignore[attr-defined]  # for the template
    return render(
        request,
        "scheduling/series.html",
        {
            "series": series,
            "sessions": sessions,
            "move_form": MoveForm(),
            "cancel_form": CancelForm(),
            "decline_form": decline_form or DeclineSeriesForm(),
            "waitlist_form": WaitlistForm(),
            "series_messages": by_group[f"series:{series.pk}"],
            "card": intake_services.insurance_card(series.plan.intake.public_id),
        },
    )


@desk_only
@require_POST
def confirm_series(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """Confirm a series the patient booked online (the location asks the desk to)."""
    series = _series_or_404(public_id)
    try:
        services.confirm_self_booked(series, by=request.user)
    except services.SchedulingError as error:
        messages.info(request, str(error))
    else:
        messages.success(
            request, "Confirmed. The patient gets the confirmation with calendar files."
        )
    return redirect("scheduling:series", public_id=series.public_id)


@desk_only
@require_POST
def decline_series(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """Decline a series the patient booked online, with a reason the patient reads."""
    series = _series_or_404(public_id)
    form = DeclineSeriesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the patient a reason, in neutral words; nothing was changed.")
        return _series_page(request, series, decline_form=form)
    try:
        released = services.decline_self_booked(
            series, by=request.user, reason=form.cleaned_data["reason"]
        )
    except services.SchedulingError as error:
        messages.info(request, str(error))
    else:
        messages.success(
            request,
            f"Declined: {len(released)} sessions released and the patient told. Freed slots "
            "are offered to the waitlist.",
        )
    return redirect("scheduling:series", public_id=series.public_id)


def _session_or_404(public_id: UUID) -> Session:
    return get_object_or_404(
        Session.objects.select_related("series", "location", "patient"), public_id=public_id
    )


def _back_to_series(session: Session) -> HttpResponse:
    return redirect("scheduling:series", public_id=session.series.public_id)


@desk_only
@require_POST
def move(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = _session_or_404(public_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a date and a time to move to.")
        return _back_to_series(session)
    choice = services.Choice(form.cleaned_data["date"], form.cleaned_data["time"])
    try:
        moved = services.move_sessions(
            session, choice, and_following=form.cleaned_data["and_following"]
        )
    except services.BookingConflict as conflict:
        why = (
            ""
            if conflict.reasons
            else ": the chair, a nurse or the patient is not free, or the clinic is closed"
        )
        messages.error(
            request,
            f"Session {conflict.describe()} cannot move there{why}. Nothing was changed.",
        )
    except services.SchedulingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Moved {len(moved)} session{'s' if len(moved) > 1 else ''}.")
    return _back_to_series(session)


@desk_only
@require_http_methods(["GET", "POST"])
def cancel(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = _session_or_404(public_id)
    if request.method == "GET":
        return cancel_confirmation(
            request,
            session,
            keep_url=reverse("scheduling:series", args=[session.series.public_id]),
            desk=True,
        )
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        cancelled = services.cancel_sessions(
            session,
            and_following=form.cleaned_data.get("and_following", False),
            reason=form.cleaned_data.get("reason", ""),
        )
    except services.SchedulingError as error:
        messages.error(request, str(error))
    else:
        late = sum(s.status == Status.LATE_CANCELLED for s in cancelled)
        messages.success(
            request,
            f"Cancelled {len(cancelled)} session(s)"
            + (f", {late} of them late (within 24 hours)." if late else "."),
        )
    return _back_to_series(session)


@desk_only
@require_POST
def transition(request: AuthenticatedRequest, public_id: UUID, action: str) -> HttpResponse:
    session = _session_or_404(public_id)
    operations = {"check-in": services.check_in, "no-show": services.mark_no_show}
    if action not in operations:
        raise Http404
    was = session.status  # its value, so the audit's words do not depend on the language
    try:
        operations[action](session)
    except services.InvalidTransition as error:
        messages.error(request, str(error))
    else:
        done = "checked in" if action == "check-in" else "marked as a no-show"
        audit.record(
            request,
            "update",
            "session",
            session.public_id,
            session.patient_id,
            f"{done} (was {was})",
        )
        messages.success(request, f"Session {session.number}: {done}.")
    return _back_to_series(session)


def _status_before_check_in(session: Session) -> str:
    """The status the desk's check-in replaced, read back from its audit event: a confirmed
    session checked in by mistake is confirmed again, not merely booked."""
    event = (
        AuditEvent.objects.filter(
            record_type="session",
            record_id=str(session.public_id),
            detail__startswith="checked in (was ",
        )
        .order_by("-at")
        .first()
    )
    if event is not None and event.detail == f"checked in (was {Status.CONFIRMED.value})":
        return Status.CONFIRMED
    return Status.BOOKED


@desk_only
@require_POST
def undo_check_in(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """Undo a check-in made by mistake, with the reason in the audit log."""
    session = _session_or_404(public_id)
    form = UndoCheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["reason"][0]))
        return _back_to_series(session)
    try:
        services.undo_check_in(session, back_to=_status_before_check_in(session))
    except services.InvalidTransition as error:
        messages.error(request, str(error))
        return _back_to_series(session)
    audit.record(
        request,
        "update",
        "session",
        session.public_id,
        session.patient_id,
        f"check-in undone: {form.cleaned_data['reason']}",
    )
    messages.success(
        request,
        f"Session {session.number}: check-in undone; it is "
        f"{session.get_status_display().lower()} again.",
    )
    return _back_to_series(session)


@desk_only
@require_POST
def join_waitlist(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = _session_or_404(public_id)
    form = WaitlistForm(request.POST)
    if form.is_valid():
        WaitlistEntry.objects.create(
            location=session.location, session=session, **form.cleaned_data
        )
        messages.success(request, "Added to the waitlist; a freed slot will be offered first come.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _back_to_series(session)


@desk_only
@require_POST
def accept_offer(request: AuthenticatedRequest, hold_id: int) -> HttpResponse:
    hold = get_object_or_404(
        Hold.objects.filter(entry__isnull=False).select_related("entry__session__series"),
        pk=hold_id,
    )
    try:
        session = services.accept_hold(hold)
    except services.SchedulingError as error:
        messages.error(request, str(error))
        return redirect("scheduling:desk")
    messages.success(request, "The offered slot is booked.")
    return _back_to_series(session)


def _location_or_404(slug: str) -> Location:
    return get_object_or_404(Location, slug=slug, is_active=True)


@desk_only
def day_view(request: AuthenticatedRequest, slug: str, day: str | None = None) -> HttpResponse:
    """Chairs as columns and 15-minute rows; each nurse's load per row at the side."""
    location = _location_or_404(slug)
    date = _parse_day(day) or location.local_today()
    grid = _day_grid(location, date)
    return render(
        request,
        "scheduling/day.html",
        {
            "location": location,
            "date": date,
            "grid": grid,
            "previous": date - dt.timedelta(days=1),
            "next": date + dt.timedelta(days=1),
            "week_start": date - dt.timedelta(days=date.weekday()),
        },
    )


def _day_grid(location: Location, date: dt.date) -> str:
    start, end = location.day_bounds(date)
    chairs = list(location.chairs.filter(is_active=True))
    sessions = list(
        Session.objects.active()
        .at(location)
        .overlapping(start, end)
        .select_related("patient", "nurse")
        .only(*DAY_GRID_FIELDS)
    )
    shifts = list(
        NurseShift.objects.filter(location=location, starts_at__lt=end, ends_at__gt=start)
        .select_related("nurse")
        .order_by("nurse__first_name", "nurse_id")
    )
    hours = location.hours_on(date)
    opens, closes = _grid_span(location, date, hours, sessions)
    nurses = list({shift.nurse_id: shift.nurse for shift in shifts}.values())
    return render_to_string(
        "scheduling/_day_grid.html",
        {
            "location": location,
            "open": hours is not None,
            "chairs": chairs,
            "nurses": nurses,
            "rows": _day_rows(opens, closes, chairs, sessions, nurses, location.zone),
            "sessions": sessions,
        },
    )


def _grid_span(
    location: Location, date: dt.date, hours: Opening | None, sessions: list[Session]
) -> tuple[dt.datetime, dt.datetime]:
    """The rows to draw: the opening hours, widened to every session of the day, so that a
    session booked before its hours changed or a closure was declared is never hidden. A closed
    day without sessions has no rows."""
    midnight, next_midnight = location.day_bounds(date)
    starts = [s.starts_at for s in sessions] + ([hours.opens] if hours else [])
    ends = [s.ends_at for s in sessions] + ([hours.closes] if hours else [])
    if not starts:
        return midnight, midnight
    first = max(min(starts), midnight).astimezone(location.zone)
    # Rows fall on the quarter hours of the local clock.
    first = first.replace(minute=first.minute - first.minute % 15, second=0, microsecond=0)
    return first, min(max(ends), next_midnight)


# What the day grid reads of a session and its people: whole rows of three tables for a hundred
# sessions cost more than the query itself.
DAY_GRID_FIELDS = [
    "chair_id",
    "nurse_id",
    "patient_id",
    "starts_at",
    "setup_ends_at",
    "ends_at",
    "status",
    "number",
    "patient__first_name",
    "patient__last_name",
    "nurse__first_name",
    "nurse__last_name",
]


FREE_CELL = SafeString('<td class="free"></td>')


@functools.cache
def _load_cell(count: int, setting_up: bool) -> SafeString:
    """A nurse's load at one row: how many patients in their care, S while setting one up."""
    text = f"{count} S" if count and setting_up else str(count) if count else ""
    return format_html('<td class="nurse-load load-{}">{}</td>', count, text)


def _day_rows(
    opens: dt.datetime,
    closes: dt.datetime,
    chairs: list[Any],
    sessions: list[Session],
    nurses: list[User],
    zone: ZoneInfo,
) -> list[dict[str, str]]:
    """The grid's rows, each its time and its cells' markup: a day at a busy location is over a
    thousand cells, and writing them here (escaped by format_html) costs a fraction of a
    template loop over them.

    Instants are compared as POSIX seconds: comparing aware datetimes of two zones converts
    both on every comparison, and a day's grid makes thousands of them.
    """
    slot = SLOT.total_seconds()
    by_chair: dict[int, list[tuple[float, float, Session]]] = defaultdict(list)
    by_nurse: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
    for session in sessions:
        starts, ends = session.starts_at.timestamp(), session.ends_at.timestamp()
        by_chair[session.chair_id].append((starts, ends, session))
        by_nurse[session.nurse_id].append((starts, session.setup_ends_at.timestamp(), ends))
    rows = []
    moment, last = opens.timestamp(), closes.timestamp()
    while moment < last:
        cells: list[SafeString] = []
        for chair in chairs:
            here = next((t for t in by_chair[chair.pk] if t[0] <= moment < t[1]), None)
            if here is None:
                cells.append(FREE_CELL)
            elif here[0] > moment - slot:
                starts, ends, session = here
                cells.append(
                    format_html(
                        '<td rowspan="{}" class="booked status-{}"><strong>{}</strong><br>'
                        '<span class="small">{}-{} · #{} · {} · {}</span></td>',
                        max(1, math.ceil((ends - moment) / slot)),
                        session.status,
                        session.patient.get_full_name(),
                        f"{session.starts_at.astimezone(zone):%H:%M}",
                        f"{session.ends_at.astimezone(zone):%H:%M}",
                        session.number,
                        session.nurse.get_short_name(),
                        session.get_status_display(),
                    )
                )
            # A cell covered by a session starting above it is drawn by that cell's rowspan.
        for nurse in nurses:
            mine = [t for t in by_nurse[nurse.pk] if t[0] <= moment < t[2]]
            cells.append(_load_cell(len(mine), any(t[0] <= moment < t[1] for t in mine)))
        local = dt.datetime.fromtimestamp(moment, zone)
        rows.append({"time": f"{local:%H:%M}", "cells": SafeString("".join(cells))})
        moment += slot
    return rows


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


@desk_only
def week_view(request: AuthenticatedRequest, slug: str, day: str | None = None) -> HttpResponse:
    location = _location_or_404(slug)
    date = _parse_day(day) or location.local_today()
    monday = date - dt.timedelta(days=date.weekday())
    grid = _week_grid(location, monday)
    return render(
        request,
        "scheduling/week.html",
        {
            "location": location,
            "monday": monday,
            "grid": grid,
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
        },
    )


def _week_grid(location: Location, monday: dt.date) -> str:
    """Each day's sessions as one line of text (local start, chair, patient). Only those columns
    are read, and the lines are formatted here: a busy week is hundreds of sessions."""
    start, _ = location.day_bounds(monday)
    _, end = location.day_bounds(monday + dt.timedelta(days=6))
    rows = (
        Session.objects.active()
        .at(location)
        .overlapping(start, end)
        .order_by("starts_at")
        .values_list("starts_at", "chair__name", "patient__first_name", "patient__last_name")
    )
    days: dict[dt.date, list[str]] = {monday + dt.timedelta(days=n): [] for n in range(7)}
    for starts_at, chair, first_name, last_name in rows:
        local = starts_at.astimezone(location.zone)
        name = f"{first_name} {last_name}".strip()
        days.setdefault(local.date(), []).append(f"{local:%H:%M} {chair}: {name}")
    return render_to_string(
        "scheduling/_week_grid.html",
        {
            "location": location,
            "days": [
                {"date": d, "sessions": items, "count": len(items)} for d, items in days.items()
            ],
            "chairs": location.chairs.filter(is_active=True).count(),
        },
    )


@desk_only
def failed_messages(request: AuthenticatedRequest) -> HttpResponse:
    """Messages that could not be delivered, newest first, at the time of their location."""
    failed = list(Message.objects.filter(status=MessageStatus.FAILED).order_by("-send_at")[:200])
    zones: dict[str, str] = {}
    for about, model in (("session", Session), ("series", Series), ("flag", UrgentFlag)):
        ids = [m.group.split(":")[1] for m in failed if m.group.startswith(f"{about}:")]
        for pk, zone in model.objects.filter(pk__in=ids).values_list("pk", "location__time_zone"):
            zones[f"{about}:{pk}"] = zone
    rows = [(m, zones.get(m.group, "UTC")) for m in failed]
    return render(request, "scheduling/failed_messages.html", {"rows": rows})
