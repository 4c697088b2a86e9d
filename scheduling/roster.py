"""Settings → Roster: the nurse shifts of a location, a week at a time, in its own time
(docs/roles/clinic-admin.md#the-roster)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from clinic.querystrings import day_in_range, query_form, read_query
from locations.models import ClinicianShift, Location, NurseShift
from scheduling import roster_services
from scheduling.roster_forms import (
    ClinicianShiftDeleteForm,
    ClinicianShiftForm,
    ShiftForm,
    ShiftTimesForm,
    WeekQuery,
    clinicians_of,
    nurses_of,
)
from scheduling.services import SchedulingError

admins_only = role_required(Role.CLINIC_ADMIN)


# The clinicians' form shares the page with the nurses': its fields are named apart, so that
# each label points at its own field.
CLINICIAN_PREFIX = "clinician"


def _location_or_404(slug: str) -> Location:
    return get_object_or_404(Location, slug=slug, is_active=True)


def _shift_or_404(location: Location, shift_id: int) -> NurseShift:
    """A shift of this location only; another location's shift is not found here."""
    return get_object_or_404(
        NurseShift.objects.select_related("location", "nurse"), pk=shift_id, location=location
    )


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _week_url(location: Location, day: dt.date) -> str:
    url = reverse("scheduling:roster", args=[location.slug])
    return f"{url}?week={_monday(day).isoformat()}"


@dataclass
class Block:
    shift: NurseShift
    day: dt.date
    text: str


@dataclass
class Row:
    nurse: User
    days: list[list[Block]] = field(default_factory=list)


def _grid(location: Location, monday: dt.date) -> list[Row]:
    """One row per nurse of the location (and any other nurse with a shift here that week), one
    cell per local day with the shifts that start on it. Three queries, however full."""
    zone = location.zone
    since, _ = location.day_bounds(monday)
    _, until = location.day_bounds(monday + dt.timedelta(days=6))
    shifts = NurseShift.objects.filter(
        location=location, starts_at__gte=since, starts_at__lt=until
    ).select_related("nurse")
    rows = {nurse.pk: Row(nurse, [[] for _ in range(7)]) for nurse in nurses_of(location)}
    for shift in shifts:
        shift.location = location
        row = rows.setdefault(shift.nurse_id, Row(shift.nurse, [[] for _ in range(7)]))
        starts, ends = shift.starts_at.astimezone(zone), shift.ends_at.astimezone(zone)
        row.days[(starts.date() - monday).days].append(
            Block(shift, starts.date(), f"{starts:%H:%M}–{ends:%H:%M}")
        )
    return list(rows.values())


@dataclass
class ClinicianBlock:
    shift: ClinicianShift
    text: str


@dataclass
class ClinicianRow:
    clinician: User
    days: list[list[ClinicianBlock]] = field(default_factory=list)


def _clinician_grid(location: Location, monday: dt.date) -> list[ClinicianRow]:
    """The clinicians' shifts for visits, as the nurses' grid (docs/visits.md#clinician-shifts)."""
    zone = location.zone
    since, _ = location.day_bounds(monday)
    _, until = location.day_bounds(monday + dt.timedelta(days=6))
    rows = {c.pk: ClinicianRow(c, [[] for _ in range(7)]) for c in clinicians_of(location)}
    for shift in ClinicianShift.objects.filter(
        location=location, starts_at__gte=since, starts_at__lt=until
    ).select_related("clinician"):
        row = rows.setdefault(
            shift.clinician_id, ClinicianRow(shift.clinician, [[] for _ in range(7)])
        )
        starts, ends = shift.starts_at.astimezone(zone), shift.ends_at.astimezone(zone)
        row.days[(starts.date() - monday).days].append(
            ClinicianBlock(shift, f"{starts:%H:%M}–{ends:%H:%M}")
        )
    return list(rows.values())


def _page(
    request: AuthenticatedRequest,
    location: Location,
    monday: dt.date,
    form: ShiftForm,
    clinician_form: ClinicianShiftForm | None = None,
) -> HttpResponse:
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    closed = location.closed_days(days[0], days[-1])
    previous, following = monday - dt.timedelta(days=7), monday + dt.timedelta(days=7)
    return render(
        request,
        "scheduling/roster.html",
        {
            "location": location,
            "monday": monday,
            "days": [(day, closed.get(day)) for day in days],
            "rows": _grid(location, monday),
            "clinician_rows": _clinician_grid(location, monday),
            "form": form,
            "clinician_form": clinician_form
            or ClinicianShiftForm(
                prefix=CLINICIAN_PREFIX,
                location=location,
                initial={"day": monday, "starts": dt.time(9), "ends": dt.time(17)},
            ),
            "previous": previous if day_in_range(previous) else None,
            "next": following if day_in_range(following) else None,
        },
    )


