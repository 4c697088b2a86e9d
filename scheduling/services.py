"""Booking, moving and cancelling sessions, safely under concurrency
(docs/product-rules.md#resources).

Every change that takes a chair or a nurse runs in one transaction that first takes its locks,
then reloads what constrains the change, checks it, and writes. Locking once and late, then
checking, then writing, is the pattern pretix uses for quotas; the exclusion constraints on chairs,
patients, nurse set-ups and nurse shifts remain the last word if a code path forgot.

The lock order, the same on every path (a second order is a deadlock waiting for load):

1. location rows, in ascending id: the location of the change and every location where its
   nurses work over the dates concerned (`_lock_locations`), so a nurse's set-ups and monitoring
   load are checked across every site under one lock that covers them;
2. the patient's user row, FOR NO KEY UPDATE (self-booking: a patient's proposals and
   bookings, at any locations, run one at a time, so a patient has one live set of holds);
3. holds (accepting or releasing an offer, releasing a patient's proposal);
4. session rows, in ascending id;
5. the series row, by a conditional UPDATE (a series cancelled with its last session, or a
   series booked online confirmed or declined by the desk), then its worklist task;
6. waitlist entries (taken with SKIP LOCKED, never waited for).

A deadlock or serialization failure that still happens (two paths reaching rows PostgreSQL locks
implicitly, such as a foreign key's KEY SHARE) is retried a bounded number of times (`_retried`)
and otherwise reported as ConcurrentChange: "someone else changed this a moment ago; nothing was
changed".

Taking the location lock sets PostgreSQL's lock_timeout for the rest of the transaction
(SCHEDULING_LOCK_TIMEOUT_MS, a few seconds): a change that waits longer for a lock another
change holds gives up, its transaction rolls back, and the person is told the schedule is busy
(LocationBusy) instead of waiting until the web worker is killed. It is not retried: the other
change is long, and the person chooses whether to try again.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import django.dispatch
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from accounts.models import User
from locations.models import Location, NurseShift
from review.models import TreatmentPlan
from review.services import assert_bookable
from scheduling import hooks, planner, signals
from scheduling.models import (
    AWAITING_DESK,
    UPCOMING_STATUSES,
    Hold,
    Series,
    Session,
    Status,
    WaitlistEntry,
)
from worklist import services as worklist
from worklist.models import Cause, Task

HOLD_MINUTES = 30
EXCLUSIONS = (
    "session_chair_no_overlap, session_patient_no_overlap, session_nurse_setup_no_overlap, "
    # A patient's appointments of every kind (docs/visits.md#the-rules-in-postgresql).
    "appointment_patient_no_overlap"
)


class SchedulingError(Exception):
    pass


class SpacingError(SchedulingError):
    """The chosen dates break the plan's minimum or maximum gap or its total span."""


class BookingConflict(SchedulingError):
    """Some sessions can no longer be had; nothing was written. `reasons` says why, per session
    number, when the database's constraints named it."""

    def __init__(
        self,
        failed: list[int],
        proposal: planner.Proposal | None = None,
        reasons: dict[int, str] | None = None,
    ) -> None:
        self.failed = failed
        self.proposal = proposal
        self.reasons = reasons or {}
        super().__init__(f"sessions {failed} are no longer available")  # logs only; see describe

    def describe(self) -> str:
        """The sessions and why, in words: "Session 3 (the chair is taken then)"."""
        parts = [
            f"{number} ({self.reasons[number]})" if number in self.reasons else str(number)
            for number in self.failed
        ]
        return ", ".join(parts) or gettext("some")


class ConcurrentChange(SchedulingError):
    """Another change held what this one needed, and retrying did not get through."""

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "Someone else changed this a moment ago; nothing was changed. Please try again."
            )
        )


class LocationBusy(SchedulingError):
    """Another change held the location's lock for longer than SCHEDULING_LOCK_TIMEOUT_MS:
    this one gave up waiting, and nothing was written (patients read it, in their language)."""

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "The schedule is busy with another change right now; nothing was changed. "
                "Please try again in a moment."
            )
        )


