"""A seeded month of demand at one clinic, shared by `bench.simulate` and `bench.offline`.

One function, `month`, draws the patients (arrival date, preferred weekdays, one preferred
window); `digest` names that draw together with every rule it is booked under (the clinic's
configuration, the plan's shape, hours, horizon, start grid, first-session search), so that
`bench.offline` recomputes its stored reference exactly when any of them changes.

The capacity bound is stated for the planner's start grid (`planner.SLOT_MINUTES`), not for
continuous time: on a 20-minute grid a 100-minute chair time is five steps, so a chair (or, with
k = 1, a nurse) can take at most 6 sessions between 08:00 and 18:00 (08:00, 09:40, ..., 16:20),
and only if they start on the opening-aligned steps. With k = 2 a nurse watches two patients at
once but sets up one at a time, so at most `nurses` sessions start on one step: only `nurses`
chairs can run six sessions a day (from 08:00), the others five (from 08:20). Per day: 6 chairs
and 4 nurses hold 24 sessions with k = 1 and 34 with k = 2; 12 chairs and 10 nurses, 60 and 70.
(On the former 15-minute grid the next start after 08:00 is 09:45, so a chair or a k = 1 nurse
held only 5 a day.) `daily_capacity` computes this; `bench.offline` checks it on one day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from dataclasses import asdict, dataclass

from scheduling.planner import FIRST_SESSION_SEARCH_DAYS, SLOT_MINUTES, PlanShape

# The default protocol (review.models.TreatmentPlan's defaults): 8 infusions 2-7 days apart
# within 28 days; chair time 15 set-up + 40 infusion + 45 recovery.
SHAPE = PlanShape(
    infusions=8,
    min_days_between=2,
    max_days_between=7,
    span_days=28,
    setup_minutes=15,
    chair_minutes=100,
)
OPENS, CLOSES = dt.time(8), dt.time(18)
OPEN_WEEKDAYS = frozenset(range(5))
HORIZON_DAYS = 56  # nurse shifts exist for eight weeks from the first Monday
ARRIVAL_DAYS = 21  # new patients arrive over the first three weeks
SEED = 7
DEMANDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
WINDOWS = ((dt.time(8), dt.time(11)), (dt.time(12), dt.time(15)), (dt.time(9), dt.time(13)))
WEEKDAY_SETS = (frozenset({0, 2, 4}), frozenset({1, 3}), frozenset(range(5)), frozenset({0, 3}))


@dataclass(frozen=True)
class Config:
    """A clinic: chairs, nurses on shift all day, and how many patients a nurse monitors (k)."""

    chairs: int
    nurses: int
    capacity: int

    @property
    def name(self) -> str:
        return f"{self.chairs}c{self.nurses}n-k{self.capacity}"


CONFIGS = {
    config.name: config
    for config in (Config(6, 4, 1), Config(6, 4, 2), Config(12, 10, 1), Config(12, 10, 2))
}


@dataclass(frozen=True)
class Patient:
    """One new patient: the day (from the first Monday) they can start, and what they prefer."""

    arrives: int
    weekdays: frozenset[int]
    window: tuple[dt.time, dt.time]


def open_days() -> list[int]:
    return [d for d in range(HORIZON_DAYS) if d % 7 in OPEN_WEEKDAYS]  # day 0 is a Monday


def steps(shape: PlanShape = SHAPE) -> int:
    """Grid steps a session holds its chair (and, with k = 1, its nurse) before the next start."""
    return math.ceil(shape.chair_minutes / SLOT_MINUTES)


def starts_per_day(shape: PlanShape = SHAPE) -> list[int]:
    """The grid minutes (after opening) at which a whole chair time fits the opening hours."""
    open_minutes = (CLOSES.hour - OPENS.hour) * 60
    return list(range(0, open_minutes - shape.chair_minutes + 1, SLOT_MINUTES))


def daily_capacity(config: Config, shape: PlanShape = SHAPE) -> int:
    """The most sessions one day can hold on the start grid (see the module docstring).

    A chair or nurse "chain" runs back-to-back sessions every `steps` grid steps; a chain that
    starts at opening (offset 0) holds one more than a chain starting later. There are at most
    min(chairs, k × nurses) chains (chairs; nurses monitoring k at once), and at most `nurses`
    of them share an offset, because set-ups (15 minutes, inside one 20-minute step) are
    exclusive per nurse. The chains are laid on offsets 0, 1, ... (one step apart), longest
    first. `bench.offline` confirms the figure with CP-SAT on one day.
    """
    assert shape.setup_minutes <= SLOT_MINUTES, "set-ups on distinct steps must not collide"
    grid = starts_per_day(shape)
    every = steps(shape)
    chains = min(config.chairs, config.capacity * config.nurses)
    total, offset = 0, 0
    while chains > 0 and offset < every:
        here = min(chains, config.nurses)
        total += here * len(range(offset, len(grid), every))
        chains -= here
        offset += 1
    return total


def capacity_sessions(config: Config, shape: PlanShape = SHAPE) -> int:
    """The capacity bound over the horizon, in sessions."""
    return daily_capacity(config, shape) * len(open_days())


def month(config: Config, share: float, seed: int = SEED) -> list[Patient]:
    """The patients of one month at `share` of the capacity bound, in order of arrival."""
    rng = random.Random(f"{seed}-{config.name}-{share}")
    count = int(share * capacity_sessions(config) / SHAPE.infusions)
    patients = []
    for n in range(count):
        window = WINDOWS[rng.randrange(len(WINDOWS))]
        weekdays = WEEKDAY_SETS[rng.randrange(len(WEEKDAY_SETS))]
        patients.append(Patient(int(n * ARRIVAL_DAYS / max(1, count)), weekdays, window))
    return patients


def rules() -> dict[str, object]:
    """Everything besides the patients that decides what can be booked."""
    return {
        "shape": asdict(SHAPE),
        "opens": OPENS.isoformat(),
        "closes": CLOSES.isoformat(),
        "open_weekdays": sorted(OPEN_WEEKDAYS),
        "horizon_days": HORIZON_DAYS,
        "slot_minutes": SLOT_MINUTES,
        "first_session_search_days": FIRST_SESSION_SEARCH_DAYS,
    }


def digest(config: Config, share: float, seed: int = SEED) -> str:
    """A hash of the generator's output and the rules: the key of a stored offline result."""
    patients = [
        [p.arrives, sorted(p.weekdays), p.window[0].isoformat(), p.window[1].isoformat()]
        for p in month(config, share, seed)
    ]
    text = json.dumps({"config": asdict(config), "rules": rules(), "patients": patients})
    return hashlib.sha256(text.encode()).hexdigest()[:16]
