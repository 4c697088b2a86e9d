"""Patients book and manage their own series online
(docs/roles/patient.md#patients-book-their-own-series), through the desk's services.

Every workflow here calls scheduling.services (book_series, book_more, move_sessions,
cancel_sessions, accept_hold), so a patient keeps the desk's rules (spacing, hours, chairs,
nurses, the plan's span) and the same messages are planned. What this module adds is the
location's self-booking settings (on or off, minimum notice, how far ahead, whether the desk
confirms: then the series is booked but awaits the desk, `Series.awaiting_desk_since`, and
services.confirm_self_booked or decline_self_booked decide it) and the patient's holds:
while the patient chooses, the proposed slots are Hold rows that the planner counts for
everyone (`Hold.objects.live()`), released on expiry or booking.

The lock order is services': locations first (`_lock_locations`), then the patient's own row
(so their proposals and bookings run one at a time, wherever they are), then holds (the
patient's own, released before a new proposal or a booking so they never block the patient's
own choice), then sessions. A patient has at most one live set of holds: a new proposal, at
any location, releases the last one; a booking releases them, and so does a booking that lost
its race to someone else (its proposal is stale; the page proposes afresh).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import PatientProfile, User
from locations.models import Location
from review.services import assert_bookable, booking_blockers
from scheduling import hooks, planner
from scheduling.models import Hold, Series, Session
from scheduling.services import (
    BookingConflict,
    Choice,
    SchedulingError,
    _lock_locations,
    _retried,
    accept_hold,
    book_more,
    book_series,
    cancel_sessions,
    move_sessions,
)
from worklist import services as worklist
from worklist.models import Cause

# How long a proposal is kept for the patient choosing it: a short time
# (docs/product-rules.md#booking-online).
HOLD_MINUTES = 10
CANCELLED_ONLINE = "Cancelled by the patient online"

R = TypeVar("R")


class SelfServiceRefused(SchedulingError):
    """What the patient may not do online, in words meant for them."""


class LateCancellation(SelfServiceRefused):
    """Too close to the start to cancel online: the clinic takes it by phone."""

    def __init__(self, location: Location) -> None:
        if location.phone:
            words = gettext(
                "This appointment is too soon to cancel online. Please call %(location)s on "
                "%(phone)s; a cancellation this close may count as late."
            )
        else:
            words = gettext(
                "This appointment is too soon to cancel online. Please call %(location)s; a "
                "cancellation this close may count as late."
            )
        super().__init__(words % {"location": location.name, "phone": location.phone})


def locations() -> QuerySet[Location]:
    """Where patients may book their own series."""
    return Location.objects.filter(is_active=True, self_booking=True)


def own_location(patient: User) -> Location | None:
    """The patient's clinic: their preferred location, else where their last series was."""
    profile = PatientProfile.objects.filter(user=patient).select_related("preferred_location")
    preferred = profile.first()
    if preferred is not None and preferred.preferred_location is not None:
        return preferred.preferred_location
    last = Series.objects.filter(patient=patient).select_related("location").order_by("-created_at")
    series = last.first()
    return series.location if series is not None else None


def usual_location(patient: User) -> Location | None:
    """Where the patient would book online: their own clinic when it takes bookings online,
    else the first that does."""
    own = own_location(patient)
    if own is not None and own.is_active and own.self_booking:
        return own
    return locations().first()


def may_book_online(patient: User) -> Location | None:
    """The clinic where the patient may book their series online now, if any: an approved plan
    with nothing blocking it, no series booked yet, and their own clinic (any, when they have
    none yet) taking bookings online."""
    if Series.objects.filter(patient=patient, status=Series.SeriesStatus.ACTIVE).exists():
        return None
    if booking_blockers(patient):
        return None
    own = own_location(patient)
    if own is not None:
        return own if own.is_active and own.self_booking else None
    return locations().first()


def earliest_first_date(location: Location) -> dt.date:
    """The first local date on which every start is at least the minimum notice away."""
    notice = dt.timedelta(hours=location.self_booking_notice_hours)
    return (timezone.now() + notice).astimezone(location.zone).date() + dt.timedelta(days=1)


