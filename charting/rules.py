"""Infusion-day rules as pure functions: vital-sign alerts and the discharge checklist.

Defaults follow common practice for monitored low-dose ketamine infusions (every value is a
setting of the location): alert when systolic > 180 or diastolic > 110 mmHg, pulse > 120 or
< 50 /min, or SpO2 < 92 %. The dose arithmetic is review.models.DosePreview.
"""

from __future__ import annotations

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
