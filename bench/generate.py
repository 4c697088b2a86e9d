"""Bulk generators of realistic clinic data for benchmarks (fictional, deterministic)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from intake.models import Intake
from locations.models import Chair, Location, NurseShift, OpeningHours
from review.models import TreatmentPlan
from scheduling.models import Series, Session

# A 60-minute chair time (10 set-up + 30 infusion + 20 recovery) on a quarter-hour stagger.
SETUP = dt.timedelta(minutes=10)
CHAIR_TIME = dt.timedelta(minutes=60)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@transaction.atomic
def busy_location(
    *,
    sessions: int,
    chairs: int = 12,
    nurses: int = 10,
    days_before: int = 91,
    days_after: int = 91,
    seed: int = 42,
    prefix: str = "bench",
) -> Location:
    """A location open 06:00-22:00 every day with `sessions` active sessions around today.

    Chair c starts its hourly slots at c % 4 quarter-hours past the hour, so set-ups are
    staggered; nurses (k = 2) are assigned round-robin in start order, which keeps every nurse
    within capacity and set-ups exclusive.
    """
    rng = random.Random(seed)
    slug = _unique(prefix)
    location = Location.objects.create(
        name=slug,
        slug=slug,
        time_zone="America/New_York",
        address="1 Benchmark Way",
        nurse_monitor_capacity=2,
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(location=location, weekday=d, opens=dt.time(6), closes=dt.time(22))
        for d in range(7)
    )
    chair_rows = Chair.objects.bulk_create(
        Chair(location=location, name=f"Chair {n + 1}", position=n + 1) for n in range(chairs)
    )
    nurse_rows = User.objects.bulk_create(
        User(email=f"{_unique('nurse')}@example.org", role=Role.NURSE, password="!")
        for _ in range(nurses)
    )
    zone = location.zone
    today = location.local_today()
    first_day = today - dt.timedelta(days=days_before)
    days = [first_day + dt.timedelta(days=n) for n in range(days_before + days_after)]
    NurseShift.objects.bulk_create(
        NurseShift(
            location=location,
            nurse=nurse,
            starts_at=dt.datetime.combine(day, dt.time(6), tzinfo=zone),
            ends_at=dt.datetime.combine(day, dt.time(22), tzinfo=zone),
        )
        for day in days
        for nurse in nurse_rows
    )
    slots = [
        (day, chair_index, hour)
        for day in days
        for hour in range(6, 21)
        for chair_index in range(chairs)
    ]
    chosen = sorted(rng.sample(slots, min(sessions, len(slots))))
    # Tracks: the same chair and time on successive days belong to one patient's series.
    tracks: dict[tuple[int, int], list[tuple[dt.date, int, int]]] = {}
    for slot in chosen:
        tracks.setdefault((slot[1], slot[2]), []).append(slot)
    runs = [track[i : i + 10] for track in tracks.values() for i in range(0, len(track), 10)]
    _sessions_for(location, runs, chair_rows, nurse_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scheduling_session")
    return location


def _sessions_for(
    location: Location,
    runs: list[list[tuple[dt.date, int, int]]],
    chair_rows: list[Chair],
    nurse_rows: list[User],
) -> None:
    patients = User.objects.bulk_create(
        User(email=f"{_unique('patient')}@example.org", role=Role.PATIENT, password="!")
        for _ in runs
    )
    now = timezone.now()
    intakes = Intake.objects.bulk_create(
        Intake(
            patient=p,
            status=Intake.Status.APPROVED,
            # Spread out as sign-ups arrive, so the queue's order is as in real use.
            submitted_at=now - dt.timedelta(minutes=5 * n),
            location=location,
        )
        for n, p in enumerate(patients)
    )
    plans = TreatmentPlan.objects.bulk_create(
        TreatmentPlan(
            patient=p,
            intake=i,
            approved_by=nurse_rows[0],
            infusions=10,
            dose_mg_per_kg=Decimal("0.50"),
            infusion_minutes=30,
            chair_minutes_before=10,
            chair_minutes_after=20,
        )
        for p, i in zip(patients, intakes, strict=True)
    )
    series = Series.objects.bulk_create(
        Series(plan=plan, patient=plan.patient, location=location, booked_by=nurse_rows[0])
        for plan in plans
    )
    zone = location.zone
    rows = []
    for one_series, run in zip(series, runs, strict=True):
        for number, (day, chair_index, hour) in enumerate(run, start=1):
            start = dt.datetime.combine(
                day, dt.time(hour, 15 * (chair_index % 4)), tzinfo=zone
            ).astimezone(dt.UTC)
            rows.append(
                Session(
                    series=one_series,
                    number=number,
                    patient_id=one_series.patient_id,
                    location=location,
                    chair=chair_rows[chair_index],
                    nurse_id=0,
                    starts_at=start,
                    setup_ends_at=start + SETUP,
                    ends_at=start + CHAIR_TIME,
                    status="completed" if start < now else "booked",
                )
            )
    rows.sort(key=lambda s: (s.starts_at, s.chair.position))
    for index, row in enumerate(rows):
        row.nurse_id = nurse_rows[index % len(nurse_rows)].pk
    Session.objects.bulk_create(rows, batch_size=5000)


def approved_patient(location: Location, *, infusions: int = 12) -> TreatmentPlan:
    patient = User.objects.create(
        email=f"{_unique('planned')}@example.org", role=Role.PATIENT, password="!"
    )
    intake = Intake.objects.create(
        patient=patient,
        status=Intake.Status.APPROVED,
        submitted_at=timezone.now(),
        location=location,
    )
    return TreatmentPlan.objects.create(
        patient=patient,
        intake=intake,
        approved_by=patient,
        infusions=infusions,
        min_days_between=2,
        max_days_between=7,
        span_days=35,
        dose_mg_per_kg=Decimal("0.50"),
        infusion_minutes=30,
        chair_minutes_before=10,
        chair_minutes_after=20,
    )
