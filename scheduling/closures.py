"""What follows when a day closes over booked sessions, and the one step that rebooks them.

A closure (or a public holiday switched on) does not move anything by itself: the patients are
people with plans. The desk gets a task listing the sessions, with a link to a page that proposes
a new time for each (the nearest open day, the same time first, within the plan's spacing) and
moves the ones the desk keeps, through `services.move_sessions`, so the patient is told as for
any move (docs/roles/front-desk.md#closed-days).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from locations.models import Closure, Location
from scheduling import planner, services
from scheduling.models import UPCOMING_STATUSES, Session
from worklist import services as worklist
from worklist.models import Cause

# How far either side of a closed day a new date is looked for.
SEARCH_DAYS = 14


@dataclass(frozen=True)
class Proposal:
    session: Session
    choice: services.Choice | None  # None: nothing fits; the desk calls the patient


def sessions_on_closed_days(location: Location, first: dt.date, last: dt.date) -> list[Session]:
    """The upcoming sessions at `location` on local dates from `first` to `last` that are closed."""
    closed = location.closed_days(first, last)
    if not closed:
        return []
    since, _ = location.day_bounds(first)
    _, until = location.day_bounds(last)
    sessions = (
        Session.objects.filter(
            location=location,
            status__in=UPCOMING_STATUSES,
            starts_at__gte=since,
            starts_at__lt=until,
        )
        .select_related("location", "series", "patient")
        .order_by("starts_at")
    )
    return [s for s in sessions if s.local_start().date() in closed]


def closure_added(closure: Closure) -> list[Session]:
    """Open the desk's task when a new closure covers booked sessions; return them."""
    location = closure.location
    affected = sessions_on_closed_days(location, closure.starts_on, closure.ends_on)
    if affected:
        count = len(affected)
        dates = sorted({s.local_start().date() for s in affected})
        worklist.open_task(
            Cause.CLOSED_DAY,
            f"closure:{closure.pk}",
            subject=f"{location.name}: {closure.reason or 'closed'}",
            detail=(
                f"{count} session{'s' if count != 1 else ''} booked on "
                + ", ".join(f"{d:%a %-d %b %Y}" for d in dates)
                + ", now closed. Open the task to move each to a proposed new time."
            ),
            link=reverse("scheduling:closure_rebook", args=[closure.pk]),
            location_pk=location.pk,
        )
    return affected


def propose_new_time(session: Session) -> services.Choice | None:
    """The nearest open date to the session's own that keeps the plan's spacing and has a chair
    and a nurse: at the same time of day first, else at the nearest time that day."""
    location = session.location
    shape = planner.PlanShape.from_plan(session.series.plan)
    old = session.local_start()
    others = [
        s.local_start().date()
        for s in session.series.sessions.filter(status__in=UPCOMING_STATUSES).exclude(pk=session.pk)
    ]
    today = location.local_today()
    first = max(old.date() - dt.timedelta(days=SEARCH_DAYS), today + dt.timedelta(days=1))
    last = old.date() + dt.timedelta(days=SEARCH_DAYS)
    if first > last:
        return None
    resources = planner.load_resources(
        location, session.patient_id, first, last, exclude=[session.pk]
    )
    minute = old.hour * 60 + old.minute
    offsets = sorted(range(-SEARCH_DAYS, SEARCH_DAYS + 1), key=lambda d: (abs(d), d < 0))
    for offset in offsets:
        day = old.date() + dt.timedelta(days=offset)
        if not first <= day <= last or offset == 0:
            continue
        try:
            services.check_spacing(sorted([*others, day]), shape)
        except services.SpacingError:
            continue
        opening = resources.day(day)
        if opening is None:
            continue
        _, opens, closes = opening
        times = sorted(
            range(opens, closes, planner.SLOT_MINUTES), key=lambda m: (abs(m - minute), m)
        )
        for start in times:
            if resources.slot(day, start, shape) is not None:
                return services.Choice(day, dt.time(start // 60, start % 60))
    return None


def proposals_for(closure: Closure) -> list[Proposal]:
    affected = sessions_on_closed_days(closure.location, closure.starts_on, closure.ends_on)
    return [Proposal(session, propose_new_time(session)) for session in affected]
