"""The front desk's pages: the start page, search, planning and booking a series, a series and
its sessions (their moves, cancellations and check-ins, from the series page or the calendar:
scheduling.views.desk_calendar), messages that could not be sent."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import patients_visible_to
from accounts.models import User
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from audit.models import AuditEvent
from clinic.querystrings import query_form
from intake import services as intake_services
from intake.models import UrgentFlag
from locations.models import Location
from notifications.models import InboundText, Message, MessageStatus
from review.models import TreatmentPlan
from review.services import NotBookable, booking_blockers
from scheduling import access, calendar, hooks, planner, services
from scheduling.forms import (
    BookForm,
    CancelForm,
    DeclineSeriesForm,
    MoveForm,
    PatientQuery,
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
        patients = list(
            patients_visible_to(request.user)
            .filter(patient_terms(query))
            .select_related("patient_profile")
            .prefetch_related("series__location")
            .order_by("last_name", "first_name")[:50]
        )
    return render(request, "scheduling/search.html", {"form": form, "patients": patients})


def patient_terms(query: PatientQuery) -> Q:
    """The patients a search means: by date of birth, phone digits, or words of a name or an
    email (docs/roles/front-desk.md#finding-a-patient)."""
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
    return terms


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
    plan = access.get_plan_for(request, public_id)
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


@desk_only
def series_detail(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _series_page(request, access.get_series_for(request, public_id))


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
    series = access.get_series_for(request, public_id)
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
    series = access.get_series_for(request, public_id)
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


def _back_to_series(session: Session) -> HttpResponse:
    return redirect("scheduling:series", public_id=session.series.public_id)


def _back(request: AuthenticatedRequest, session: Session) -> HttpResponse:
    """Back to the desk's calendar of the session's day (or week) when the action came from
    there (`back=calendar`, `session` or `week`), else to the series page."""
    back = request.POST.get("back")
    if back in ("calendar", "session", "week"):
        day = session.local_start().date().isoformat()
        view = "scheduling:week" if back == "week" else "scheduling:day"
        return redirect(view, slug=session.location.slug, day=day)
    return _back_to_series(session)


def _last_mover(session: Session) -> str:
    """Who made the session's last move, as the desk reads it: the patient online, or the staff
    member whose move the audit log holds."""
    if session.moved_by_id is not None and session.moved_by_id == session.patient_id:
        return "the patient"
    event = (
        AuditEvent.objects.filter(
            record_type="session", record_id=str(session.public_id), detail__startswith="moved"
        )
        .order_by("-at")
        .first()
    )
    actor = User.objects.filter(pk=event.actor_id).first() if event and event.actor_id else None
    return actor.get_full_name() or actor.email if actor else "someone else"


def _where(session: Session) -> str:
    start = session.local_start()
    return f"{start:%a} {start.day} {start:%b} {start:%H:%M} {start:%Z}, {session.chair.name}"


@desk_only
@require_POST
def move(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """Move a session from the series page, or from the desk's calendar (dropped on a chair
    and time, or the move form of its actions): the same service, rules and messages."""
    session = access.get_session_for(request, public_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a date and a time to move to.")
        return _back(request, session)
    data = form.cleaned_data
    chair = data["chair"]
    if chair is not None and not session.location.chairs.filter(pk=chair, is_active=True).exists():
        messages.error(request, "Choose a chair of this location; nothing was changed.")
        return _back(request, session)
    seen = calendar.parse_version(data["seen"]) if data["seen"] else None
    if data["seen"] and seen is None:
        messages.error(request, "Reload the calendar and try again; nothing was changed.")
        return _back(request, session)
    choice = services.Choice(data["date"], data["time"], chair_id=chair)
    moved: list[Session] = []
    try:
        moved = services.move_sessions(
            session, choice, and_following=data["and_following"], seen=seen
        )
    except services.MovedMeanwhile as meanwhile:
        now = Session.objects.select_related("chair", "location").get(pk=meanwhile.session.pk)
        messages.error(
            request,
            f"This session was moved by {_last_mover(now)} to {_where(now)} while you were "
            "looking. Nothing was changed; the calendar shows it where it is now.",
        )
        return _back(request, now)
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
        for each in moved:
            audit.record(
                request,
                "update",
                "session",
                each.public_id,
                each.patient_id,
                f"moved to {each.starts_at:%Y-%m-%d %H:%M} UTC, chair {each.chair_id}",
            )
        messages.success(request, f"Moved {len(moved)} session{'s' if len(moved) > 1 else ''}.")
        session.refresh_from_db(fields=["starts_at", "chair"])
    if data["back"] == "session" and not moved:
        # Refused from the move form of the session's actions: the form again, with the reason.
        return redirect("scheduling:session", public_id=session.public_id)
    return _back(request, session)


@desk_only
@require_http_methods(["GET", "POST"])
def cancel(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = access.get_session_for(request, public_id)
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
    return _back(request, session)


@desk_only
@require_POST
def transition(request: AuthenticatedRequest, public_id: UUID, action: str) -> HttpResponse:
    session = access.get_session_for(request, public_id)
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
    return _back(request, session)


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
    session = access.get_session_for(request, public_id)
    form = UndoCheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["reason"][0]))
        return _back(request, session)
    try:
        services.undo_check_in(session, back_to=_status_before_check_in(session))
    except services.InvalidTransition as error:
        messages.error(request, str(error))
        return _back(request, session)
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
    return _back(request, session)


@desk_only
@require_POST
def join_waitlist(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = access.get_session_for(request, public_id)
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
    hold = access.get_offer_for(request, pk=hold_id)
    try:
        session = services.accept_hold(hold)
    except services.SchedulingError as error:
        messages.error(request, str(error))
        return redirect("scheduling:desk")
    messages.success(request, "The offered slot is booked.")
    return _back_to_series(session)


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
