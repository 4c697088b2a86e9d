"""The patient's own series online (docs/product-rules.md#booking-online): book it, move or cancel a
session, wait for an earlier slot and accept one. The rules are the desk's (scheduling.services,
through scheduling.self_booking); these views only choose what the patient may reach: their own
plan, series, sessions and offers, and nothing else (404).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from review.models import TreatmentPlan
from review.services import NotBookable, booking_blockers
from scheduling import access, hooks, planner, self_booking, services
from scheduling.forms import (
    RestRequestForm,
    SelfBookForm,
    SelfMoveForm,
    SelfPlanRequestForm,
    WaitlistForm,
    next_weekday,
)
from scheduling.models import (
    REQUESTED_FOR_PATIENT,
    UPCOMING_STATUSES,
    Hold,
    Series,
    WaitlistEntry,
)
from scheduling.views.responses import cancel_confirmation

patient_only = role_required(Role.PATIENT)


def _own_plan(request: AuthenticatedRequest) -> TreatmentPlan | None:
    return TreatmentPlan.objects.active().filter(patient=request.user).first()


def _active_series(request: AuthenticatedRequest) -> Series | None:
    return (
        Series.objects.filter(patient=request.user, status=Series.SeriesStatus.ACTIVE)
        .select_related("location", "plan")
        .first()
    )


@patient_only
def home(request: AuthenticatedRequest) -> HttpResponse:
    """The patient's series: each session with what they may do online, offers waiting, and
    "Book my infusions" when they may book."""
    series = _active_series(request)
    sessions = []
    now = timezone.now()
    if series is not None:
        for session in series.sessions.select_related("location", "series").order_by("number"):
            session.can_change = session.is_upcoming  # type: ignore[attr-defined]  # for the template
            session.can_cancel_online = (  # type: ignore[attr-defined]  # for the template
                session.is_upcoming and session.cancellation_policy().online_open(now)
            )
            sessions.append(session)
    offers = (
        Hold.objects.live()
        .filter(entry__session__patient=request.user)
        .select_related("location", "entry__session")
    )
    blockers = booking_blockers(request.user)
    return render(
        request,
        "scheduling/self/home.html",
        {
            "series": series,
            "sessions": sessions,
            "remaining": self_booking.remaining(series) if series else 0,
            "offers": offers,
            "blockers": blockers,
            "requested": REQUESTED_FOR_PATIENT,
            "can_book": series is None and not blockers and self_booking.locations().exists(),
            "move_form": SelfMoveForm(),
            "waitlist_form": WaitlistForm(),
        },
    )


def _proposal_context(
    request: AuthenticatedRequest, proposal: planner.Proposal, holds: list[Hold]
) -> dict[str, Any]:
    return {
        "proposal": proposal,
        "held_until": min((h.expires_at for h in holds), default=None),
        "hold_minutes": self_booking.HOLD_MINUTES,
    }


def _initial_preferences(request: AuthenticatedRequest) -> dict[str, Any]:
    location = self_booking.usual_location(request.user)
    if location is None:
        return {}
    return {
        "location": location,
        "first_date": next_weekday(self_booking.earliest_first_date(location)),
        "weekdays": [0, 2, 4],
        "window_starts": dt.time(9),
        "window_ends": dt.time(12),
    }


@patient_only
def book(request: AuthenticatedRequest) -> HttpResponse:
    """Book my infusions: preferences, then the planner's proposal held for a few minutes,
    then "Book all" (all or nothing) or the first few now and the rest later."""
    plan = _own_plan(request)
    blockers = booking_blockers(request.user)
    if _active_series(request) is not None:
        messages.info(request, gettext("Your series is already booked."))
        return redirect("scheduling:self_home")
    form = SelfPlanRequestForm(
        request.POST if request.method == "POST" else None, initial=_initial_preferences(request)
    )
    context: dict[str, Any] = {"plan": plan, "blockers": blockers, "form": form}
    if plan is None or blockers or request.method != "POST" or not form.is_valid():
        return render(request, "scheduling/self/book.html", context)
    location = form.cleaned_data["location"]
    planner_request = form.to_request(plan)
    context["location"] = location
    context["terms"] = hooks.billing().booking_terms(location.pk, request.user)
    if request.POST.get("action") == "book":
        book_form = SelfBookForm(request.POST, sessions=plan.infusions)
        context["book_form"] = book_form
        if not book_form.is_valid():
            messages.error(
                request, gettext("Choose a date and time for every session from the list.")
            )
            return render(request, "scheduling/self/book.html", context)
        choices = [services.Choice(day, time) for day, time in book_form.choices()]
        try:
            series = self_booking.book_own_series(
                request.user, location, choices, book_first=book_form.cleaned_data["book_first"]
            )
        except services.BookingConflict as conflict:
            messages.error(
                request,
                gettext(
                    "Session %(session)s was just taken by someone else, so nothing was "
                    "booked. Here is a fresh proposal."
                )
                % {"session": conflict.describe()},
            )
            context["failed"] = conflict.failed
        except (services.SchedulingError, NotBookable) as error:
            messages.error(request, _words(error))
            return render(request, "scheduling/self/book.html", context)
        else:
            booked = series.sessions.count()
            if series.is_awaiting_desk:
                messages.success(
                    request,
                    gettext(
                        "Requested %(count)s sessions at %(location)s. The clinic will confirm "
                        "them; we will write to you when it does."
                    )
                    % {"count": booked, "location": location.name},
                )
            else:
                messages.success(
                    request,
                    gettext("Booked %(count)s sessions at %(location)s.")
                    % {"count": booked, "location": location.name},
                )
            return redirect("scheduling:self_home")
    try:
        proposal, holds = self_booking.hold_proposal(request.user, location, planner_request)
    except (services.SchedulingError, NotBookable) as error:
        messages.error(request, _words(error))
        return render(request, "scheduling/self/book.html", context)
    context.update(_proposal_context(request, proposal, holds))
    return render(request, "scheduling/self/book.html", context)


@patient_only
def book_rest(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The rest of a series booked in part, within the plan's span."""
    series = access.get_series_for(
        request,
        public_id,
        Series.objects.filter(status=Series.SeriesStatus.ACTIVE).select_related("location", "plan"),
    )
    left = self_booking.remaining(series)
    if not left:
        messages.info(request, gettext("Every session of your plan is booked."))
        return redirect("scheduling:self_home")
    form = RestRequestForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"series": series, "form": form, "remaining": left}
    if request.method != "POST" or not form.is_valid():
        return render(request, "scheduling/self/book_rest.html", context)
    weekdays, windows = form.preferences()
    context["location"] = series.location
    if request.POST.get("action") == "book":
        book_form = SelfBookForm(request.POST, sessions=left)
        if not book_form.is_valid():
            messages.error(
                request, gettext("Choose a date and time for every session from the list.")
            )
            return render(request, "scheduling/self/book_rest.html", context)
        choices = [services.Choice(day, time) for day, time in book_form.choices()]
        try:
            self_booking.book_rest(series, choices)
        except services.BookingConflict as conflict:
            messages.error(
                request,
                gettext(
                    "Session %(session)s was just taken by someone else, so nothing was "
                    "booked. Here is a fresh proposal."
                )
                % {"session": conflict.describe()},
            )
        except (services.SchedulingError, NotBookable) as error:
            messages.error(request, _words(error))
            return render(request, "scheduling/self/book_rest.html", context)
        else:
            if series.is_awaiting_desk:
                messages.success(
                    request,
                    gettext(
                        "Requested the remaining %(count)s sessions. The clinic will confirm them "
                        "with the others; we will write to you when it does."
                    )
                    % {"count": left},
                )
            else:
                messages.success(
                    request,
                    gettext("Booked the remaining %(count)s sessions.") % {"count": left},
                )
            return redirect("scheduling:self_home")
    try:
        proposal, holds = self_booking.hold_rest(series, weekdays, windows)
    except (services.SchedulingError, NotBookable) as error:
        messages.error(request, _words(error))
        return render(request, "scheduling/self/book_rest.html", context)
    context.update(_proposal_context(request, proposal, holds))
    return render(request, "scheduling/self/book_rest.html", context)