def latest_first_date(location: Location) -> dt.date:
    return location.local_today() + dt.timedelta(days=location.self_booking_days_ahead)


def _check_open(location: Location) -> None:
    if not location.self_booking or not location.is_active:
        raise SelfServiceRefused(
            gettext("%(location)s does not take bookings online; please call the clinic.")
            % {"location": location.name}
        )


def _check_notice(location: Location, choices: list[Choice]) -> None:
    """Each start is at least the location's minimum notice away (booking or moving)."""
    earliest = timezone.now() + dt.timedelta(hours=location.self_booking_notice_hours)
    for choice in choices:
        start = dt.datetime.combine(choice.date, choice.time, tzinfo=location.zone)
        if start < earliest:
            raise SelfServiceRefused(
                gettext(
                    "%(location)s needs %(hours)s hours' notice for an appointment booked "
                    "online; choose a later time or call the clinic."
                )
                % {"location": location.name, "hours": location.self_booking_notice_hours}
            )
    if choices and choices[0].date > latest_first_date(location):
        raise SelfServiceRefused(
            gettext("%(location)s takes bookings online up to %(days)s days ahead.")
            % {"location": location.name, "days": location.self_booking_days_ahead}
        )


def _release_own_holds(patient: User) -> None:
    """Steps 2 and 3 of the lock order: the patient's own proposal, wherever it is, gives way
    to their new choice.

    The patient's row is locked first: two proposals at two locations lock different
    locations, and without it each would release the holds it can see (not the other's, not
    yet committed) and both sets would stay live.
    """
    User.objects.select_for_update(no_key=True).filter(pk=patient.pk).values_list("pk").get()
    Hold.objects.filter(patient=patient, released_at__isnull=True).update(
        released_at=timezone.now()
    )


def _book_releasing_holds(
    patient: User, location: Location, choices: list[Choice], book: Callable[[], R]
) -> R:
    """Lock the locations (step 1), release the patient's holds (steps 2 and 3), then `book`,
    in one transaction. A booking that lost its race to someone else (BookingConflict) rolls
    back to a savepoint and still releases the holds: they kept a proposal that is now stale,
    and the page proposes afresh."""
    with transaction.atomic():
        _lock_locations(location, choices[0].date, choices[-1].date)
        _release_own_holds(patient)
        try:
            with transaction.atomic():
                return book()
        except BookingConflict as conflict:
            lost = conflict
    raise lost


@_retried
def hold_proposal(
    patient: User, location: Location, request: planner.Request
) -> tuple[planner.Proposal, list[Hold]]:
    """The planner's proposal for the patient's series, its sessions held for HOLD_MINUTES.

    The patient's earlier holds are released first, under the locations' lock, so a new
    proposal never competes with the last one; the alternatives are shown, not held."""
    _check_open(location)
    assert_bookable(patient)
    first, last = planner.horizon(request)
    with transaction.atomic():
        _lock_locations(location, first, last)
        _release_own_holds(patient)
        proposal = planner.propose(location, patient.pk, request)
        expires = timezone.now() + dt.timedelta(minutes=HOLD_MINUTES)
        holds = Hold.objects.bulk_create(
            Hold(
                patient=patient,
                location=location,
                chair_id=item.slot.chair_id,
                nurse_id=item.slot.nurse_id,
                starts_at=item.slot.starts_at(),
                setup_ends_at=item.slot.setup_ends_at(),
                ends_at=item.slot.ends_at(),
                expires_at=expires,
            )
            for item in proposal.sessions
        )
    return proposal, holds


@_retried
def book_own_series(
    patient: User,
    location: Location,
    choices: list[Choice],
    *,
    book_first: int | None = None,
) -> Series:
    """Book the patient's chosen series, all or nothing (or its first `book_first` sessions),
    with the desk's `book_series`; the patient is who booked it.

    Their own holds are released inside the same transaction, so they do not block this
    booking; they stay released if someone else took a session (BookingConflict).
    """
    _check_open(location)
    plan = assert_bookable(patient)
    _check_notice(location, choices[:1])

    # A location that wants a deposit or a package first has the desk confirm once it is paid
    # (docs/payments.md#deposits-and-packages-before-confirmation).
    needs_desk = location.self_booking_desk_confirms or hooks.billing().payment_first(
        location.pk, patient
    )

    def book() -> Series:
        series = book_series(
            plan,
            location,
            choices,
            booked_by=patient,
            book_first=book_first,
            awaiting_desk=needs_desk,
        )
        if needs_desk:
            worklist.open_task(
                Cause.SELF_BOOKED,
                f"series:{series.pk}",
                subject=patient.get_full_name() or "A patient",
                detail="Booked online by the patient; its chairs are held. Confirm it, or "
                "decline it with a reason, on the series page.",
                link=reverse("scheduling:series", args=[series.public_id]),
                location_pk=location.pk,
            )
        return series

    return _book_releasing_holds(patient, location, choices, book)


