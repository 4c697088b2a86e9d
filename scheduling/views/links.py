"""Pages behind a signed token instead of a login: the calendar feed and the confirm/cancel link
of a reminder (the token is the key)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from scheduling import ics, links, services, visits
from scheduling.models import (
    CalendarFeed,
    Session,
    Visit,
)
from scheduling.views.responses import cancel_confirmation, ics_response


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """A calendar app fetches this without a login: the random token is the key."""
    subscription = get_object_or_404(CalendarFeed, token=token)
    sessions = (
        Session.objects.filter(
            patient_id=subscription.patient_id,
            starts_at__gte=timezone.now() - dt.timedelta(days=30),
        )
        .select_related("location", "series")
        .order_by("starts_at")
    )
    visits = (
        Visit.objects.filter(
            patient_id=subscription.patient_id,
            starts_at__gte=timezone.now() - dt.timedelta(days=30),
        )
        .select_related("location")
        .order_by("starts_at")
    )
    # A calendar app sends no language of the patient's: the feed is in their stored one.
    patient = User.objects.select_related("patient_profile").get(pk=subscription.patient_id)
    with translation.override(links.patient_language(patient)):
        return ics_response(ics.calendar(sessions, visits=visits), "appointments.ics")


def session_action(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm or cancel from the reminder's link. GET only shows the choice (link scanners
    follow GETs); the POST acts. Cancelling online follows the session's cancellation policy."""

    try:
        public_id = links.unsign(links.ACTION_SALT, token)
    except signing.BadSignature:
        return render(request, "scheduling/link_invalid.html", status=404)
    session = get_object_or_404(
        Session.objects.select_related("location", "patient__patient_profile"), public_id=public_id
    )
    # The link came in the patient's email or text, in their language: the page answers in it.
    translation.activate(links.patient_language(session.patient))
    request.LANGUAGE_CODE = translation.get_language()
    now = timezone.now()
    upcoming = session.is_upcoming
    can_cancel = upcoming and session.cancellation_policy().online_open(now)
    done = ""
    if request.method == "POST" and upcoming:
        action = request.POST.get("action")
        if action == "confirm":
            services.confirm_session(session)
            done = "confirmed"
        elif action == "cancel" and can_cancel and request.POST.get("confirmed") != "yes":
            # Asked first: the dialog and the confirmation page post confirmed=yes.
            return cancel_confirmation(request, session, keep_url=request.path, by_link=True)
        elif action == "cancel" and can_cancel:
            try:
                services.cancel_sessions(session, reason="Cancelled by the patient online")
            except services.SchedulingError as error:
                messages.error(request, str(error))
            else:
                done = "cancelled"
        session.refresh_from_db()
        upcoming = session.is_upcoming
    return render(
        request,
        "scheduling/session_action.html",
        {
            "session": session,
            "upcoming": upcoming,
            "can_cancel": can_cancel,
            "done": done,
            "token": token,
        },
    )


def session_action_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The reminder link's question before a cancellation, where JavaScript does not run: a
    GET that changes nothing; its form posts to the link's own page."""
    try:
        public_id = links.unsign(links.ACTION_SALT, token)
    except signing.BadSignature:
        return render(request, "scheduling/link_invalid.html", status=404)
    session = get_object_or_404(
        Session.objects.select_related("location", "patient__patient_profile"), public_id=public_id
    )
    translation.activate(links.patient_language(session.patient))
    request.LANGUAGE_CODE = translation.get_language()
    back = reverse("scheduling:session_action", args=[token])
    if not (session.is_upcoming and session.cancellation_policy().online_open(timezone.now())):
        return redirect(back)
    response = cancel_confirmation(request, session, keep_url=back, by_link=True)
    return response


def visit_action(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm or cancel a visit from its reminder's link, in the patient's language (GET shows
    the choice, POST acts; cancelling asks first). Cancelling follows the online rule of the
    patient's visit page (docs/visits.md#patients-change-their-visits); moving needs the
    patient to sign in, so the page links to their visit."""
    try:
        public_id = links.unsign(links.VISIT_ACTION_SALT, token)
    except signing.BadSignature:
        return render(request, "scheduling/link_invalid.html", status=404)
    visit = get_object_or_404(
        Visit.objects.select_related("location", "patient__patient_profile"), public_id=public_id
    )
    translation.activate(links.patient_language(visit.patient))
    request.LANGUAGE_CODE = translation.get_language()
    done = ""
    if request.method == "POST" and visit.is_upcoming:
        action = request.POST.get("action")
        if action == "confirm":
            visits.confirm_visit(visit)
            done = "confirmed"
        elif action == "cancel" and request.POST.get("confirmed") != "yes":
            return render(request, "scheduling/visit_action.html", {"visit": visit, "ask": True})
        elif action == "cancel":
            try:
                visits.cancel_by_patient(visit)
            except services.SchedulingError as error:
                messages.error(request, str(error))
            else:
                done = "cancelled"
        visit.refresh_from_db()
    return render(
        request,
        "scheduling/visit_action.html",
        {
            "visit": visit,
            "upcoming": visit.is_upcoming,
            "refusal": visits.online_change_refusal(visit, timezone.now()),
            "done": done,
        },
    )
