"""Boosters (docs/visits.md#boosters): a plan may carry one infusion every N weeks (4 to 12)
after its series, for a number of boosters or until a date.

A booster is due `booster_every_weeks` after the patient's last infusion (of the series or the
booster before); it may be booked from BOOSTER_EARLY_DAYS before that, never sooner (too close
to the last infusion). It is a series of one session (`Series.is_booster`), booked by the
planner under the same rules as any session (chairs, nurses, closed days, the patient's other
appointments) and under the same lock order (docs/architecture.md#the-lock-order).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils.translation import gettext

from accounts.models import User
from locations.models import Location
from review.models import TreatmentPlan
from review.services import assert_bookable
from scheduling import hooks, planner, signals
from scheduling.models import ACTIVE_STATUSES, UPCOMING_STATUSES, Series, Session, Status
from scheduling.services import (
    BookingConflict,
    Choice,
    SchedulingError,
    _constraint_reason,
    _lock_locations,
    _retried,
    _session,
)

BOOSTER_EARLY_DAYS = 7
# The desk's list shows boosters due within this many days, and every overdue one.
DUE_SOON_DAYS = 14


class BoosterRefused(SchedulingError):
    """The booster cannot be booked as asked; the message says why, in the reader's language."""


@dataclass(frozen=True)
class BoosterDue:
    """Where one plan's boosters stand on a day."""

    plan: TreatmentPlan
    patient: User
    number: int  # the booster that comes next, 1 for the first
    last_infusion: dt.date
    due: dt.date
    earliest: dt.date
    booked: bool  # an infusion is already booked ahead

    def overdue(self, today: dt.date) -> bool:
        return not self.booked and self.due < today