@query_form(WeekQuery)
@admins_only
def roster(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The week grid, and the form that adds a shift to it."""
    location = _location_or_404(slug)
    monday = _monday(read_query(request, WeekQuery)["week"] or location.local_today())
    form = ShiftForm(
        request.POST if request.method == "POST" else None,
        location=location,
        initial={"day": monday, "starts": dt.time(8), "ends": dt.time(18)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            shift = roster_services.add_shift(location, form.cleaned_data["nurse"], *form.bounds)
        except SchedulingError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, f"Added {shift.nurse}'s shift on {roster_services.shift_text(shift)}."
            )
            return redirect(_week_url(location, form.cleaned_data["day"]))
    return _page(request, location, monday, form)


@admins_only
def move_shift(request: AuthenticatedRequest, slug: str, shift_id: int) -> HttpResponse:
    """Change a shift's day and times; the nurse stays."""
    location = _location_or_404(slug)
    shift = _shift_or_404(location, shift_id)
    was = roster_services.shift_text(shift)
    form = ShiftTimesForm(
        request.POST if request.method == "POST" else None,
        location=location,
        initial=ShiftTimesForm.initial_for(shift),
    )
    if request.method == "POST" and form.is_valid():
        try:
            roster_services.move_shift(shift, *form.bounds)
        except SchedulingError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"Moved {shift.nurse}'s shift from {was} to {roster_services.shift_text(shift)}.",
            )
            return redirect(_week_url(location, form.cleaned_data["day"]))
    return render(
        request,
        "scheduling/roster_shift.html",
        {"location": location, "shift": shift, "was": was, "form": form},
    )


@admins_only
def delete_shift(request: AuthenticatedRequest, slug: str, shift_id: int) -> HttpResponse:
    """GET asks; POST deletes."""
    location = _location_or_404(slug)
    shift = _shift_or_404(location, shift_id)
    text = roster_services.shift_text(shift)
    back = _week_url(location, shift.starts_at.astimezone(location.zone).date())
    if request.method == "POST":
        try:
            roster_services.delete_shift(shift)
        except SchedulingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Deleted {shift.nurse}'s shift on {text}.")
        return redirect(back)
    return render(
        request,
        "scheduling/roster_delete.html",
        {"location": location, "shift": shift, "text": text, "back": back},
    )


@admins_only
@require_POST
def copy_week(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Copy the shown week's shifts to the next week, skipping those that would overlap."""
    location = _location_or_404(slug)
    week = WeekQuery(request.POST)
    if not week.is_valid() or week.cleaned_data["week"] is None:
        messages.error(request, "Choose the week to copy; nothing was changed.")
        return redirect("scheduling:roster", slug=location.slug)
    monday = _monday(week.cleaned_data["week"])
    following = monday + dt.timedelta(days=7)
    if not day_in_range(following):
        messages.error(request, "That week cannot be copied; nothing was changed.")
        return redirect(_week_url(location, monday))
    try:
        result = roster_services.copy_week(location, monday)
    except SchedulingError as error:
        messages.error(request, str(error))
        return redirect(_week_url(location, monday))
    shifts = "shift" if result.copied == 1 else "shifts"
    text = f"Copied {result.copied} {shifts} to the week of {roster_services.day_text(following)}"
    if result.skipped:
        text += f"; skipped {result.skipped} that would overlap another shift of the same nurse"
    messages.success(request, f"{text}.")
    return redirect(_week_url(location, following))


@admins_only
@require_POST
def clinician_shifts(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Add a clinician's shift (the form), or delete one (`delete`: its id at this location)."""
    location = _location_or_404(slug)
    if "delete" in request.POST:
        delete = ClinicianShiftDeleteForm(request.POST)
        if delete.is_valid():
            shift = get_object_or_404(
                ClinicianShift, pk=delete.cleaned_data["delete"], location=location
            )
            roster_services.delete_clinician_shift(shift)
            messages.success(request, "Deleted the clinician's shift.")
            week = delete.cleaned_data["week"] or location.local_today()
            return redirect(_week_url(location, week))
        return redirect("scheduling:roster", slug=location.slug)
    form = ClinicianShiftForm(request.POST, prefix=CLINICIAN_PREFIX, location=location)
    if form.is_valid():
        try:
            shift = roster_services.add_clinician_shift(
                location, form.cleaned_data["clinician"], *form.bounds
            )
        except SchedulingError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, f"Added {shift.clinician}'s shift on {form.cleaned_data['day']:%a %-d %b}."
            )
            return redirect(_week_url(location, form.cleaned_data["day"]))
    monday = _monday(form.cleaned_data.get("day") or location.local_today())
    shift_form = ShiftForm(location=location, initial={"day": monday})
    return _page(request, location, monday, shift_form, form)
