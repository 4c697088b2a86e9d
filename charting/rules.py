"""Infusion-day rules as pure functions: vital-sign alerts and the discharge checklist.

Defaults follow common practice for monitored low-dose ketamine infusions (every value is a
setting of the location): alert when systolic > 180 or diastolic > 110 mmHg, pulse > 120 or
< 50 /min, or SpO2 < 92 %. The dose arithmetic is review.models.DosePreview.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from locations.models import Location


@dataclass(frozen=True)
class Thresholds:
    systolic_above: int = 180
    diastolic_above: int = 110
    pulse_above: int = 120
    pulse_below: int = 50
    spo2_below: int = 92

    @classmethod
    def of(cls, location: Location) -> Thresholds:
        return cls(
            systolic_above=location.alert_systolic_above,
            diastolic_above=location.alert_diastolic_above,
            pulse_above=location.alert_pulse_above,
            pulse_below=location.alert_pulse_below,
            spo2_below=location.alert_spo2_below,
        )


@dataclass(frozen=True)
class Vitals:
    systolic: int
    diastolic: int
    pulse: int
    spo2: int
    resp_rate: int | None = None


def alerts(vitals: Vitals, thresholds: Thresholds) -> list[str]:
    """Each crossed threshold in plain words; a value equal to the threshold does not alert."""
    found = []
    if vitals.systolic > thresholds.systolic_above:
        found.append(f"Systolic {vitals.systolic} above {thresholds.systolic_above} mmHg")
    if vitals.diastolic > thresholds.diastolic_above:
        found.append(f"Diastolic {vitals.diastolic} above {thresholds.diastolic_above} mmHg")
    if vitals.pulse > thresholds.pulse_above:
        found.append(f"Pulse {vitals.pulse} above {thresholds.pulse_above}/min")
    if vitals.pulse < thresholds.pulse_below:
        found.append(f"Pulse {vitals.pulse} below {thresholds.pulse_below}/min")
    if vitals.spo2 < thresholds.spo2_below:
        found.append(f"Oxygen saturation {vitals.spo2}% below {thresholds.spo2_below}%")
    return found


# "Back near baseline" for discharge: within these margins of the pre-infusion reading.
NEAR_SYSTOLIC = 20
NEAR_DIASTOLIC = 15
NEAR_PULSE = 15
NEAR_SPO2 = 2


def near_baseline(latest: Vitals, baseline: Vitals) -> list[str]:
    """What is still away from baseline; empty when the patient has settled."""
    away = []
    if abs(latest.systolic - baseline.systolic) > NEAR_SYSTOLIC:
        away.append(f"Systolic {latest.systolic} vs {baseline.systolic} before")
    if abs(latest.diastolic - baseline.diastolic) > NEAR_DIASTOLIC:
        away.append(f"Diastolic {latest.diastolic} vs {baseline.diastolic} before")
    if abs(latest.pulse - baseline.pulse) > NEAR_PULSE:
        away.append(f"Pulse {latest.pulse} vs {baseline.pulse} before")
    if baseline.spo2 - latest.spo2 > NEAR_SPO2:
        away.append(f"SpO2 {latest.spo2}% vs {baseline.spo2}% before")
    return away


@dataclass(frozen=True)
class Discharge:
    alert_and_oriented: bool
    escort_present: bool
    instructions_given: bool


def discharge_problems(
    checklist: Discharge, latest: Vitals | None, baseline: Vitals | None
) -> list[str]:
    """Why the patient cannot leave yet; empty means the discharge may be recorded."""
    problems = []
    if not checklist.alert_and_oriented:
        problems.append("The patient must be alert and oriented as before the infusion.")
    if not checklist.escort_present:
        problems.append("The escort must be present to take the patient home.")
    if not checklist.instructions_given:
        problems.append("Give the after-care instructions.")
    if latest is None or baseline is None:
        problems.append("Record a set of vitals after the infusion.")
    else:
        problems += near_baseline(latest, baseline)
    return problems


# --- The timeline (docs/roles/nurse.md#timeline-rules) ----------------------------------------
# Each step of the day has the instant it happened, entered by the nurse or "now". These rules
# decide whether a timeline could have happened; the database checks the same order.


def whole_minutes(span: dt.timedelta) -> int:
    return int(span.total_seconds() // 60)


def _hm(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


@dataclass(frozen=True)
class Clock:
    """What an entered time is checked against: now, the session's local day and zone, and how
    late a step may be charted (the location's setting)."""

    now: dt.datetime
    zone: dt.tzinfo
    day: dt.date
    late_hours: int

    def moment(self, value: dt.time | None) -> dt.datetime:
        """The instant a step happened: the entered local time on the session's day, or now."""
        if value is None:
            return self.now
        return dt.datetime.combine(self.day, value, tzinfo=self.zone)

    def problems(self, moment: dt.datetime) -> list[str]:
        """Why an entered instant cannot be charted now; late charting is allowed within the
        session's day and the location's hours, never ahead of the clock."""
        local_now = self.now.astimezone(self.zone)
        if local_now.date() != self.day:
            return [
                "The day of this session is over: the chart cannot take new entries; "
                "add an addendum instead."
            ]
        if moment > self.now:
            return [f"{_hm(moment, self.zone)} is later than now ({_hm(self.now, self.zone)})."]
        if self.now - moment > dt.timedelta(hours=self.late_hours):
            unit = "hour" if self.late_hours == 1 else "hours"
            return [
                f"{_hm(moment, self.zone)} is more than {self.late_hours} {unit} ago: "
                "add it as an addendum instead."
            ]
        return []


def not_before(
    moment: dt.datetime, earlier: dt.datetime | None, what: str, zone: dt.tzinfo
) -> list[str]:
    if earlier is not None and moment < earlier:
        return [f"{_hm(moment, zone)} is before {what} at {_hm(earlier, zone)}."]
    return []


def start_problems(checked_in: dt.datetime, started: dt.datetime, zone: dt.tzinfo) -> list[str]:
    """No infusion starts before the patient was checked in."""
    if started < checked_in:
        return [
            f"The infusion cannot start before check-in at {_hm(checked_in, zone)} "
            f"({_hm(started, zone)} was entered)."
        ]
    return []


def end_problems(
    started: dt.datetime, ended: dt.datetime, planned_minutes: int, reason: str
) -> list[str]:
    """An infusion that stops before its planned minutes needs the reason it stopped early."""
    ran = whole_minutes(ended - started)
    if ended - started < dt.timedelta(minutes=planned_minutes) and not reason.strip():
        return [
            f"The infusion ran {ran} of the planned {planned_minutes} minutes: give the reason "
            "for stopping early, or the time it really ended."
        ]
    return []


def recovery_problems(
    ended: dt.datetime, discharged: dt.datetime, min_minutes: int, reason: str
) -> list[str]:
    """Discharge waits the location's minimum recovery after the end, unless a reason is given."""
    if discharged - ended < dt.timedelta(minutes=min_minutes) and not reason.strip():
        return [
            f"Discharge is {whole_minutes(discharged - ended)} minutes after the end; this "
            f"location asks for {min_minutes}. Wait, or record why the patient leaves sooner."
        ]
    return []


# --- Sign-off: what the record must show before the nurse signs it -----------------------------


def vitals_gaps(
    taken: list[dt.datetime],
    started: dt.datetime,
    discharged: dt.datetime,
    every_minutes: int,
    zone: dt.tzinfo,
) -> list[str]:
    """Each stretch from the infusion's start to discharge longer than the location's cadence
    without a reading (monitoring continues through recovery)."""
    marks = [started, *sorted(t for t in taken if started < t < discharged), discharged]
    gaps = []
    for before, after in itertools.pairwise(marks):
        minutes = whole_minutes(after - before)
        if minutes > every_minutes:
            gaps.append(
                f"No vitals for {minutes} minutes, {_hm(before, zone)} to {_hm(after, zone)} "
                f"(due every {every_minutes} minutes)."
            )
    return gaps


def unanswered_alerts(
    readings: list[tuple[dt.datetime, list[str]]],
    answers: list[dt.datetime],
    discharged: dt.datetime,
    zone: dt.tzinfo,
) -> list[str]:
    """Each alerting reading with no intervention or note charted from it until the next
    reading (or discharge): an alert must show what was done about it, even "rechecked"."""
    readings = sorted(readings, key=lambda reading: reading[0])
    missing = []
    for n, (taken, alerts) in enumerate(readings):
        if not alerts:
            continue
        until = readings[n + 1][0] if n + 1 < len(readings) else discharged
        if not any(taken <= at <= until for at in answers):
            missing.append(
                f"The {_hm(taken, zone)} reading ({'; '.join(alerts)}) has no intervention or "
                "note after it."
            )
    return missing


def far_from_booking(
    checked_in: dt.datetime, booked: dt.datetime, limit_minutes: int, zone: dt.tzinfo
) -> str | None:
    """A check-in further from the booked start than the location allows, to be explained:
    a chart hours away from its booking is often a chart of the wrong session."""
    minutes = whole_minutes(abs(booked - checked_in))
    if minutes <= limit_minutes:
        return None
    hours, rest = divmod(minutes, 60)
    span = f"{hours} h {rest} min" if hours else f"{rest} min"
    side = "before" if checked_in < booked else "after"
    return (
        f"Checked in at {_hm(checked_in, zone)}, {span} {side} the booked "
        f"{_hm(booked, zone)}: say why."
    )