def _words(error: Exception) -> str:
    if isinstance(error, NotBookable):
        return " ".join(error.reasons)
    return str(error)


@patient_only
@require_POST
def move(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = access.get_session_for(request, public_id)
    form = SelfMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Give the date and the time you would like instead."))
        return redirect("scheduling:self_home")
    choice = services.Choice(form.cleaned_data["date"], form.cleaned_data["time"])
    and_following = form.cleaned_data["and_following"]
    try:
        moved = self_booking.move_own_session(session, choice, and_following=and_following)
    except services.BookingConflict as conflict:
        unchanged = (
            gettext("None of your appointments was changed")
            if and_following
            else gettext("Your appointment was not changed")
        )
        messages.error(
            request,
            gettext(
                "Appointment %(appointment)s cannot move there (the clinic may be closed, or no "
                "chair or nurse is free then). %(unchanged)s; please try another time."
            )
            % {"appointment": conflict.describe(), "unchanged": unchanged},
        )
    except services.SchedulingError as error:
        unchanged = (
            gettext("None of your appointments was changed.")
            if and_following
            else gettext("Your appointment was not changed.")
        )
        messages.error(request, f"{error} {unchanged}")
    else:
        if len(moved) > 1:
            messages.success(
                request,
                gettext("Appointments %(first)s to %(last)s are moved.")
                % {"first": moved[0].number, "last": moved[-1].number},
            )
        else:
            messages.success(
                request, gettext("Appointment %(number)s is moved.") % {"number": session.number}
            )
    return redirect("scheduling:self_home")


@patient_only
@require_http_methods(["GET", "POST"])
def cancel(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """Cancel one's own appointment; the GET asks first (the page behind the dialog)."""
    session = access.get_session_for(request, public_id)
    if request.method == "GET":
        return cancel_confirmation(request, session, keep_url=reverse("scheduling:self_home"))
    try:
        self_booking.cancel_own_session(session)
    except services.SchedulingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, gettext("Appointment %(number)s is cancelled.") % {"number": session.number}
        )
    return redirect("scheduling:self_home")


@patient_only
@require_POST
def join_waitlist(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """Ask for an earlier slot: a freed one that fits the series is offered by email and text."""
    session = access.get_session_for(request, public_id)
    form = WaitlistForm(request.POST)
    if not session.is_upcoming:
        messages.error(request, gettext("Only an appointment still ahead can be moved earlier."))
    elif not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    elif form.cleaned_data["earliest_date"] < session.location.local_today():
        messages.error(request, gettext("The first date you could come is in the past."))
    elif WaitlistEntry.objects.filter(
        session=session, status=WaitlistEntry.EntryStatus.WAITING
    ).exists():
        messages.info(request, gettext("You are already waiting for an earlier slot for this one."))
    else:
        WaitlistEntry.objects.create(
            location=session.location, session=session, **form.cleaned_data
        )
        messages.success(
            request,
            gettext("You are on the waitlist: we will email and text you if a slot frees up."),
        )
    return redirect("scheduling:self_home")


@patient_only
def offer(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """An earlier slot offered from the waitlist (the link in the offer's email and text)."""
    hold = access.get_offer_for(request, public_id=public_id)
    assert hold.entry is not None
    session = hold.entry.session
    if request.method == "POST":
        try:
            self_booking.accept_own_offer(hold)
        except services.SchedulingError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                gettext("Appointment %(number)s is moved to the earlier slot.")
                % {"number": session.number},
            )
            return redirect("scheduling:self_home")
    return render(
        request,
        "scheduling/self/offer.html",
        {
            "hold": hold,
            "session": session,
            "live": hold.is_live and session.status in UPCOMING_STATUSES,
        },
    )
