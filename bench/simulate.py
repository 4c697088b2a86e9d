"""A month of demand at one clinic, booked through the planner like the front desk would.

New patients arrive over four weeks, each needing a series (the default protocol: 8 infusions,
2-7 days apart, within 28 days) with preferred weekdays and a morning or afternoon window. Each is
planned and booked all-or-nothing; afterwards some sessions are cancelled and some marked
no-shows at typical rates. Reports the share of series booked inside their plan's spacing, how
far sessions land from the preferred windows, and chair and nurse utilisation of the horizon next
to its capacity bound (the fraction of chair time the nurses can actually staff).

    python -m bench.simulate [--demand 0.6] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections import Counter

from bench.harness import django_environment, report

CANCEL_RATE = 0.05
NO_SHOW_RATE = 0.03
HORIZON_DAYS = 56


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demand", type=float, default=0.6, help="share of the capacity bound")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with django_environment():
        from django.utils import timezone

        from accounts.models import Role, User
        from bench.generate import _unique
        from intake.models import Intake
        from locations.models import Chair, Location, NurseShift, OpeningHours
        from review.models import TreatmentPlan
        from scheduling import planner, services
        from scheduling.models import Session

        slug = _unique("sim")
        location = Location.objects.create(
            name=slug, slug=slug, time_zone="America/New_York", address="1 Simulation Road"
        )
        opens, closes = dt.time(8), dt.time(18)
        for weekday in range(5):
            OpeningHours.objects.create(
                location=location, weekday=weekday, opens=opens, closes=closes
            )
        for n in range(6):
            Chair.objects.create(location=location, name=f"Chair {n + 1}", position=n)
        nurses = [
            User.objects.create(
                email=f"{_unique('simnurse')}@example.org", role=Role.NURSE, password="!"
            )
            for _ in range(4)
        ]
        start = location.local_today() + dt.timedelta(days=7)
        start -= dt.timedelta(days=start.weekday())  # a Monday
        days = [start + dt.timedelta(days=n) for n in range(HORIZON_DAYS)]
        NurseShift.objects.bulk_create(
            NurseShift(
                location=location,
                nurse=nurse,
                starts_at=dt.datetime.combine(day, opens, tzinfo=location.zone),
                ends_at=dt.datetime.combine(day, closes, tzinfo=location.zone),
            )
            for day in days
            if day.weekday() < 5
            for nurse in nurses
        )
        desk = User.objects.create(
            email=f"{_unique('simdesk')}@example.org", role=Role.FRONT_DESK, password="!"
        )

        chair_minutes = 15 + 40 + 45
        open_minutes = sum(600 for day in days if day.weekday() < 5)
        chair_capacity = 6 * open_minutes
        nurse_capacity = len(nurses) * open_minutes * location.nurse_monitor_capacity
        bound = min(chair_capacity, nurse_capacity) / chair_capacity
        capacity_sessions = min(chair_capacity, nurse_capacity) // chair_minutes
        patients = int(args.demand * capacity_sessions / 8)

        inside, booked_series, distances, timings = 0, 0, [], []
        failures: list[str] = []
        windows = [(dt.time(8), dt.time(11)), (dt.time(12), dt.time(15)), (dt.time(9), dt.time(13))]
        weekday_sets = [{0, 2, 4}, {1, 3}, {0, 1, 2, 3, 4}, {0, 3}]
        for n in range(patients):
            patient = User.objects.create(
                email=f"{_unique('simpatient')}@example.org", role=Role.PATIENT, password="!"
            )
            intake = Intake.objects.create(
                patient=patient, status="approved", submitted_at=timezone.now(), location=location
            )
            plan = TreatmentPlan.objects.create(patient=patient, intake=intake, approved_by=desk)
            first = start + dt.timedelta(days=int(n * 21 / max(1, patients)))
            window = windows[rng.randrange(len(windows))]
            request = planner.Request(
                shape=planner.PlanShape.from_plan(plan),
                first_date=first,
                weekdays=frozenset(weekday_sets[rng.randrange(len(weekday_sets))]),
                windows=(planner.Window(*window),),
            )
            t0 = time.perf_counter()
            proposal = planner.propose(location, patient.pk, request)
            timings.append((time.perf_counter() - t0) * 1000)
            if not proposal.complete:
                failures.append(f"unplaced session {proposal.failed_number}")
                continue
            choices = [services.Choice(s.slot.date, s.slot.local_time) for s in proposal.sessions]
            try:
                series = services.book_series(plan, location, choices, booked_by=desk)
            except services.SchedulingError as error:
                failures.append(type(error).__name__)
                continue
            booked_series += 1
            dates = [c.date for c in choices]
            try:
                services.check_spacing(dates, request.shape)
                inside += 1
            except services.SpacingError:
                pass
            for proposed in proposal.sessions:
                distances.append(request.windows[0].distance(proposed.slot.minute))
            sessions = list(series.sessions.all())
            for session in sessions:
                roll = rng.random()
                if roll < CANCEL_RATE:
                    services.cancel_sessions(session)
                elif roll < CANCEL_RATE + NO_SHOW_RATE:
                    Session.objects.filter(pk=session.pk).update(status="no_show")

        horizon_start = dt.datetime.combine(days[0], dt.time(), tzinfo=location.zone)
        horizon_end = dt.datetime.combine(
            days[-1] + dt.timedelta(days=1), dt.time(), tzinfo=location.zone
        )
        active = Session.objects.active().filter(
            location=location, starts_at__gte=horizon_start, starts_at__lt=horizon_end
        )
        booked_minutes = active.count() * chair_minutes
        figures = {
            "demanded_series": patients,
            "booked_series": booked_series,
            "series_inside_spacing_share": round(inside / patients, 3) if patients else None,
            "mean_minutes_from_preferred_window": round(statistics.fmean(distances), 1)
            if distances
            else None,
            "chair_utilisation": round(booked_minutes / chair_capacity, 3),
            "nurse_utilisation": round(booked_minutes / nurse_capacity, 3),
            "utilisation_bound": round(bound, 3),
            "demand_share_of_bound": args.demand,
            "planner_p95_ms": round(sorted(timings)[int(0.95 * (len(timings) - 1))], 1)
            if timings
            else None,
            "failures": dict(Counter(failures)),
            "cancel_rate": CANCEL_RATE,
            "no_show_rate": NO_SHOW_RATE,
            "horizon_days": HORIZON_DAYS,
            "chairs": 6,
            "nurses": len(nurses),
        }
        print(
            f"{booked_series}/{patients} series booked, "
            f"{figures['series_inside_spacing_share']} inside spacing; "
            f"chairs {figures['chair_utilisation']}, nurses {figures['nurse_utilisation']} "
            f"(bound {figures['utilisation_bound']})"
        )
        report("simulate", figures)


if __name__ == "__main__":
    main()