def remaining(series: Series) -> int:
    """Sessions of the plan not booked yet (a series booked in part)."""
    return max(series.plan.infusions - series.sessions.active().count(), 0)


def rest_request(
    series: Series, weekdays: frozenset[int], windows: tuple[planner.Window, ...]
) -> planner.Request:
    """The planner's request for the rest of a series: the sessions still to book, starting the
    plan's minimum gap after the last booked one, inside what is left of the plan's span."""
    plan = series.plan
    sessions = list(series.sessions.active().select_related("location").order_by("starts_at"))
    first = sessions[0].local_start().date()
    last = sessions[-1].local_start().date()
    shape = planner.PlanShape.from_plan(plan)
    left = remaining(series)
    used = (last - first).days
    rest = planner.PlanShape(
        infusions=left,
        min_days_between=shape.min_days_between,
        max_days_between=shape.max_days_between,
        span_days=max(shape.span_days - used - shape.min_days_between, 0),
        setup_minutes=shape.setup_minutes,
        chair_minutes=shape.chair_minutes,
    )
    start = max(
        last + dt.timedelta(days=shape.min_days_between), earliest_first_date(series.location)
    )
    return planner.Request(shape=rest, first_date=start, weekdays=weekdays, windows=windows)


def hold_rest(
    series: Series, weekdays: frozenset[int], windows: tuple[planner.Window, ...]
) -> tuple[planner.Proposal, list[Hold]]:
    """A held proposal for the sessions of a series booked in part."""
    return hold_proposal(series.patient, series.location, rest_request(series, weekdays, windows))


@_retried
def book_rest(series: Series, choices: list[Choice]) -> list[Session]:
    """Book the rest of a series booked in part, all or nothing, with the desk's rules."""
    location = series.location
    _check_open(location)
    _check_notice(location, choices[:1])
    return _book_releasing_holds(
        series.patient, location, choices, lambda: book_more(series, choices)
    )


def move_own_session(
    session: Session, choice: Choice, *, and_following: bool = False
) -> list[Session]:
    """Move the patient's session (or it and the following ones, by as many days) with the
    desk's `move_sessions`: its spacing, hours, chairs, nurses and holds, all or nothing, the
    same messages re-planned; plus the location's notice. The desk's series page shows that
    the patient moved them."""
    _check_open(session.location)
    if session.starts_at < timezone.now() + dt.timedelta(
        hours=session.location.self_booking_notice_hours
    ):
        if session.location.phone:
            words = gettext(
                "This appointment is too soon to move online; please call %(location)s on "
                "%(phone)s."
            )
        else:
            words = gettext(
                "This appointment is too soon to move online; please call %(location)s."
            )
        raise SelfServiceRefused(
            words % {"location": session.location.name, "phone": session.location.phone}
        )
    _check_notice(session.location, [choice])
    # The following sessions move later than this one, so their notice is kept too.
    return move_sessions(session, choice, and_following=and_following, moved_by=session.patient)


def cancel_own_session(session: Session) -> list[Session]:
    """Cancel online within the session's cancellation policy; later, only by phone."""
    if not session.cancellation_policy().online_open(timezone.now()):
        raise LateCancellation(session.location)
    return cancel_sessions(session, reason=CANCELLED_ONLINE)


def accept_own_offer(hold: Hold) -> Session:
    """Take an earlier slot the waitlist offered: the desk's accept_hold, moved by the patient."""
    assert hold.entry is not None
    return accept_hold(hold, moved_by=hold.entry.session.patient)
