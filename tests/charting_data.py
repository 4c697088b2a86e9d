"""A session about to start today, booked directly (charting does not care how it was booked)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone

from accounts.models import Role
from scheduling.models import Series, Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# The afternoon of a reported chart: a Tuesday; the session starts at 15:45.
AFTERNOON = dt.datetime(2027, 3, 2, 15, 10, tzinfo=NEW_YORK)

# The patient of the reported chart: penicillin allergy (the sample intake), lorazepam (a
# benzodiazepine), sleep apnoea, and a clinician's note in the plan.
SAFETY_CHANGES = {
    "safety": {
        "sleep_apnoea": "yes",
        "medications-1-name": "Lorazepam",
        "medications-1-dose": "1 mg",
        "medications-1-frequency": "at night",
    }
}
PLAN_NOTE = "Hold lorazepam the evening before. ECG before first infusion."


def session_today(
    slug: str = "stamford",
    email: str = "chart@example.org",
    starts_in: int = 30,
    *,
    intake_changes: dict | None = None,
    zone: str = "America/New_York",
    **plan: object,
):
    location = make_location(slug, zone, chairs=2, nurses=1, shifts_from=timezone.localdate())
    plan_row = approved_plan(email, location, intake_changes=intake_changes, **plan)
    nurse = UserFactory.create(role=Role.NURSE, email=f"charting.nurse.{slug}@example.org")
    nurse.locations.add(location)
    series = Series.objects.create(
        plan=plan_row, patient=plan_row.patient, location=location, booked_by=nurse
    )
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=starts_in)
    session = Session.objects.create(
        series=series,
        number=1,
        patient=plan_row.patient,
        location=location,
        chair=location.chairs.get(position=1),
        nurse=nurse,
        starts_at=start,
        setup_ends_at=start + dt.timedelta(minutes=15),
        ends_at=start + dt.timedelta(minutes=100),
    )
    return session, nurse


def next_session(session: Session, days: int = 2) -> Session:
    """The following infusion of the same series, `days` later at the same time."""
    start = session.starts_at + dt.timedelta(days=days)
    return Session.objects.create(
        series=session.series,
        number=session.number + 1,
        patient=session.patient,
        location=session.location,
        chair=session.chair,
        nurse=session.nurse,
        starts_at=start,
        setup_ends_at=start + dt.timedelta(minutes=15),
        ends_at=start + dt.timedelta(minutes=100),
    )


def check_in_post(session: Session, **changes: str) -> dict[str, str]:
    """A valid check-in as the nurse's browser posts it (fasted 7 h / 3 h before the start)."""
    start = session.local_start()
    data = {
        "action": "check_in",
        "time": "",
        "last_solid_food": (start - dt.timedelta(hours=7)).strftime("%H:%M"),
        "last_clear_liquid": (start - dt.timedelta(hours=3)).strftime("%H:%M"),
        "escort_name": "Jamie Testperson",
        "escort_phone": "203 555 0111",
        "escort_present": "on",
        "pregnancy_possible": "no",
        "weight": "74.8",
        "weight_unit": "kg",
        "systolic": "130",
        "diastolic": "80",
        "pulse": "75",
        "spo2": "98",
        "resp_rate": "14",
        "pain_before": "7",
    }
    data.update(changes)
    return data


def vitals_post(time: str = "", phase: str = "", **changes: str) -> dict[str, str]:
    data = {
        "action": "vitals",
        "time": time,
        "systolic": "132",
        "diastolic": "82",
        "pulse": "76",
        "spo2": "98",
        "resp_rate": "14",
    }
    if phase:
        data["phase"] = phase
    data.update(changes)
    return data


DISCHARGE = {
    "action": "discharge",
    "alert_and_oriented": "on",
    "escort_present": "on",
    "instructions_given": "on",
    "pain_after": "3",
}


def afternoon_zone() -> str:
    """An IANA zone where it is early afternoon now, so a test in real time can chart a
    whole session in the past minutes of the same local day, whenever it runs."""
    offset = (13 - dt.datetime.now(dt.UTC).hour) % 24
    if offset > 12:
        offset -= 24
    # POSIX-style names: Etc/GMT-3 is three hours ahead of UTC.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
