"""A month of demand at a clinic, booked through the planner like the front desk would.

New patients arrive over three weeks (`bench.demand.month`, seeded), each needing a series (the
default protocol: 8 infusions, 2-7 days apart, within 28 days) with preferred weekdays and a
morning, midday or afternoon window. In arrival order each is planned and booked all-or-nothing.
Once the month is booked some sessions are cancelled and some marked no-shows at typical rates
(afterwards, so that the series counts compare with `bench.offline`, which knows nothing of
cancellations).

The sweep runs demand 0.5-0.95 of the capacity bound (sessions the start grid can hold over the
horizon, see `bench.demand`) in four clinics: 6 chairs / 4 nurses and 12 chairs / 10 nurses, each
with nurse monitoring capacity k = 1 and 2. For each it reports the share of series booked inside
their plan's spacing, the mean distance of the sessions from the preferred window, chair and
nurse utilisation of the horizon, and the ratio of booked series to the offline reference stored
in bench/results/offline-<config>-<demand>.json (`python -m bench.offline`).

`--engine memory` (the default, the whole sweep in minutes) plans against `planner.Resources`
built in memory and adds each proposal's sessions to them; `--engine db` books end to end
through `planner.propose` and `services.book_series` against PostgreSQL (embedded) and then
rolls the cancellations and no-shows: the same planner and the same series, about ten times
slower. Utilisation is of the sessions booked, before cancellations.

    python -m bench.simulate [--config 6c4n-k1] [--demand 0.9] [--engine db]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from bench.harness import RESULTS, django_environment, report

if TYPE_CHECKING:
    from bench import demand

CANCEL_RATE = 0.05
NO_SHOW_RATE = 0.03
ZONE = "America/New_York"

# Books one patient's request; returns the proposal and whether the booking went through.
Booker = Callable[[Any, Any], tuple[Any, bool]]


def first_monday(today: dt.date) -> dt.date:
    """The Monday of the week after next: the horizon starts in the future, as bookings must."""
    start = today + dt.timedelta(days=7)
    return start - dt.timedelta(days=start.weekday())


def reference(config: demand.Config, share: float) -> dict[str, Any] | None:
    """The stored offline result for this month of demand, if it is still current."""
    from bench import demand

    path = RESULTS / f"offline-{config.name}-{share}.json"
    if not path.exists():
        return None
    stored: dict[str, Any] = json.loads(path.read_text())
    return stored if stored.get("digest") == demand.digest(config, share) else None


def run_month(
    config: demand.Config, share: float, monday: dt.date, book: Booker
) -> tuple[dict[str, Any], list[Any]]:
    """Book the month through `book`; return the figures and the booked proposals."""
    from bench import demand
    from scheduling import planner, services

    patients = demand.month(config, share)
    inside, booked = 0, 0
    distances: list[int] = []
    timings: list[float] = []
    failures: list[str] = []
    proposals = []
    for patient in patients:
        request = planner.Request(
            shape=demand.SHAPE,
            first_date=monday + dt.timedelta(days=patient.arrives),
            weekdays=patient.weekdays,
            windows=(planner.Window(*patient.window),),
        )
        t0 = time.perf_counter()
        proposal, ok = book(patient, request)
        timings.append((time.perf_counter() - t0) * 1000)
        if not proposal.complete:
            failures.append(f"unplaced session {proposal.failed_number}")
            continue
        if not ok:
            failures.append("booking conflict")
            continue
        booked += 1
        proposals.append(proposal)
        try:
            services.check_spacing([s.slot.date for s in proposal.sessions], request.shape)
            inside += 1
        except services.SpacingError:
            pass
        distances.extend(request.windows[0].distance(s.slot.minute) for s in proposal.sessions)

    open_minutes = len(demand.open_days()) * (demand.CLOSES.hour - demand.OPENS.hour) * 60
    booked_minutes = booked * demand.SHAPE.infusions * demand.SHAPE.chair_minutes
    bound = demand.capacity_sessions(config)
    ref = reference(config, share)
    figures: dict[str, Any] = {
        "config": config.name,
        "demand_share_of_bound": share,
        "demanded_series": len(patients),
        "booked_series": booked,
        "series_inside_spacing_share": round(inside / len(patients), 3),
        "mean_minutes_from_preferred_window": round(statistics.fmean(distances), 1)
        if distances
        else None,
        "chair_utilisation": round(booked_minutes / (config.chairs * open_minutes), 3),
        "nurse_utilisation": round(
            booked_minutes / (config.nurses * config.capacity * open_minutes), 3
        ),
        "share_of_grid_bound": round(booked * demand.SHAPE.infusions / bound, 3),
        "capacity_bound_sessions": bound,
        "reference_series": ref["series"] if ref else None,
        "reference_gap": ref["gap"] if ref else None,
        "ratio_to_reference": round(inside / ref["series"], 3) if ref else None,
        "planner_p95_ms": round(sorted(timings)[int(0.95 * (len(timings) - 1))], 1),
        "failures": dict(Counter(failures)),
    }
    return figures, proposals


def memory_booker(config: demand.Config, monday: dt.date) -> Booker:
    """Plan against Resources built in memory from the sessions booked so far."""
    from bench import demand
    from scheduling import planner

    zone = zoneinfo.ZoneInfo(ZONE)
    opens = demand.OPENS.hour * 60
    closes = demand.CLOSES.hour * 60
    days = [monday + dt.timedelta(days=n) for n in range(demand.HORIZON_DAYS + 60)]
    openings = {day: (opens, closes) for day in days if day.weekday() in demand.OPEN_WEEKDAYS}

    def epoch(day: dt.date, minute: int) -> int:
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)
        return int(local.timestamp())

    shifts = [
        (1000 + nurse, epoch(day, opens), epoch(day, closes))
        for day in days[: demand.HORIZON_DAYS]
        if day.weekday() in demand.OPEN_WEEKDAYS
        for nurse in range(config.nurses)
    ]
    chairs = list(range(1, config.chairs + 1))
    sessions: list[tuple[int, int, int, int, int, dt.date]] = []

    def book(patient: Any, request: Any) -> tuple[Any, bool]:
        resources = planner.Resources(
            zone=zone,
            capacity=config.capacity,
            openings=openings,
            chairs=chairs,
            shifts=shifts,
            sessions=sessions,
            patient_busy=[],
        )
        proposal = planner.plan(resources, request)
        if proposal.complete:
            for s in proposal.sessions:
                slot = s.slot
                sessions.append(
                    (
                        slot.chair_id,
                        slot.nurse_id,
                        slot.starts,
                        slot.setup_ends,
                        slot.ends,
                        slot.date,
                    )
                )
        return proposal, proposal.complete

    return book


@contextlib.contextmanager
def db_booker(config: demand.Config) -> Iterator[tuple[dt.date, Booker, Callable[[], None]]]:
    """A fresh location in PostgreSQL; books through `planner.propose` and `book_series`.

    Yields the first Monday, the booker, and a function that rolls the cancellations and
    no-shows once the month is booked.
    """
    import random

    from django.utils import timezone

    from accounts.models import Role, User
    from bench import demand
    from bench.generate import _unique
    from intake.models import Intake
    from locations.models import Chair, Location, NurseShift, OpeningHours
    from review.models import TreatmentPlan
    from scheduling import planner, services
    from scheduling.models import Session

    slug = _unique("sim")
    location = Location.objects.create(
        name=slug,
        slug=slug,
        time_zone=ZONE,
        address="1 Simulation Road",
        nurse_monitor_capacity=config.capacity,
    )
    for weekday in sorted(demand.OPEN_WEEKDAYS):
        OpeningHours.objects.create(
            location=location, weekday=weekday, opens=demand.OPENS, closes=demand.CLOSES
        )
    for n in range(config.chairs):
        Chair.objects.create(location=location, name=f"Chair {n + 1}", position=n)
    nurses = [
        User.objects.create(
            email=f"{_unique('simnurse')}@example.org", role=Role.NURSE, password="!"
        )
        for _ in range(config.nurses)
    ]
    monday = first_monday(location.local_today())
    days = [monday + dt.timedelta(days=n) for n in range(demand.HORIZON_DAYS)]
    NurseShift.objects.bulk_create(
        NurseShift(
            location=location,
            nurse=nurse,
            starts_at=dt.datetime.combine(day, demand.OPENS, tzinfo=location.zone),
            ends_at=dt.datetime.combine(day, demand.CLOSES, tzinfo=location.zone),
        )
        for day in days
        if day.weekday() in demand.OPEN_WEEKDAYS
        for nurse in nurses
    )
    desk = User.objects.create(
        email=f"{_unique('simdesk')}@example.org", role=Role.FRONT_DESK, password="!"
    )

    def book(patient: Any, request: Any) -> tuple[Any, bool]:
        user = User.objects.create(
            email=f"{_unique('simpatient')}@example.org", role=Role.PATIENT, password="!"
        )
        intake = Intake.objects.create(
            patient=user, status="approved", submitted_at=timezone.now(), location=location
        )
        plan = TreatmentPlan.objects.create(patient=user, intake=intake, approved_by=desk)
        assert planner.PlanShape.from_plan(plan) == demand.SHAPE, "the default protocol changed"
        proposal = planner.propose(location, user.pk, request)
        if not proposal.complete:
            return proposal, False
        choices = [services.Choice(s.slot.date, s.slot.local_time) for s in proposal.sessions]
        try:
            services.book_series(plan, location, choices, booked_by=desk)
        except services.SchedulingError:
            return proposal, False
        return proposal, True

    def cancellations() -> None:
        rng = random.Random(demand.SEED)
        for session in Session.objects.active().filter(location=location).order_by("starts_at"):
            roll = rng.random()
            if roll < CANCEL_RATE:
                services.cancel_sessions(session)
            elif roll < CANCEL_RATE + NO_SHOW_RATE:
                Session.objects.filter(pk=session.pk).update(status="no_show")

    yield monday, book, cancellations


def _django_in_memory() -> None:
    """Django set up for the planner's imports only: the memory engine opens no connection."""
    os.environ.setdefault("DATABASE_URL", "postgres://unused@localhost/unused")
    os.environ.setdefault("REDIS_URL", "redis://localhost:6379/0")
    os.environ.setdefault("SECRET_KEY", "insecure-local-bench-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()


def sweep(configs: list[demand.Config], shares: list[float], engine: str) -> list[dict[str, Any]]:
    rows = []
    for config in configs:
        for share in shares:
            started = time.perf_counter()
            if engine == "memory":
                monday = first_monday(dt.datetime.now(zoneinfo.ZoneInfo(ZONE)).date())
                figures, _ = run_month(config, share, monday, memory_booker(config, monday))
            else:
                with db_booker(config) as (monday, book, cancellations):
                    figures, _ = run_month(config, share, monday, book)
                    cancellations()
            figures["seconds"] = round(time.perf_counter() - started, 1)
            rows.append(figures)
            print(line(figures), flush=True)
    return rows


def line(f: dict[str, Any]) -> str:
    ref = f["reference_series"]
    versus = (
        f"reference {ref} (gap {f['reference_gap']}), ratio {f['ratio_to_reference']}"
        if ref is not None
        else "no current reference (python -m bench.offline)"
    )
    return (
        f"{f['config']} demand {f['demand_share_of_bound']}: "
        f"{f['booked_series']}/{f['demanded_series']} booked, "
        f"{f['series_inside_spacing_share']} inside spacing, "
        f"{f['mean_minutes_from_preferred_window']} min from window, "
        f"chairs {f['chair_utilisation']}, nurses {f['nurse_utilisation']}; {versus}; "
        f"p95 {f['planner_p95_ms']} ms; {f['failures']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--config", action="append", help="one of 6c4n-k1 6c4n-k2 12c10n-k1 12c10n-k2"
    )
    parser.add_argument("--demand", type=float, action="append", help="share of the bound")
    parser.add_argument("--engine", choices=["db", "memory"], default="memory")
    args = parser.parse_args()

    def run() -> list[dict[str, Any]]:
        from bench import demand

        configs = [demand.CONFIGS[name] for name in args.config or demand.CONFIGS]
        return sweep(configs, args.demand or list(demand.DEMANDS), args.engine)

    if args.engine == "memory":
        _django_in_memory()
        rows = run()
    else:
        with django_environment("bench-simulate"):
            rows = run()
    from bench import demand

    figures = {
        "engine": args.engine,
        "seed": demand.SEED,
        "horizon_days": demand.HORIZON_DAYS,
        "arrival_days": demand.ARRIVAL_DAYS,
        "cancel_rate": CANCEL_RATE,
        "no_show_rate": NO_SHOW_RATE,
        "cells": rows,
    }
    full = args.config is None and args.demand is None
    report("simulate" if full else "simulate-partial", figures)


if __name__ == "__main__":
    main()