def _active(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": [status.value for status in ACTIVE_STATUSES]})


def _remaining(plan: TreatmentPlan, given: int, due: dt.date) -> bool:
    if plan.booster_count is not None:
        return given < plan.booster_count
    return plan.booster_until is not None and due <= plan.booster_until


def due_boosters(location: Location, today: dt.date) -> list[BoosterDue]:
    """The plans with boosters still to give whose patient's last infusion was at `location`:
    when the next is due, and whether an infusion is already booked ahead. One query, however
    long the history (each plan's last infusion and its boosters are aggregates over the
    patient's sessions through the (patient, starts_at) index)."""
    zone = location.zone
    sessions = Session.objects.filter(_active(), patient=OuterRef("patient"))
    plans = (
        TreatmentPlan.objects.active()
        .filter(booster_every_weeks__isnull=False)
        .annotate(
            last_end=Max(
                "patient__sessions__ends_at",
                filter=_active("patient__sessions__") & Q(patient__sessions__location=location),
            ),
            given=Count(
                "series",
                filter=Q(series__is_booster=True)
                & ~Q(series__status=Series.SeriesStatus.CANCELLED),
                distinct=True,
            ),
            ahead=Exists(sessions.filter(status__in=list(UPCOMING_STATUSES))),
        )
        .filter(last_end__isnull=False)
        .select_related("patient")
        .order_by("last_end")
    )
    found = []
    for plan in plans:
        last = plan.last_end.astimezone(zone).date()  # type: ignore[attr-defined]  # an annotation of the query above
        due = last + dt.timedelta(weeks=plan.booster_every_weeks or 0)
        given = plan.given  # type: ignore[attr-defined]  # an annotation of the query above
        if not _remaining(plan, given, due):
            continue
        found.append(
            BoosterDue(
                plan=plan,
                patient=plan.patient,
                number=given + 1,
                last_infusion=last,
                due=due,
                earliest=due - dt.timedelta(days=BOOSTER_EARLY_DAYS),
                booked=plan.ahead,  # type: ignore[attr-defined]  # an annotation of the query above
            )
        )
    return found


def booster_for(plan: TreatmentPlan, location: Location) -> BoosterDue | None:
    """The next booster of one plan, or None when it has none left (or no infusion yet)."""
    for due in due_boosters(location, location.local_today()):
        if due.plan.pk == plan.pk:
            return due
    return None


def booster_location(plan: TreatmentPlan) -> Location | None:
    """Where the patient's last infusion was: boosters are booked there."""
    last = (
        Series.objects.filter(patient=plan.patient)
        .exclude(status=Series.SeriesStatus.CANCELLED)
        .select_related("location")
        .order_by("-created_at")
        .first()
    )
    return last.location if last is not None else None


def bookable_booster_of(patient: User) -> BoosterDue | None:
    """The patient's next booster when it may be booked today and none is booked ahead, for their
    home (docs/roles/patient.md#the-patients-home); None otherwise."""
    plan = TreatmentPlan.objects.active().filter(patient=patient).first()
    location = booster_location(plan) if plan is not None else None
    if plan is None or location is None:
        return None
    due = booster_for(plan, location)
    if due is None or due.booked or due.earliest > location.local_today():
        return None
    return due


def _shape(plan: TreatmentPlan) -> planner.PlanShape:
    """One infusion with the plan's chair times (a booster is a series of one)."""
    base = planner.PlanShape.from_plan(plan)
    return planner.PlanShape(
        infusions=1,
        min_days_between=base.min_days_between,
        max_days_between=base.max_days_between,
        span_days=0,
        setup_minutes=base.setup_minutes,
        chair_minutes=base.chair_minutes,
    )


def propose(plan: TreatmentPlan, location: Location, first: dt.date) -> planner.Proposal:
    """The series planner's proposal for the booster from `first`, in as many queries."""
    return planner.propose(location, plan.patient_id, planner.Request(_shape(plan), first))


def check_date(due: BoosterDue, date: dt.date) -> None:
    """The booster's own rules: not too close to the last infusion, not after the boosters'
    end date."""
    if date < due.earliest:
        raise BoosterRefused(
            gettext(
                "A booster is due %(weeks)s weeks after the last infusion (%(last)s); the "
                "earliest it can be booked is %(earliest)s."
            )
            % {
                "weeks": due.plan.booster_every_weeks,
                "last": due.last_infusion.isoformat(),
                "earliest": due.earliest.isoformat(),
            }
        )
    until = due.plan.booster_until
    if until is not None and date > until:
        raise BoosterRefused(
            gettext("The plan's boosters end on %(until)s.") % {"until": until.isoformat()}
        )


@_retried
def book_booster(
    plan: TreatmentPlan, location: Location, choice: Choice, *, booked_by: User
) -> Series:
    """Book the plan's next booster at the chosen local start, under the booking's locks and
    rules; BoosterRefused or BookingConflict says why not."""
    with transaction.atomic():
        location = _lock_locations(location, choice.date, choice.date)
        plan = TreatmentPlan.objects.get(pk=plan.pk)
        due = booster_for(plan, location)
        if due is None or plan.status != TreatmentPlan.Status.ACTIVE:
            raise BoosterRefused(gettext("This plan has no booster left to book."))
        if due.booked:
            raise BoosterRefused(gettext("An infusion is already booked ahead."))
        check_date(due, choice.date)
        assert_bookable(plan.patient)
        shape = _shape(plan)
        resources = planner.load_resources(location, plan.patient_id, choice.date, choice.date)
        slot = resources.slot(choice.date, choice.minute, shape)
        if slot is None:
            raise BookingConflict([1])
        series = Series.objects.create(
            plan=plan,
            patient=plan.patient,
            location=location,
            booked_by=booked_by,
            is_booster=True,
        )
        try:
            with transaction.atomic():
                _session(series, 1, slot).save()
        except IntegrityError as error:
            raise BookingConflict([1], reasons={1: _constraint_reason(error)}) from error
        hooks.messages().on_series_booked(series)
        session = series.sessions.get()
        signals.send_after_commit(signals.booster_booked, session)
    return series


def is_booster(session: Session) -> bool:
    return session.series.is_booster and session.status != Status.CANCELLED
