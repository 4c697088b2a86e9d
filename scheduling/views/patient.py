"""The signed-in patient's pages: the patient's home (docs/roles/patient.md#the-patients-home),
their appointments, confirming and cancelling one, the calendar file and feed address."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.requests import AuthenticatedRequest
from intake.views import home_status
from scheduling import access, boosters, ics, self_booking, services
from scheduling.forms import MyAppointmentForm
from scheduling.models import (
    ONLINE_CANCEL_BEFORE,
    CalendarFeed,
    Session,
    Status,
    Visit,
    new_calendar_token,
)
from scheduling.views.responses import cancel_confirmation, ics_response
from scheduling.views.roles import patient_only


def _upcoming_for(patient: User) -> list[Session]:
    """The patient's booked or confirmed sessions still to come, each with what the cancellation
    policy (Session.cancellation_policy, the one rule) allows now."""
    now = timezone.now()
    sessions = list(
        Session.objects.active()
        .filter(patient=patient, ends_at__gte=now)
        .select_related("location", "series")
        .order_by("starts_at")
    )
    for session in sessions:
        session.can_cancel_online = (  # type: ignore[attr-defined]  # for the template
            session.is_upcoming and session.cancellation_policy().online_open(now)
        )
        session.online_cancel_hours = int(  # type: ignore[attr-defined]  # for the template
            ONLINE_CANCEL_BEFORE.total_seconds() // 3600
        )
    return sessions


@patient_only
def home(request: AuthenticatedRequest) -> HttpResponse:
    """The patient's home at /intake/ ("scheduling:patient_home", the patients' `get_home_url`):
    the next appointment with confirm, cancel and what to do before it, the next visit with a
    clinician and a booster that may be booked, then the intake's state
    (intake.views.home_status). It lives here because intake may not know of appointments."""
    upcoming = [session for session in _upcoming_for(request.user) if session.is_upcoming]
    now = timezone.now()
    next_visit = (
        Visit.objects.active()
        .filter(patient=request.user, ends_at__gt=now)
        .select_related("location", "clinician")
        .order_by("starts_at")
        .first()
    )
    return render(
        request,
        "scheduling/patient_home.html",
        {
            **home_status(request.user),
            "next_session": upcoming[0] if upcoming else None,
            "more_sessions": len(upcoming) - 1 if upcoming else 0,
            "book_online_at": None if upcoming else self_booking.may_book_online(request.user),
            # The next visit with a clinician beside the next session, with its video link under
            # the visit page's rule (docs/visits.md#video-visits).
            "next_visit": next_visit,
            "visit_link_open": next_visit is not None and next_visit.video_link_open(now),
            "booster_due": boosters.bookable_booster_of(request.user),
        },
    )


@patient_only
def my_sessions(request: AuthenticatedRequest) -> HttpResponse:
    feed = CalendarFeed.objects.filter(patient=request.user).first()
    return render(
        request,
        "scheduling/my_sessions.html",
        {
            "sessions": _upcoming_for(request.user),
            # Visits with a clinician, each with its own page and video link
            # (docs/visits.md#video-visits).
            "visits": list(
                Visit.objects.active()
                .filter(patient=request.user, ends_at__gte=timezone.now())
                .select_related("location")
                .order_by("starts_at")
            ),
            "feed_url": request.build_absolute_uri(reverse("scheduling:feed", args=[feed.token]))
            if feed
            else None,
        },
    )


@patient_only
@require_POST
def confirm_mine(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = access.get_session_for(request, public_id)
    if services.confirm_session(session):
        messages.success(request, gettext("Thank you: your appointment is confirmed."))
    elif session.status == Status.CONFIRMED:
        messages.info(request, gettext("This appointment was already confirmed."))
    else:
        messages.info(request, gettext("This appointment can no longer be confirmed online."))
    return redirect(MyAppointmentForm(request.POST).next_url())


@patient_only
@require_http_methods(["GET", "POST"])
def cancel_mine(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """Cancel online while the cancellation policy allows it; later, the clinic's phone. The GET
    asks first (the page behind the cancel button's dialog)."""
    session = access.get_session_for(request, public_id)
    back = MyAppointmentForm(request.POST).next_url()
    if request.method == "GET" and session.is_upcoming:
        return cancel_confirmation(request, session, keep_url=back, back="sessions")
    if not (session.is_upcoming and session.cancellation_policy().online_open(timezone.now())):
        phone = session.location.phone or gettext("the clinic")
        messages.warning(
            request,
            gettext("This appointment can no longer be cancelled online; please call %(phone)s.")
            % {"phone": phone},
        )
        return redirect(back)
    try:
        services.cancel_sessions(session, reason="Cancelled by the patient online")
    except services.SchedulingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, gettext("Your appointment is cancelled. The clinic has been told.")
        )
    return redirect(back)


@patient_only
@require_POST
def reset_feed(request: AuthenticatedRequest) -> HttpResponse:
    """Create the private feed, or replace its address so an old copy stops working."""

    CalendarFeed.objects.update_or_create(
        patient=request.user, defaults={"token": new_calendar_token()}
    )
    messages.success(
        request, gettext("Your private calendar address is ready. Keep it to yourself.")
    )
    return redirect("scheduling:my_sessions")


@patient_only
def session_ics(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = access.get_session_for(request, public_id)
    return ics_response(ics.calendar([session]), "appointment.ics")