# What each exclusion constraint means, for a conflict the checks did not catch (patients read
# these too, in their language).
CONSTRAINT_REASONS = {
    "session_chair_no_overlap": gettext_lazy("the chair is taken then"),
    "session_patient_no_overlap": gettext_lazy("the patient has another appointment then"),
    "session_nurse_setup_no_overlap": gettext_lazy("the nurse is setting up another patient then"),
    "appointment_patient_no_overlap": gettext_lazy("the patient has another appointment then"),
    "visit_clinician_no_overlap": gettext_lazy("the clinician has another visit then"),
}
RETRIES = 4
# PostgreSQL's deadlock_detected and serialization_failure.
TRANSIENT_CODES = frozenset({"40P01", "40001"})
# PostgreSQL's lock_not_available: lock_timeout fired.
LOCK_NOT_AVAILABLE = "55P03"

P = ParamSpec("P")
R = TypeVar("R")


def _retried(func: Callable[P, R]) -> Callable[P, R]:
    """Run a whole transaction again after a deadlock or serialization failure, a bounded
    number of times with a short random pause; then ConcurrentChange. Inside a caller's
    transaction it only converts: the caller's transaction is what must be run again.

    A lock waited for longer than the lock timeout is LocationBusy at once, never retried."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        attempts = 1 if connection.in_atomic_block else RETRIES
        for attempt in range(1, attempts + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as error:
                if is_lock_timeout(error):
                    raise LocationBusy from error
                if getattr(error.__cause__, "pgcode", None) not in TRANSIENT_CODES:
                    raise
                if attempt < attempts:
                    time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 (jitter)
        raise ConcurrentChange

    return run


def is_lock_timeout(error: OperationalError) -> bool:
    return getattr(error.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE


def _constraint(error: IntegrityError) -> str | None:
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)


def _constraint_reason(error: IntegrityError) -> str:
    return str(CONSTRAINT_REASONS.get(_constraint(error) or "", gettext("not free then")))


class InvalidTransition(SchedulingError):
    pass


class MovedMeanwhile(SchedulingError):
    """The session is no longer where the person moving it saw it: another desk (or the
    patient) moved it since their page was drawn. Nothing was changed; `session` is as it is
    now (docs/roles/front-desk.md#the-desks-calendar)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        super().__init__("the session was moved meanwhile")  # logs only; the view says more


@dataclass(frozen=True)
class Choice:
    """A start the front desk chose for one session: a local date and time at the location."""

    date: dt.date
    time: dt.time
    # The chair asked for (a session dropped on a chair of the desk's calendar); None: the
    # planner's best fit.
    chair_id: int | None = None

    @property
    def minute(self) -> int:
        return self.time.hour * 60 + self.time.minute


def check_spacing(dates: list[dt.date], shape: planner.PlanShape) -> None:
    """Gaps between consecutive sessions within [min, max] days; all within the total span."""
    for number, (before, after) in enumerate(itertools.pairwise(dates), start=2):
        gap = (after - before).days
        if gap < shape.min_days_between or gap > shape.max_days_between:
            raise SpacingError(
                ngettext(
                    "Session %(number)s is %(gap)s day after the one before; the plan needs "
                    "%(least)s to %(most)s days.",
                    "Session %(number)s is %(gap)s days after the one before; the plan needs "
                    "%(least)s to %(most)s days.",
                    gap,
                )
                % {
                    "number": number,
                    "gap": gap,
                    "least": shape.min_days_between,
                    "most": shape.max_days_between,
                }
            )
    if dates and (dates[-1] - dates[0]).days > shape.span_days:
        raise SpacingError(
            gettext("The series spans %(days)s days; the plan allows %(allowed)s.")
            % {"days": (dates[-1] - dates[0]).days, "allowed": shape.span_days}
        )


def _wait_at_most_lock_timeout() -> None:
    """PostgreSQL's lock_timeout for every lock the rest of this transaction waits for (it
    ends with the transaction, so a pooled connection keeps no trace of it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)",
            [f"{settings.SCHEDULING_LOCK_TIMEOUT_MS}ms"],
        )


def _lock(location: Location) -> Location:
    _wait_at_most_lock_timeout()
    return Location.objects.select_for_update().get(pk=location.pk)


def _lock_locations(location: Location, first: dt.date, last: dt.date) -> Location:
    """Lock `location` and every location where its nurses work between two of its local
    dates, in ascending id (step 1 of the lock order); the locked row of `location`."""
    zone = location.zone
    since = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    nurses = NurseShift.objects.filter(
        location=location, starts_at__lt=until, ends_at__gt=since
    ).values("nurse_id")
    elsewhere = NurseShift.objects.filter(
        nurse_id__in=nurses, starts_at__lt=until, ends_at__gt=since
    ).values("location_id")
    _wait_at_most_lock_timeout()
    locked = list(
        Location.objects.select_for_update()
        .filter(Q(pk=location.pk) | Q(pk__in=elsewhere))
        .order_by("pk")
    )
    return next(row for row in locked if row.pk == location.pk)


def _tell_booster_listeners(signal: django.dispatch.Signal, sessions: list[Session]) -> None:
    """A booster moved or cancelled, after commit (docs/architecture.md#signal-wiring)."""
    for session in sessions:
        if session.series.is_booster:
            signals.send_after_commit(signal, session)


def _session(series: Series, number: int, slot: planner.Slot) -> Session:
    return Session(
        series=series,
        number=number,
        patient=series.patient,
        location=series.location,
        chair_id=slot.chair_id,
        nurse_id=slot.nurse_id,
        starts_at=slot.starts_at(),
        setup_ends_at=slot.setup_ends_at(),
        ends_at=slot.ends_at(),
    )


@_retried
def book_series(
    plan: TreatmentPlan,
    location: Location,
    choices: list[Choice],
    *,
    booked_by: User,
    request: planner.Request | None = None,
    book_first: int | None = None,
    awaiting_desk: bool = False,
) -> Series:
    """Book every chosen session or none (all or nothing).

    With `awaiting_desk` (a patient's own booking where the location's desk confirms), the
    sessions take their chairs and nurses now but the series waits for the desk's Confirm or
    Decline (`Series.awaiting_desk_since`); the patient is told it is requested.

    With `book_first`, the whole series is chosen and checked against the plan's spacing, but
    only its first sessions are booked; the rest are booked later (`book_more`) within the
    plan's span (IntakeQ's "the first now and the others later").

    Raises NotBookable (urgent flag, no plan), SpacingError, or BookingConflict naming the
    sessions that were taken meanwhile, with a fresh proposal to choose from.
    """
    shape = planner.PlanShape.from_plan(plan)
    check_spacing([choice.date for choice in choices], shape)
    if len(choices) != plan.infusions:
        raise SpacingError(
            gettext("The plan has %(infusions)s infusions; %(chosen)s were chosen.")
            % {"infusions": plan.infusions, "chosen": len(choices)}
        )
    if book_first is not None:
        if not 1 <= book_first <= plan.infusions:
            raise SpacingError(
                gettext("Book between 1 and %(infusions)s sessions now.")
                % {"infusions": plan.infusions}
            )
        choices = choices[:book_first]
    try:
        with transaction.atomic():
            location = _lock_locations(location, choices[0].date, choices[-1].date)
            assert_bookable(plan.patient)
            resources = planner.load_resources(
                location,
                plan.patient_id,
                choices[0].date,
                choices[-1].date,
            )
            slots = [resources.slot(c.date, c.minute, shape, chair=c.chair_id) for c in choices]
            failed = [number for number, slot in enumerate(slots, start=1) if slot is None]
            if failed:
                raise BookingConflict(failed)
            series = Series.objects.create(
                plan=plan,
                patient=plan.patient,
                location=location,
                booked_by=booked_by,
                awaiting_desk_since=timezone.now() if awaiting_desk else None,
            )
            for number, slot in enumerate(slots, start=1):
                assert slot is not None
                try:
                    with transaction.atomic():  # a savepoint: the refusal names the session
                        _session(series, number, slot).save()
                except IntegrityError as error:
                    # The exclusion constraints caught what the checks did not: the outer
                    # transaction rolls back, so still nothing is written.
                    reason = _constraint_reason(error)
                    raise BookingConflict([number], reasons={number: reason}) from error
            hooks.messages().on_series_booked(series)
            hooks.series_changed(series)
            hooks.billing().on_series_booked(series)
    except BookingConflict as conflict:
        if request is not None:
            conflict.proposal = planner.propose(location, plan.patient_id, request)
        raise
    return series


def _series_sessions(series: Series) -> list[Session]:
    return list(
        series.sessions.active()
        .select_related("location", "patient__patient_profile")
        .order_by("starts_at")
    )


def book_more(series: Series, choices: list[Choice]) -> list[Session]:
    """Book further sessions of a series booked in part (`book_series(book_first=...)`), all or
    nothing, keeping the plan's spacing and span with the sessions already booked.

    Call inside a transaction that holds the locations' locks (step 1 of the lock order).
    """
    plan = series.plan
    shape = planner.PlanShape.from_plan(plan)
    booked = _series_sessions(series)
    if len(booked) + len(choices) > plan.infusions:
        raise SpacingError(
            gettext("The plan has %(infusions)s infusions; %(booked)s are already booked.")
            % {"infusions": plan.infusions, "booked": len(booked)}
        )
    dates = [s.local_start().date() for s in booked] + [c.date for c in choices]
    if dates != sorted(dates):
        raise SpacingError(gettext("The new sessions must come after the ones already booked."))
    check_spacing(dates, shape)
    assert_bookable(series.patient)
    resources = planner.load_resources(
        series.location, series.patient_id, choices[0].date, choices[-1].date
    )
    slots = [resources.slot(c.date, c.minute, shape, chair=c.chair_id) for c in choices]
    start = max((s.number for s in series.sessions.all()), default=0) + 1
    failed = [start + i for i, slot in enumerate(slots) if slot is None]
    if failed:
        raise BookingConflict(failed)
    added = []
    for number, slot in enumerate(slots, start=start):
        assert slot is not None
        session = _session(series, number, slot)
        try:
            with transaction.atomic():  # a savepoint: the refusal names the session
                session.save()
        except IntegrityError as error:
            reason = _constraint_reason(error)
            raise BookingConflict([number], reasons={number: reason}) from error
        added.append(session)
    hooks.messages().on_sessions_added(series, added)
    hooks.series_changed(series)
    return added


def book_one(
    plan: TreatmentPlan, location: Location, choice: Choice, *, booked_by: User
) -> Session:
    """Book one session where the desk clicked on its calendar: the first of a new series (the
    rest booked later, as `book_series(book_first=1)` does for patients online), or the next of
    the patient's series booked in part (`book_more`). Checked like every booking: closed days,
    the chair asked for, nurses, the plan's spacing and span."""
    series = (
        Series.objects.filter(plan=plan, status=Series.SeriesStatus.ACTIVE)
        .select_related("plan", "patient", "location")
        .first()
    )
    if series is None:
        shape = planner.PlanShape.from_plan(plan)
        # Only the first is booked; the others stand for the rest of the series at the plan's
        # least spacing, so that `book_series` checks the plan's shape as for any series.
        later = [
            Choice(choice.date + dt.timedelta(days=shape.min_days_between * n), choice.time)
            for n in range(1, plan.infusions)
        ]
        booked = book_series(plan, location, [choice, *later], booked_by=booked_by, book_first=1)
        return booked.sessions.get()
    if series.location_id != location.pk:
        raise SchedulingError(
            gettext("The patient's series is at %(location)s: book the next session there.")
            % {"location": series.location.name}
        )
    return _book_next(series, choice)


@_retried
def _book_next(series: Series, choice: Choice) -> Session:
    with transaction.atomic():
        _lock_locations(series.location, choice.date, choice.date)
        return book_more(series, [choice])[0]


@_retried
def move_sessions(
    session: Session,
    choice: Choice,
    *,
    and_following: bool = False,
    moved_by: User | None = None,
    seen: tuple[dt.datetime, int] | None = None,
) -> list[Session]:
    """Move one session (or it and every later one, by the same number of days, to the new time
    of day), keeping the plan's spacing; all or nothing. `moved_by` is the patient when they
    moved it online (shown to the desk); a move by the desk clears it.

    `choice.chair_id` places the session itself in that chair (the following ones take the
    best fit). `seen` is the (start, chair) the person saw: if the session is no longer there,
    under the lock, the move is refused with MovedMeanwhile."""
    with transaction.atomic():
        # The dates concerned decide which locations to lock; they are read before the locks
        # and the session is read again under them.
        current = Session.objects.select_related("location", "series").get(pk=session.pk)
        location = _lock_locations(current.location, *_move_dates(current, choice.date))
        session = Session.objects.select_for_update().get(pk=session.pk)
        if seen is not None and (session.starts_at, session.chair_id) != seen:
            raise MovedMeanwhile(session)
        if session.status not in UPCOMING_STATUSES:
            raise InvalidTransition(gettext("Only booked or confirmed sessions can be moved."))
        series = session.series
        plan = series.plan
        shape = planner.PlanShape.from_plan(plan)
        sessions = _series_sessions(series)
        old_date = session.local_start().date()
        shift = choice.date - old_date
        moving = [
            s
            for s in sessions
            if s.pk == session.pk
            or (and_following and s.starts_at > session.starts_at and s.status in UPCOMING_STATUSES)
        ]
        targets = {s.pk: (s.local_start().date() + shift) for s in moving}
        dates = sorted(targets.get(s.pk, s.local_start().date()) for s in sessions)
        check_spacing(dates, shape)
        first, last = min(targets.values()), max(targets.values())
        resources = planner.load_resources(
            location, series.patient_id, first, last, exclude=[s.pk for s in moving]
        )
        slots = {
            pk: resources.slot(
                day, choice.minute, shape, chair=choice.chair_id if pk == session.pk else None
            )
            for pk, day in targets.items()
        }
        failed = [s.number for s in moving if slots[s.pk] is None]
        if failed:
            raise BookingConflict(failed)
        moving = _locked_in_order(moving)
        vacated = [FreedSlot.of(moved) for moved in moving]
        for moved in moving:
            slot = slots[moved.pk]
            assert slot is not None
            moved.chair_id, moved.nurse_id = slot.chair_id, slot.nurse_id
            moved.starts_at, moved.setup_ends_at, moved.ends_at = (
                slot.starts_at(),
                slot.setup_ends_at(),
                slot.ends_at(),
            )
            moved.status = Status.BOOKED
            moved.status_changed_at = timezone.now()
            moved.moved_by = moved_by
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # Sessions of one series may trade places; the constraints are checked once
                # every row has moved, still inside this transaction.
                cursor.execute(f"SET CONSTRAINTS {EXCLUSIONS} DEFERRED")
                Session.objects.bulk_update(
                    moving,
                    [
                        "chair",
                        "nurse",
                        "starts_at",
                        "setup_ends_at",
                        "ends_at",
                        "status",
                        "status_changed_at",
                        "moved_by",
                    ],
                )
                cursor.execute(f"SET CONSTRAINTS {EXCLUSIONS} IMMEDIATE")
        except IntegrityError as error:
            reason = _constraint_reason(error)
            numbers = [s.number for s in moving]
            raise BookingConflict(numbers, reasons=dict.fromkeys(numbers, reason)) from error
        hooks.messages().on_sessions_moved(moving)
        hooks.series_changed(*(s.series for s in moving))
        _tell_booster_listeners(signals.booster_moved, moving)
        for freed in vacated:
            offer_freed_slot(freed)
        return moving


def _mark_cancelled(
    targets: list[Session], now: dt.datetime, reason: str, *, late_counts: bool
) -> None:
    """Cancel locked sessions in one statement; inside the policy's late window a cancellation
    is late, unless the clinic itself released them (`late_counts=False`)."""
    for target in targets:
        late = late_counts and target.cancellation_policy().is_late(now)
        target.status = Status.LATE_CANCELLED if late else Status.CANCELLED
        target.status_changed_at = now
        target.cancel_reason = reason
    Session.objects.bulk_update(targets, ["status", "status_changed_at", "cancel_reason"])


@_retried
def cancel_sessions(
    session: Session, *, and_following: bool = False, reason: str = ""
) -> list[Session]:
    """Cancel one session or the rest of its series; within 24 h of the start it is late."""
    now = timezone.now()
    with transaction.atomic():
        _lock(session.location)  # step 1 of the lock order, before any session row
        session = Session.objects.select_for_update().get(pk=session.pk)
        if session.status not in UPCOMING_STATUSES:
            raise InvalidTransition(gettext("Only booked or confirmed sessions can be cancelled."))
        targets = [session]
        if and_following:
            targets += list(
                Session.objects.select_for_update()
                .filter(
                    series=session.series,
                    starts_at__gt=session.starts_at,
                    status__in=UPCOMING_STATUSES,
                )
                .order_by("pk")
            )
        _mark_cancelled(targets, now, reason, late_counts=True)
        if (
            and_following
            or not session.series.sessions.filter(status__in=UPCOMING_STATUSES).exists()
        ):
            Series.objects.filter(pk=session.series_id).update(status=Series.SeriesStatus.CANCELLED)
            # A series booked online that was still awaiting the desk needs no decision now.
            _close_self_booked_task(session.series, None, "The whole series was cancelled.")
        hooks.messages().on_sessions_cancelled(targets)
        hooks.series_changed(*(t.series for t in targets))
        _tell_booster_listeners(signals.booster_cancelled, targets)
        hooks.billing().on_sessions_cancelled(targets)
        for target in targets:
            offer_freed_slot(FreedSlot.of(target))
    return targets


# --- A series booked online, confirmed or declined by the desk ---------------------------------

DECIDED = (
    "This series no longer awaits confirmation (it was confirmed, declined or cancelled); "
    "nothing was changed."
)


def _close_self_booked_task(series: Series, by: User | None, note: str) -> None:
    task = Task.objects.open().filter(cause=Cause.SELF_BOOKED, about=f"series:{series.pk}").first()
    if task is not None:
        worklist.close_task(task, by, note)


@_retried
def confirm_self_booked(series: Series, *, by: User | None) -> Series:
    """The desk confirms a series the patient booked online: the patient gets the confirmation
    with its calendar invitations (as if the desk had booked it), the task is done.

    `by` is None when billing confirms it on the deposit's payment
    (docs/payments.md#a-deposit-paid-online-confirms-the-series).

    A conditional update (awaiting -> not awaiting) under the location's lock: a second click,
    or a Decline at the same moment, finds it decided and changes nothing (InvalidTransition).
    """
    unpaid = hooks.billing().confirmation_blocker(series)
    if unpaid:
        raise InvalidTransition(unpaid)
    with transaction.atomic():
        _lock(series.location)  # step 1 of the lock order; no session changes
        decided = Series.objects.filter(AWAITING_DESK, pk=series.pk).update(
            awaiting_desk_since=None
        )
        if not decided:
            raise InvalidTransition(DECIDED)
        series.refresh_from_db()
        hooks.messages().on_series_confirmed(series)
        _close_self_booked_task(series, by, "Confirmed on the series page.")
    return series


@_retried
def decline_self_booked(series: Series, *, by: User, reason: str) -> list[Session]:
    """The desk declines a series the patient booked online, with a reason the patient reads.

    Its sessions are released (cancelled, never late: the clinic declined, the patient did not
    cancel), their pending messages cancelled, the patient told, and each freed slot offered
    to the waitlist as any cancellation's would be.
    """
    now = timezone.now()
    with transaction.atomic():
        _lock(series.location)  # step 1
        targets = list(  # step 4
            Session.objects.select_for_update(of=("self",))
            .filter(series=series, status__in=UPCOMING_STATUSES)
            .select_related("location", "series")
            .order_by("pk")
        )
        decided = Series.objects.filter(AWAITING_DESK, pk=series.pk).update(  # step 5
            awaiting_desk_since=None, status=Series.SeriesStatus.CANCELLED
        )
        if not decided:
            raise InvalidTransition(DECIDED)
        _mark_cancelled(targets, now, reason, late_counts=False)
        series.refresh_from_db()
        hooks.messages().on_series_declined(series, targets)
        hooks.series_changed(series)
        _close_self_booked_task(series, by, f"Declined: {reason}")
        for target in targets:  # step 6
            offer_freed_slot(FreedSlot.of(target))
    return targets


def _move_dates(session: Session, to: dt.date) -> tuple[dt.date, dt.date]:
    """The local dates a move of `session` (and those after it) to `to` can touch."""
    start = session.local_start().date()
    latest = session.series.sessions.order_by("-starts_at").values_list("starts_at", flat=True)[0]
    last = latest.astimezone(session.location.zone).date()
    return min(to, start), max(to, start, last + (to - start))


def _locked_in_order(sessions: list[Session]) -> list[Session]:
    """Lock these session rows in ascending id (step 4 of the lock order) before writing them
    in one statement, whose own row order is not defined."""
    ids = [s.pk for s in sessions]
    list(Session.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    return sessions


def confirm_session(session: Session) -> bool:
    """The patient says they will come: booked becomes confirmed, once, by a conditional update
    (a second confirmation, from another tab or the reminder's link, changes nothing). True if
    this call confirmed it; an appointment that has started is no longer confirmed, nor one of a
    series the desk has not confirmed yet (the patient only requested it)."""
    return bool(
        Session.objects.filter(
            pk=session.pk,
            status=Status.BOOKED,
            starts_at__gt=timezone.now(),
            series__awaiting_desk_since__isnull=True,
        ).update(status=Status.CONFIRMED, status_changed_at=timezone.now())
    )


def check_in(session: Session) -> Session:
    """The desk's check-in, on the session's local day only (Session.check_in_refusal)."""
    if refusal := session.check_in_refusal(timezone.now()):
        raise InvalidTransition(refusal)
    return _transition(session, set(UPCOMING_STATUSES), Status.CHECKED_IN)


def undo_check_in(session: Session, *, back_to: str) -> Session:
    """Return a session checked in by mistake to `back_to` (booked or confirmed, as before).

    Refused once a nurse has charted the check-in: the chart is then the record, and it is
    corrected there with an addendum.
    """
    if back_to not in UPCOMING_STATUSES:
        raise InvalidTransition("A check-in can only be undone back to booked or confirmed.")
    if hasattr(session, "record"):
        raise InvalidTransition(
            "The nurse has charted this check-in; correct it on the chart instead."
        )
    return _transition(session, {Status.CHECKED_IN}, back_to)


def mark_no_show(session: Session) -> Session:
    if session.starts_at > timezone.now():
        raise InvalidTransition("A session can be marked as a no-show only after it starts.")
    with transaction.atomic():
        session = _transition(session, set(UPCOMING_STATUSES), Status.NO_SHOW)
        hooks.billing().on_no_show(session)
    return session


def _transition(session: Session, allowed: set[str], to: str) -> Session:
    """A conditional update: only from the allowed states, exactly once."""
    changed = Session.objects.filter(pk=session.pk, status__in=allowed).update(
        status=to, status_changed_at=timezone.now()
    )
    if not changed:
        raise InvalidTransition(f"This session is {session.get_status_display().lower()}.")
    session.refresh_from_db()
    return session


# --- Waitlist -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreedSlot:
    """The chair, nurse and times a cancelled or moved session gave back."""

    location: Location
    patient_id: int
    chair_id: int
    nurse_id: int
    starts_at: dt.datetime
    setup_ends_at: dt.datetime
    ends_at: dt.datetime

    @classmethod
    def of(cls, session: Session) -> FreedSlot:
        return cls(
            session.location,
            session.patient_id,
            session.chair_id,
            session.nurse_id,
            session.starts_at,
            session.setup_ends_at,
            session.ends_at,
        )


# How many waiting entries an offer looks through for one it can actually be booked for.
OFFER_CANDIDATES = 20


def offer_freed_slot(slot: FreedSlot, *, skip_entries: list[int] | None = None) -> Hold | None:
    """Offer a freed slot to the first patient waiting for it who can take it, held for
    HOLD_MINUTES.

    First come, first served among the waiting entries of the location whose dates and local
    time window contain the slot and whose own session is later than the slot; an entry gets
    the offer only if the slot is bookable for it: its series keeps the plan's spacing, the
    patient is free then, and a chair and a nurse can take its chair time (the planner's own
    check, with the entry's session out of the way). The hold takes the chair and nurse that
    check found.
    """
    if slot.starts_at <= timezone.now():
        return None
    local = slot.starts_at.astimezone(slot.location.zone)
    entries = (
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .filter(
            location=slot.location,
            status=WaitlistEntry.EntryStatus.WAITING,
            earliest_date__lte=local.date(),
            latest_date__gte=local.date(),
            window_starts__lte=local.time(),
            window_ends__gte=local.time(),
            session__starts_at__gt=slot.starts_at,
            session__status__in=UPCOMING_STATUSES,
        )
        .exclude(session__patient=slot.patient_id)
        .exclude(pk__in=skip_entries or [])
        .select_related("session__series__plan")
        .order_by("created_at")[:OFFER_CANDIDATES]
    )
    found = next(
        ((entry, fit) for entry in entries if (fit := _bookable_for(entry, slot)) is not None),
        None,
    )
    if found is None:
        return None
    entry, fit = found
    hold = Hold.objects.create(
        entry=entry,
        location=slot.location,
        chair_id=fit.chair_id,
        nurse_id=fit.nurse_id,
        starts_at=fit.starts_at(),
        setup_ends_at=fit.setup_ends_at(),
        ends_at=fit.ends_at(),
        expires_at=timezone.now() + dt.timedelta(minutes=HOLD_MINUTES),
    )
    entry.status = WaitlistEntry.EntryStatus.OFFERED
    entry.save(update_fields=["status"])
    hooks.messages().on_slot_offered(hold, entry.session)
    return hold


def _bookable_for(entry: WaitlistEntry, slot: FreedSlot) -> planner.Slot | None:
    """The chair and nurse with which the entry's session could move to the freed start, or
    None when the move would break its series' spacing or nothing can take it."""
    session = entry.session
    shape = planner.PlanShape.from_plan(session.series.plan)
    local = slot.starts_at.astimezone(slot.location.zone)
    others = [
        s.local_start().date() for s in _series_sessions(session.series) if s.pk != session.pk
    ]
    try:
        check_spacing(sorted([*others, local.date()]), shape)
    except SpacingError:
        return None
    resources = planner.load_resources(
        slot.location, session.patient_id, local.date(), local.date(), exclude=[session.pk]
    )
    return resources.slot(local.date(), local.hour * 60 + local.minute, shape)


@_retried
def accept_hold(hold: Hold, *, moved_by: User | None = None) -> Session:
    """Move the waiting patient's session into the held slot (`moved_by`: the patient, when
    they accept from the offer's link)."""
    if hold.entry is None:
        raise InvalidTransition(gettext("This hold is not an offer from the waitlist."))
    with transaction.atomic():
        day = hold.starts_at.astimezone(hold.location.zone).date()
        session = Session.objects.select_related("location", "series").get(pk=hold.entry.session_id)
        # The same locations move_sessions will lock, taken first (step 1), then the hold.
        _lock_locations(hold.location, *_move_dates(session, day))
        hold = (
            Hold.objects.select_for_update(of=("self",))
            .select_related("entry__session")
            .get(pk=hold.pk)
        )
        if not hold.is_live:
            raise InvalidTransition(gettext("This offer has expired."))
        entry = hold.entry
        assert entry is not None  # checked above; a hold keeps its owner
        session = entry.session
        Hold.objects.filter(pk=hold.pk).update(released_at=timezone.now())
        local = hold.starts_at.astimezone(hold.location.zone)
        moved = move_sessions(session, Choice(local.date(), local.time()), moved_by=moved_by)
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistEntry.EntryStatus.BOOKED)
        return moved[0]


def release_expired_holds() -> int:
    """An offer not taken in time goes to the next patient waiting; the first goes back in line."""
    released = 0
    now = timezone.now()
    expired = Hold.objects.expired().select_related("location", "entry__session")
    for hold in expired:
        try:
            released += _release_expired(hold, now)
        except OperationalError as error:
            if not is_lock_timeout(error):
                raise
            # The location is busy with a long change: the next run releases this hold.
    return released


def _release_expired(hold: Hold, now: dt.datetime) -> int:
    """Release one expired hold and offer its slot on; 0 if another worker released it."""
    with transaction.atomic():
        _lock(hold.location)  # step 1 of the lock order, before the hold
        if not Hold.objects.filter(pk=hold.pk, released_at__isnull=True).update(released_at=now):
            return 0  # another worker released it
        entry = hold.entry
        if entry is None:
            # A proposal a patient did not book in time: the slot was never booked, so there
            # is nothing to offer on.
            return 1
        WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistEntry.EntryStatus.OFFERED).update(
            status=WaitlistEntry.EntryStatus.WAITING
        )
        already_offered = list(
            Hold.objects.filter(
                location=hold.location,
                chair=hold.chair_id,
                starts_at=hold.starts_at,
                entry__isnull=False,
            ).values_list("entry_id", flat=True)
        )
        offer_freed_slot(
            FreedSlot(
                hold.location,
                entry.session.patient_id,
                hold.chair_id,
                hold.nurse_id,
                hold.starts_at,
                hold.setup_ends_at,
                hold.ends_at,
            ),
            skip_entries=already_offered,
        )
        return 1
