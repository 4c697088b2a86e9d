"""Settings → Closed days (clinic admins) and the desk's step that rebooks a closed day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.access import role_required
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from locations.models import Closure, Location, holiday_name
from scheduling import closures, services
from worklist import services as worklist
from worklist.models import Cause, Task

admins_only = role_required(Role.CLINIC_ADMIN)
desk_only = role_required(Role.FRONT_DESK, Role.CLINIC_ADMIN)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class HolidaysForm(forms.ModelForm[Location]):
    """The country and subdivision whose public holidays close the location, and the ones it
    keeps open. The model validates the codes against the `holidays` package."""

    open_on_holidays = forms.MultipleChoiceField(
        label="Open on these holidays",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Ticked holidays are ordinary working days here.",
    )

    class Meta:
        model = Location
        fields = ["holiday_country", "holiday_subdivision", "open_on_holidays"]
        labels = {"holiday_country": "Country", "holiday_subdivision": "State or province"}

    def __init__(self, *args: Any, names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["open_on_holidays"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(name, name) for name in names]


class ClosureForm(forms.ModelForm[Closure]):
    class Meta:
        model = Closure
        fields = ["starts_on", "ends_on", "reason"]
        labels = {"starts_on": "First day closed", "ends_on": "Last day closed"}
        widgets = {"starts_on": DATE, "ends_on": DATE}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The last day cannot come before the first.")
        return data


def _upcoming_holidays(location: Location) -> tuple[list[tuple[dt.date, str, bool]], list[str]]:
    """The next twelve months' public holidays at the location's country and subdivision, each
    with whether it closes the clinic, and the distinct names (for the switches)."""
    today = location.local_today()
    year_ahead = today + dt.timedelta(days=365)
    kept = Location(
        holiday_country=location.holiday_country,
        holiday_subdivision=location.holiday_subdivision,
    )
    every = kept.public_holidays(today, year_ahead)
    closing = location.public_holidays(today, year_ahead)
    rows = [(day, name, day in closing) for day, name in sorted(every.items())]
    names = sorted({holiday_name(n) for _, names, _ in rows for n in names.split("; ")})
    return rows, names


@admins_only
def closed_days(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    location = get_object_or_404(Location, slug=slug, is_active=True)
    action = request.POST.get("action") if request.method == "POST" else None
    rows, names = _upcoming_holidays(location)
    holidays_form = HolidaysForm(
        request.POST if action == "holidays" else None,
        instance=location,
        names=sorted({*names, *location.open_on_holidays}),
    )
    closure_form = ClosureForm(
        request.POST if action == "closure" else None, instance=Closure(location=location)
    )
    if action == "holidays" and holidays_form.is_valid():
        with transaction.atomic():
            holidays_form.save()
            today = location.local_today()
            affected = closures.sessions_on_closed_days(
                location, today, today + dt.timedelta(days=365)
            )
        messages.success(request, f"Saved the public holidays at {location.name}.")
        if affected:
            messages.warning(
                request,
                f"{len(affected)} booked session(s) now fall on a closed day: add a closure "
                "for those dates to get the rebooking step, or switch the holiday back open.",
            )
        return redirect("scheduling:closed_days", slug=location.slug)
    if action == "closure" and closure_form.is_valid():
        with transaction.atomic():
            closure = closure_form.save()
            affected = closures.closure_added(closure)
        messages.success(request, f"Added the closure at {location.name}.")
        if affected:
            messages.warning(
                request,
                f"{len(affected)} booked session(s) fall on it: the front desk has a task to "
                "move them.",
            )
        return redirect("scheduling:closed_days", slug=location.slug)
    return render(
        request,
        "scheduling/closed_days.html",
        {
            "location": location,
            "holidays_form": holidays_form,
            "closure_form": closure_form,
            "holidays": rows,
            "closures": location.closures.filter(ends_on__gte=location.local_today()),
        },
    )


@desk_only
def closure_rebook(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One step: each session on the closed days with a proposed new time; the desk keeps the
    ones it wants and they are moved as by the move form (the patient is told)."""
    closure = get_object_or_404(Closure.objects.select_related("location"), pk=pk)
    proposals = closures.proposals_for(closure)
    if request.method == "POST":
        chosen = set(request.POST.getlist("move"))
        moved, failed = 0, []
        for proposal in proposals:
            if str(proposal.session.public_id) not in chosen or proposal.choice is None:
                continue
            try:
                services.move_sessions(proposal.session, proposal.choice, moved_by=None)
                moved += 1
            except services.SchedulingError as error:
                failed.append(f"{proposal.session.patient.get_full_name()}: {error}")
        if moved:
            messages.success(request, f"Moved {moved} session(s); the patients are told.")
        for line in failed:
            messages.error(request, line)
        location = closure.location
        if not closures.sessions_on_closed_days(location, closure.starts_on, closure.ends_on):
            task = Task.objects.open().filter(cause=Cause.CLOSED_DAY, about=f"closure:{pk}")
            for open_task in task:
                worklist.close_task(
                    open_task, request.user, f"Moved {moved} session(s) off the closed days."
                )
            return redirect("scheduling:desk_tasks")
        return redirect("scheduling:closure_rebook", pk=pk)
    return render(
        request,
        "scheduling/closure_rebook.html",
        {"closure": closure, "location": closure.location, "proposals": proposals},
    )
