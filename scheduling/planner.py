"""The series planner (docs/product-rules.md#the-series-planner): propose every session at once.

Algorithm (deterministic: the same state of the database and the same request always give the
same proposal):

1. Load, in a fixed number of queries whatever the size of the clinic, everything that can
   constrain the series at one location over its horizon (the first date plus the first-session
   search window, the plan's span and a margin): opening hours, closures, active chairs, nurse
   shifts, the active sessions and live holds there, and the patient's own sessions anywhere.
   Instants are handled as integer epoch seconds; each busy interval is bucketed by resource and
   local date, so every check below looks at one short list. `propose` loads first up to the
   near horizon (a series that starts within START_LOOKAHEAD_DAYS, its span and a gap: 5
   queries), and over the whole horizon only when the search asks about a later date (5 more).

2. Candidate start times are the local times on a 20-minute grid (SLOT_MINUTES) at which the
   whole chair time (set-up + infusion + recovery) fits inside the opening hours. The default
   chair time, 100 minutes, is five steps, so back-to-back sessions stay on the grid and a chair
   or a nurse watching one patient at a time can run six a day (08:00, 09:40, ... 16:20); on the
   former 15-minute grid the next start after 08:00 was 09:45 and a day held five. A set-up
   (15 minutes) fits one step, so set-ups on distinct steps never collide. A start is feasible on
   a date when the date is open, the patient is free, a chair is free for the whole chair time,
   and a nurse on shift for the whole chair time is free of other set-ups during this set-up
   (exclusive set-up) and never monitors more than k patients at once (k per location).

3. Best fit. Of the free chairs the planner takes the one whose free gap the session fills
   without stranding a session's worth of time (a gap of g minutes holds g // 100 sessions;
   taking 100 of them must leave (g // 100) - 1), then the tightest gap, then the lowest
   position; with k = 1 the nurse is chosen the same way on her line of sessions, with k > 1 the
   nurse with the fewest sessions that day (which spreads set-ups). Each date's best start costs
   DISTANCE_WEIGHT x minutes from the preferred window + STRANDED_COST per stranded session's
   worth (chair, and nurse with k = 1) x the share of the date's chair time already booked (on
   an empty day the patient's exact time wins) + OFF_WEEKDAY_COST off a preferred weekday -
   EDGE_WEIGHT x minutes from the middle of the day's starts (inside the window, the end nearer
   the edge of the day, which fewer windows can use; EDGE_WEIGHT < DISTANCE_WEIGHT, so never
   outside the window for it); starts are tried in the order of that cost before stranding and
   the search on a date stops when it alone is no less than the best start found. A date where
   no chair has a gap as long as the chair time is rejected at once.

4. The series. For each start date in the first-session search window (FIRST_SESSION_SEARCH_DAYS
   from the first date; each day of waiting costs DELAY_COST), dynamic programming over the dates
   chooses every later session at once: session k on a date min-max days after session k - 1 and
   within the span of the first, the least total cost winning (ties: the earlier dates). Looking
   ahead over the whole series means a full day early on can no longer push the last sessions out
   of the span. Starts are tried in order and the search stops when the delay alone exceeds the
   best series found, or START_LOOKAHEAD_DAYS after the first start that completes the series.
   Quiet or congested: when the first session can start within CONGESTED_OPEN_DAYS open days of
   the first date, the clinic has room now that nobody else may use in time, so each date also
   costs EARLINESS_COST a day from the first date (the series packs into the earliest dates).
   When it must wait that long, the days ahead are full: the search runs again with each date
   costing LEVELLING_COST x its fill (`Resources.fill`: the share of its chair time or of its
   nurses' monitoring time booked, whichever is fuller) instead, so the series spreads over the
   emptiest dates in its reach, keeps room on every day for the patients who come next and fills
   the last weeks. The rule looks only at what is booked, never at who may come.
   With no complete series the longest run that keeps the spacing is returned with the number
   of the first session that could not be placed. Booked sessions are never moved.
   The proposal's anchor (its usual time) is the time most of its sessions share.

5. Alternatives for each proposed session are the nearest other feasible starts: other times on
   the same date by distance from the proposed time, then the same time on other dates that keep
   the spacing with the neighbouring sessions.

What was tried and what each step bought, and the figures against the offline reference, are in
docs/benchmarks.md#planner-experiment-history and docs/benchmarks.md#the-series-planner.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import BigIntegerField, DateField, F, Func, Value
from django.db.models.functions import TruncDate

from locations.models import Location, NurseShift
from scheduling.models import LONGEST_SESSION, Hold, Session, Visit

if TYPE_CHECKING:
    from review.models import TreatmentPlan

# The start grid: 100-minute chair times run back to back on it (see the module docstring).
SLOT_MINUTES = 20
# How far after the first date the first session may be: three weeks (at demand 0.9 with 6 chairs
# and 4 nurses, 14 days booked 91 of 108 series, 21 days 95, 28 days no more).
FIRST_SESSION_SEARCH_DAYS = 21
ALTERNATIVES = 4


@dataclass(frozen=True)
class Window:
    """A local time-of-day window the patient prefers, e.g. 09:00-12:00 (start inside it)."""

    starts: dt.time
    ends: dt.time

    def contains(self, minute: int) -> bool:
        return _minutes(self.starts) <= minute <= _minutes(self.ends)

    def distance(self, minute: int) -> int:
        low, high = _minutes(self.starts), _minutes(self.ends)
        return 0 if low <= minute <= high else min(abs(minute - low), abs(minute - high))


@dataclass(frozen=True)
class PlanShape:
    """What the planner needs from a treatment plan."""

    infusions: int
    min_days_between: int
    max_days_between: int
    span_days: int
    setup_minutes: int
    chair_minutes: int

    @classmethod
    def from_plan(cls, plan: TreatmentPlan) -> PlanShape:
        return cls(
            infusions=plan.infusions,
            min_days_between=plan.min_days_between,
            max_days_between=plan.max_days_between,
            span_days=plan.span_days,
            setup_minutes=plan.chair_minutes_before,
            chair_minutes=plan.chair_minutes,
        )


@dataclass(frozen=True)
class Request:
    shape: PlanShape
    first_date: dt.date
    weekdays: frozenset[int] = frozenset(range(7))
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Slot:
    """A feasible start with the chair and nurse that would take it."""

    date: dt.date
    minute: int  # local minutes after midnight
    starts: int  # epoch seconds
    setup_ends: int
    ends: int
    chair_id: int
    nurse_id: int

    def starts_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.starts, tz=dt.UTC)

    def setup_ends_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.setup_ends, tz=dt.UTC)

    def ends_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.ends, tz=dt.UTC)

    @property
    def local_time(self) -> dt.time:
        return dt.time(self.minute // 60, self.minute % 60)


@dataclass
class ProposedSession:
    number: int
    slot: Slot
    at_anchor: bool
    preferred_weekday: bool
    alternatives: list[Slot] = field(default_factory=list)


@dataclass
class Proposal:
    anchor_minute: int | None
    sessions: list[ProposedSession]
    failed_number: int | None = None  # the first session that could not be placed

    @property
    def complete(self) -> bool:
        return self.failed_number is None

    @property
    def anchor_time(self) -> dt.time | None:
        if self.anchor_minute is None:
            return None
        return dt.time(self.anchor_minute // 60, self.anchor_minute % 60)


def _minutes(value: dt.time) -> int:
    return value.hour * 60 + value.minute


class Resources:
    """What constrains a series at one location over a horizon, bucketed for fast checks."""

    def __init__(
        self,
        *,
        zone: zoneinfo.ZoneInfo,
        capacity: int,
        openings: dict[dt.date, tuple[int, int]],
        chairs: Sequence[int],
        shifts: Iterable[tuple[int, int, int]],
        sessions: Iterable[tuple[int, int, int, int, int, dt.date]],
        patient_busy: Iterable[tuple[int, int]],
        earliest: int = 0,
        until: dt.date | None = None,
    ) -> None:
        self.earliest = earliest  # nothing can start before now
        # The last date loaded (None: every date given). A question about a later date sets
        # `truncated`: the answer may miss sessions, and `propose` plans again over the whole
        # horizon.
        self.until = until
        self.truncated = False
        self.zone = zone
        self.capacity = capacity
        # Open dates with their local opening and closing minutes (Location.hours_on).
        self.openings = openings
        self.chairs = list(chairs)
        self.shifts: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for nurse, start, end in shifts:
            self.shifts[nurse].append((start, end))
        # Busy intervals per (chair, date) sorted by start: chairs never overlap themselves.
        self.chair_busy: dict[tuple[int, dt.date], list[tuple[int, int]]] = defaultdict(list)
        # Nurse sessions per (nurse, date): (start, setup_end, end).
        self.nurse_busy: dict[tuple[int, dt.date], list[tuple[int, int, int]]] = defaultdict(list)
        # The one pass over every session of the horizon (thousands at a busy clinic): bound
        # methods, no counters; sessions elsewhere (chair 0 from `load_resources`) take no
        # chair here.
        chair_busy, nurse_busy = self.chair_busy, self.nurse_busy
        for chair, nurse, start, setup_end, end, day in sessions:
            if chair:
                chair_busy[(chair, day)].append((start, end))
            nurse_busy[(nurse, day)].append((start, setup_end, end))
        self.nurse_day_load = {key: len(value) for key, value in nurse_busy.items()}
        self.chair_starts: dict[tuple[int, dt.date], list[int]] = {}
        for key, intervals in chair_busy.items():
            intervals.sort()  # linear when the rows come ordered by start
            self.chair_starts[key] = [start for start, _ in intervals]
        self.patient_busy = sorted(patient_busy)
        self._day_cache: dict[dt.date, tuple[int, int, int] | None] = {}
        # Resources do not change while one proposal is made: every answer can be remembered.
        self._slot_cache: dict[tuple[dt.date, int, int, int], Slot | None] = {}
        self._nurse_order: dict[dt.date, list[int]] = {}
        self._lost: dict[tuple[dt.date, int, int, int], int] = {}
        self._room: dict[tuple[dt.date, int], bool] = {}
        self._load: dict[dt.date, float] = {}
        self._shift_index: dict[int, tuple[list[int], list[int]]] = {}
        self._shift_sorted: dict[int, list[tuple[int, int]]] = {}
        self._fill: dict[dt.date, float] = {}

    def day(self, date: dt.date) -> tuple[int, int, int] | None:
        """(local midnight epoch, opening minute, closing minute), or None when closed."""
        if self.until is not None and date > self.until:
            self.truncated = True
        if date not in self._day_cache:
            hours = self.openings.get(date)
            if hours is None:
                self._day_cache[date] = None
            else:
                midnight = dt.datetime.combine(date, dt.time(), tzinfo=self.zone)
                self._day_cache[date] = (int(midnight.timestamp()), hours[0], hours[1])
        return self._day_cache[date]

    def epoch(self, date: dt.date, minute: int) -> int:
        """Local wall-clock time to an instant; 10:00 stays 10:00 across daylight saving."""
        local = dt.datetime.combine(date, dt.time(minute // 60, minute % 60), tzinfo=self.zone)
        return int(local.timestamp())

    def grid(self, date: dt.date, shape: PlanShape) -> list[int]:
        day = self.day(date)
        if day is None:
            return []
        _, opens, closes = day
        first = opens + (-opens) % SLOT_MINUTES
        return list(range(first, closes - shape.chair_minutes + 1, SLOT_MINUTES))

    def _patient_free(self, start: int, end: int) -> bool:
        # A patient's sessions never overlap each other, so only the last one starting before
        # `end` can overlap.
        index = bisect.bisect_left(self.patient_busy, (end,))
        return index == 0 or self.patient_busy[index - 1][1] <= start

    def _chair_free(self, chair: int, date: dt.date, start: int, end: int) -> bool:
        starts = self.chair_starts.get((chair, date))
        if not starts:
            return True
        index = bisect.bisect_left(starts, end)
        return index == 0 or self.chair_busy[(chair, date)][index - 1][1] <= start

    def _on_shift(self, nurse: int, start: int, end: int) -> bool:
        """Whether one of the nurse's shifts covers start-end: of the shifts starting by `start`,
        the one ending last must end at or after `end` (bisect, running maximum of the ends)."""
        if nurse not in self._shift_index:
            ordered = sorted(self.shifts.get(nurse, ()))
            ends, latest = [], -1
            for _, shift_end in ordered:
                latest = max(latest, shift_end)
                ends.append(latest)
            self._shift_index[nurse] = ([s for s, _ in ordered], ends)
            self._shift_sorted[nurse] = ordered
        starts, ends = self._shift_index[nurse]
        index = bisect.bisect_right(starts, start)
        return index > 0 and ends[index - 1] >= end

    def _nurse_free(self, nurse: int, date: dt.date, start: int, setup_end: int, end: int) -> bool:
        if not self._on_shift(nurse, start, end):
            return False
        overlapping = []
        for other_start, other_setup_end, other_end in self.nurse_busy.get((nurse, date), ()):
            if other_start < end and start < other_end:
                if other_start < setup_end and start < other_setup_end:
                    return False  # set-up is exclusive
                overlapping.append((max(other_start, start), min(other_end, end)))
        if len(overlapping) < self.capacity:
            return True
        # Peak number of other patients monitored at once during this session.
        events = sorted([(s, 1) for s, _ in overlapping] + [(e, -1) for _, e in overlapping])
        load = peak = 0
        for _, change in events:
            load += change
            peak = max(peak, load)
        return peak < self.capacity

    def slot(
        self, date: dt.date, minute: int, shape: PlanShape, chair: int | None = None
    ) -> Slot | None:
        """The chair and nurse for a start at `minute` on `date`, or None if it cannot be had.

        `chair` asks for that chair only (the desk's calendar places a session in the chair it
        was dropped on); otherwise the best fit of the free ones."""
        if chair is not None:
            return self._find_slot(date, minute, shape, chair)
        key = (date, minute, shape.chair_minutes, shape.setup_minutes)
        if key not in self._slot_cache:
            self._slot_cache[key] = self._find_slot(date, minute, shape)
        return self._slot_cache[key]

    def _find_slot(
        self, date: dt.date, minute: int, shape: PlanShape, only_chair: int | None = None
    ) -> Slot | None:
        day = self.day(date)
        if day is None:
            return None
        _, opens, closes = day
        if minute < opens or minute + shape.chair_minutes > closes:
            return None
        start = self.epoch(date, minute)
        if start < self.earliest:
            return None
        end = start + shape.chair_minutes * 60
        setup_end = start + shape.setup_minutes * 60
        if not self._patient_free(start, end):
            return None
        bounds = (self.epoch(date, opens), self.epoch(date, closes))
        unit = _unit(shape) * 60
        # Best fit: the chair whose free gap this session fills without stranding a session's
        # worth of time, then the tightest gap, then the lowest position.
        chairs = [
            (self._chair_gap(c, date, start, end, bounds), index, c)
            for index, c in enumerate(self.chairs)
            if (only_chair is None or c == only_chair) and self._chair_free(c, date, start, end)
        ]
        if not chairs:
            return None
        gap, _, chair = min(
            chairs, key=lambda t: (_lost(t[0], start, end, unit), t[0][1] - t[0][0], t[1])
        )
        lost = _lost(gap, start, end, unit)
        if date not in self._nurse_order:
            self._nurse_order[date] = sorted(
                self.shifts, key=lambda n: (self.nurse_day_load.get((n, date), 0), n)
            )
        free = (
            n for n in self._nurse_order[date] if self._nurse_free(n, date, start, setup_end, end)
        )
        if self.capacity > 1:
            # Several patients at once: the nurse with the fewest sessions that day, which
            # spreads set-ups so that they do not collide.
            nurse = next(free, None)
            if nurse is None:
                return None
        else:
            # One patient at a time: a nurse's day is a line of gaps like a chair's; best fit.
            fits = [
                (self._nurse_gap(n, date, start, end, bounds), rank, n)
                for rank, n in enumerate(free)
            ]
            if not fits:
                return None
            nurse_gap, _, nurse = min(
                fits, key=lambda t: (_lost(t[0], start, end, unit), t[0][1] - t[0][0], t[1])
            )
            lost += _lost(nurse_gap, start, end, unit)
        if only_chair is None:
            self._lost[(date, minute, shape.chair_minutes, shape.setup_minutes)] = lost
        return Slot(date, minute, start, setup_end, end, chair, nurse)

    def _chair_gap(
        self, chair: int, date: dt.date, start: int, end: int, bounds: tuple[int, int]
    ) -> tuple[int, int]:
        """The free gap of a chair (epoch seconds) that a session at start-end would fall in."""
        starts = self.chair_starts.get((chair, date), [])
        index = bisect.bisect_left(starts, end)
        before = self.chair_busy[(chair, date)][index - 1][1] if index else bounds[0]
        after = starts[index] if index < len(starts) else bounds[1]
        return max(before, bounds[0]), min(after, bounds[1])

    def _nurse_gap(
        self, nurse: int, date: dt.date, start: int, end: int, bounds: tuple[int, int]
    ) -> tuple[int, int]:
        """The free gap of a nurse who monitors one patient at a time, within the shift."""
        shift = next(((s, e) for s, e in self.shifts[nurse] if s <= start and end <= e), bounds)
        before, after = max(shift[0], bounds[0]), min(shift[1], bounds[1])
        for other_start, _, other_end in self.nurse_busy.get((nurse, date), ()):
            if other_end <= start:
                before = max(before, other_end)
            elif other_start >= end:
                after = min(after, other_start)
        return before, after

    def has_room(self, date: dt.date, shape: PlanShape) -> bool:
        """Whether some chair has a free gap as long as the chair time: without one no start
        fits, so a full date is rejected before any start is tried."""
        key = (date, shape.chair_minutes)
        if key not in self._room:
            day = self.day(date)
            if day is None:
                self._room[key] = False
            else:
                opens, closes = self.epoch(date, day[1]), self.epoch(date, day[2])
                need = shape.chair_minutes * 60
                self._room[key] = any(
                    _longest_gap(self.chair_busy.get((c, date), []), opens, closes) >= need
                    for c in self.chairs
                )
        return self._room[key]

    def load(self, date: dt.date) -> float:
        """The share of the date's chair time already booked (0 on an empty day)."""
        if date not in self._load:
            day = self.day(date)
            if day is None or not self.chairs:
                self._load[date] = 1.0
            else:
                booked = sum(
                    e - s for c in self.chairs for s, e in self.chair_busy.get((c, date), ())
                )
                self._load[date] = booked / (len(self.chairs) * (day[2] - day[1]) * 60)
        return self._load[date]

    def fill(self, date: dt.date) -> float:
        """The share of the date's capacity already booked: of its chair time or of its nurses'
        monitoring time (k patients per nurse on shift), whichever is fuller; 1 when closed."""
        if date not in self._fill:
            day = self.day(date)
            if day is None:
                self._fill[date] = 1.0
            else:
                opens, closes = self.epoch(date, day[1]), self.epoch(date, day[2])
                on_shift = sum(
                    max(0, min(end, closes) - max(start, opens))
                    for nurse in self.shifts
                    for start, end in self._shifts_on(nurse, opens, closes)
                )
                watched = sum(
                    end - start
                    for nurse in self.shifts
                    for start, _, end in self.nurse_busy.get((nurse, date), ())
                )
                nurses = watched / (self.capacity * on_shift) if on_shift else 1.0
                self._fill[date] = max(self.load(date), min(1.0, nurses))
        return self._fill[date]

    def _shifts_on(self, nurse: int, opens: int, closes: int) -> list[tuple[int, int]]:
        """The nurse's shifts that overlap opens-closes (bisect on the sorted starts)."""
        self._on_shift(nurse, opens, opens)  # builds the sorted index
        starts, ends = self._shift_index[nurse]
        ordered = self._shift_sorted[nurse]
        # `ends` is the running maximum: the shifts before the first one past `opens` end by it.
        low, high = bisect.bisect_right(ends, opens), bisect.bisect_left(starts, closes)
        return [(start, end) for start, end in ordered[low:high] if end > opens]

    def lost(self, slot: Slot, shape: PlanShape) -> int:
        """Sessions' worth of chair or nurse time a booking at `slot` would strand (0-2)."""
        key = (slot.date, slot.minute, shape.chair_minutes, shape.setup_minutes)
        if self.slot(slot.date, slot.minute, shape) is None:
            return 0
        return self._lost.get(key, 0)


def _longest_gap(busy: list[tuple[int, int]], opens: int, closes: int) -> int:
    """The longest free stretch between sorted busy intervals within opening hours."""
    longest, free_from = 0, opens
    for start, end in busy:
        longest = max(longest, min(start, closes) - free_from)
        free_from = max(free_from, end)
    return max(longest, closes - free_from)


def _unit(shape: PlanShape) -> int:
    """Minutes from one start to the next back-to-back start on the grid."""
    return math.ceil(shape.chair_minutes / SLOT_MINUTES) * SLOT_MINUTES


def _lost(gap: tuple[int, int], start: int, end: int, unit: int) -> int:
    """How many fewer sessions of `unit` the free gap holds once start-end is taken, minus the
    one taken: 0 when the session fits the gap's grid, 1 when it strands a session's worth."""
    before, after = start - gap[0], gap[1] - end
    whole = gap[1] - gap[0]
    return max(0, (whole // unit) - 1 - (before // unit) - (after // unit))


class _Epoch(Func):
    """An instant as integer epoch seconds, the planner's unit."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::bigint"
    output_field = BigIntegerField()


def load_resources(
    location: Location,
    patient_id: int,
    first_date: dt.date,
    last_date: dt.date,
    *,
    exclude: Sequence[int] = (),
) -> Resources:
    """Everything that constrains a series at `location` between two local dates: 5 queries.

    `exclude` names sessions being moved, whose current places must not block their new ones.
    """
    zone = location.zone
    since, _ = location.day_bounds(first_date)
    _, until = location.day_bounds(last_date)
    # Sessions are read through `overlapping`, which bounds their starts from below too (no
    # session lasts longer than LONGEST_SESSION), so the (location, nurse or patient,
    # starts_at) indexes stop at the horizon instead of reading the history before it; holds,
    # which last as long as the sessions they hold, are bounded the same way.
    openings = {
        day: (_minutes(opening.opens.time()), _minutes(opening.closes.time()))
        for day, opening in location.openings(first_date, last_date).items()
    }
    chairs = list(
        location.chairs.filter(is_active=True)
        .order_by("position", "name", "id")
        .values_list("id", flat=True)
    )
    shifts = list(
        NurseShift.objects.filter(location=location, starts_at__lt=until, ends_at__gt=since)
        .order_by()
        .values_list("nurse_id", _Epoch("starts_at"), _Epoch("ends_at"))
    )
    # The location's active sessions and live holds (both occupy chairs and nurses), its nurses'
    # sessions elsewhere, and the patient's own sessions anywhere, in one round trip. Every
    # column is an expression so that the parts of the UNION list them in the same order.
    occupied = (
        F("chair_id"),
        F("nurse_id"),
        _Epoch("starts_at"),
        _Epoch("setup_ends_at"),
        _Epoch("ends_at"),
        TruncDate("starts_at", tzinfo=zone),
    )
    here = (
        Session.objects.active()
        .at(location)
        .overlapping(since, until)
        .exclude(pk__in=list(exclude))
        .order_by()
        .values_list(Value("l"), *occupied)
    )
    held = (
        Hold.objects.live()
        .filter(
            location=location,
            starts_at__lt=until,
            starts_at__gt=since - LONGEST_SESSION,
            ends_at__gt=since,
        )
        .order_by()
        .values_list(Value("l"), *occupied)
    )
    # The same nurses' sessions at other locations: a nurse's set-ups and monitoring load count
    # wherever they are (they take no chair here).
    nurses = sorted({nurse for nurse, _, _ in shifts})
    nurses_elsewhere = (
        Session.objects.active()
        .filter(nurse_id__in=nurses)
        .exclude(location=location)
        .overlapping(since, until)
        .exclude(pk__in=list(exclude))
        .order_by()
        .values_list(
            Value("n"),
            Value(0),
            F("nurse_id"),
            _Epoch("starts_at"),
            _Epoch("setup_ends_at"),
            _Epoch("ends_at"),
            TruncDate("starts_at", tzinfo=zone),
        )
    )
    patients_own = (
        Session.objects.active()
        .filter(patient_id=patient_id)
        .overlapping(since, until)
        .exclude(pk__in=list(exclude))
        .order_by()
        .values_list(
            Value("p"),
            Value(0),
            Value(0),
            _Epoch("starts_at"),
            Value(0),
            _Epoch("ends_at"),
            Value(None, output_field=DateField()),
        )
    )
    # The patient's visits with a clinician count as busy too, in the same round trip
    # (docs/visits.md#the-rules-in-postgresql).
    patients_visits = (
        Visit.objects.active()
        .filter(patient_id=patient_id)
        .overlapping(since, until)
        .order_by()
        .values_list(
            Value("p"),
            Value(0),
            Value(0),
            _Epoch("starts_at"),
            Value(0),
            _Epoch("ends_at"),
            Value(None, output_field=DateField()),
        )
    )
    # Run as plain SQL: the rules come from the querysets, but the thousands of rows of a busy
    # horizon skip the ORM's per-row conversions.
    sql, params = here.union(
        held, nurses_elsewhere, patients_own, patients_visits, all=True
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    patient_busy = [(row[3], row[5]) for row in rows if row[0] == "p"]
    sessions = [row[1:] for row in rows if row[0] != "p"]
    return Resources(
        zone=zone,
        capacity=location.nurse_monitor_capacity,
        openings=openings,
        chairs=chairs,
        shifts=shifts,
        sessions=sessions,
        patient_busy=patient_busy,
        earliest=int(time.time()),
        until=last_date,
    )


def near_horizon(request: Request) -> dt.date:
    """The last date a series that can start within START_LOOKAHEAD_DAYS of the first date
    may need, its alternatives included (never after the whole horizon)."""
    shape = request.shape
    near = request.first_date + dt.timedelta(
        days=START_LOOKAHEAD_DAYS + 1 + shape.span_days + shape.max_days_between
    )
    return min(near, horizon(request)[1])


def horizon(request: Request) -> tuple[dt.date, dt.date]:
    """First date to the last date any session or alternative of the series could take."""
    shape = request.shape
    last = request.first_date + dt.timedelta(
        days=FIRST_SESSION_SEARCH_DAYS + shape.span_days + shape.max_days_between
    )
    return request.first_date, last


# Costs of one session, in minutes from the preferred window (the unit the patient sees).
STRANDED_COST = 60  # a session's worth of chair or nurse time stranded, on a full day
OFF_WEEKDAY_COST = 30  # a session on a weekday the patient did not prefer
DELAY_COST = 10  # each day the first session waits after the first date
START_LOOKAHEAD_DAYS = 3  # later starts weighed against the first that completes the series
# A minute from the window costs 0.3: at a busy clinic a start two hours off the window (36)
# beats waiting four more days for the first session (40), since unused chair time never comes
# back; the mean distance stays under half an hour at demand 0.9.
DISTANCE_WEIGHT = 0.3
# Inside the window, the start nearer either end of the day: each minute from the middle of the
# day's starts takes EDGE_WEIGHT off (less than DISTANCE_WEIGHT, so a start never leaves the
# window for it). Early and late starts suit fewer patients; taken by those whose window holds
# them, they leave the middle of the day to the windows that need it (at demand 0.9 the mean
# distance from the window fell from 31-37 to 20-22 minutes).
EDGE_WEIGHT = 0.15
# Congestion: when the first session must wait this many open days, the dates of the series
# also cost LEVELLING_COST x their fill, so that it goes to the emptier dates in its reach.
CONGESTED_OPEN_DAYS = 2
EARLINESS_COST = 3
LEVELLING_COST = 300


@dataclass(frozen=True)
class _Option:
    """The best start on one date for one session, and what it costs."""

    cost: float
    slot: Slot
    preferred_weekday: bool


def _distance(request: Request, minute: int) -> int:
    if not request.windows:
        return 0
    return min(w.distance(minute) for w in request.windows)


def _option(
    resources: Resources,
    request: Request,
    date: dt.date,
    busy: float = 0.0,
    order: dict[tuple[int, int], list[tuple[float, int]]] | None = None,
) -> _Option | None:
    """The cheapest start on `date`: window distance plus stranded capacity (best fit).

    Stranded time weighs as much as the date or the clinic over the series' reach (`busy`) is
    booked: in an empty clinic the patient's exact time wins, in a filling one the start that
    keeps the 100-minute beat. Starts are tried cheapest first before stranding (`order`
    remembers that order per opening hours), and the search stops once that cost alone is no
    less than the best start found, so a free day costs one or two slot checks.
    """
    shape = request.shape
    day = resources.day(date)
    if day is None or not resources.has_room(date, shape):
        return None
    order = {} if order is None else order
    hours = (day[1], day[2])
    if hours not in order:
        # Each start's cost before stranding (window distance less the edge preference), the
        # cheapest first: stranding only adds, so the search stops at the first start whose
        # cost before stranding is no less than the best found.
        grid = resources.grid(date, shape)
        middle = (grid[0] + grid[-1]) / 2 if grid else 0
        order[hours] = sorted(
            (DISTANCE_WEIGHT * _distance(request, m) - EDGE_WEIGHT * abs(m - middle), m)
            for m in grid
        )
    preferred = date.weekday() in request.weekdays
    base = 0 if preferred else OFF_WEEKDAY_COST
    weight = STRANDED_COST * max(resources.load(date), busy)
    best: tuple[float, Slot] | None = None
    for before_stranding, minute in order[hours]:
        if best is not None and before_stranding >= best[0]:
            break
        slot = resources.slot(date, minute, shape)
        if slot is None:
            continue
        cost = before_stranding + weight * resources.lost(slot, shape)
        if best is None or cost < best[0]:
            best = (cost, slot)
    if best is None:
        return None
    return _Option(best[0] + base, best[1], preferred)


class _Options:
    """Each date's best start, worked out the first time the search asks for the date.

    With a `levelling` weight each date also costs that weight times its fill (the share of its
    capacity already booked): the series then goes to the emptier dates it can reach.
    """

    def __init__(self, resources: Resources, request: Request, levelling: float = 0.0) -> None:
        self.resources, self.request, self.levelling = resources, request, levelling
        self.last = request.first_date + dt.timedelta(
            days=FIRST_SESSION_SEARCH_DAYS - 1 + request.shape.span_days
        )
        self._cache: dict[dt.date, _Option | None] = {}
        self._order: dict[tuple[int, int], list[tuple[float, int]]] = {}
        # How busy the clinic is over the series' reach from the first date (the mean share of
        # chair time booked over its span).
        dates = [
            request.first_date + dt.timedelta(days=n) for n in range(request.shape.span_days + 1)
        ]
        loads = [resources.load(d) for d in dates if resources.day(d) is not None]
        self.busy = sum(loads) / len(loads) if loads else 0.0

    def get(self, date: dt.date) -> _Option | None:
        if date not in self._cache:
            option = (
                _option(self.resources, self.request, date, self.busy, self._order)
                if date <= self.last
                else None
            )
            if option is not None and self.levelling:
                cost = option.cost + self.levelling * self.resources.fill(date)
                option = _Option(cost, option.slot, option.preferred_weekday)
            elif option is not None and EARLINESS_COST:
                cost = option.cost + EARLINESS_COST * (date - self.request.first_date).days
                option = _Option(cost, option.slot, option.preferred_weekday)
            self._cache[date] = option
        return self._cache[date]


def _series(
    options: _Options, request: Request, start: dt.date
) -> tuple[float, list[dt.date]] | None:
    """The cheapest dates for the whole series starting on `start` (dynamic programming).

    Session k may fall on any date with an option that is min-max days after session k - 1 and
    within the span of the first; the cost of a series is the sum of its sessions' costs, so the
    later sessions are chosen knowing one another: a full day early in the series cannot force
    the last sessions out of the span. Of equal costs the earlier dates win.
    """
    shape = request.shape
    span, low, high = shape.span_days, shape.min_days_between, shape.max_days_between
    costs: list[float | None] = []
    for d in range(span + 1):
        option = options.get(start + dt.timedelta(days=d))
        costs.append(None if option is None else option.cost)
    if costs[0] is None:
        return None
    infinity = math.inf
    # best[d]: the least cost of sessions 1..k with session k on offset d; back[k][d]: the
    # offset of session k - 1 on that cheapest way.
    best = [infinity] * (span + 1)
    best[0] = costs[0]
    back: list[list[int]] = []
    for k in range(2, shape.infusions + 1):
        nxt = [infinity] * (span + 1)
        pointers = [-1] * (span + 1)
        for d in range((k - 1) * low, span + 1):
            here = costs[d]
            if here is None:
                continue
            for previous in range(max(0, d - high), d - low + 1):  # earliest first
                if best[previous] + here < nxt[d]:
                    nxt[d] = best[previous] + here
                    pointers[d] = previous
        best = nxt
        back.append(pointers)
        if min(best) == infinity:
            return None
    cost = min(best)
    d = best.index(cost)
    days = [d]
    for pointers in reversed(back):
        d = pointers[d]
        days.append(d)
    return cost, [start + dt.timedelta(days=offset) for offset in reversed(days)]


def _partial(options: _Options, request: Request) -> list[dt.date]:
    """The longest run of sessions that keeps the spacing, earliest dates first."""
    shape = request.shape
    best: list[dt.date] = []
    for offset in range(FIRST_SESSION_SEARCH_DAYS):
        start = request.first_date + dt.timedelta(days=offset)
        if options.get(start) is None:
            continue
        dates = [start]
        while len(dates) < shape.infusions:
            later = [
                dates[-1] + dt.timedelta(days=gap)
                for gap in range(shape.min_days_between, shape.max_days_between + 1)
                if options.get(dates[-1] + dt.timedelta(days=gap))
                and (dates[-1] + dt.timedelta(days=gap) - start).days <= shape.span_days
            ]
            if not later:
                break
            dates.append(later[0])
        if len(dates) > len(best):
            best = dates
    return best


def _congested(resources: Resources, request: Request, found: int) -> bool:
    """Whether the first session must wait CONGESTED_OPEN_DAYS open days or more: the days
    just ahead are full (or cannot start this series), so the clinic is congested."""
    skipped = sum(
        1
        for n in range(found)
        if resources.day(request.first_date + dt.timedelta(days=n)) is not None
    )
    return skipped >= CONGESTED_OPEN_DAYS


def _search(options: _Options, request: Request) -> tuple[tuple[float, list[dt.date]] | None, int]:
    """The cheapest complete series over the first-session search window (its cost and dates),
    and the offset of the first start from which a complete series exists (-1 without one)."""
    chosen: tuple[float, list[dt.date]] | None = None
    found = None
    for offset in range(FIRST_SESSION_SEARCH_DAYS):
        start = request.first_date + dt.timedelta(days=offset)
        delay = DELAY_COST * offset
        if chosen is not None and delay >= chosen[0]:
            break  # a later start cannot be cheaper
        if found is not None and offset > found + START_LOOKAHEAD_DAYS:
            break  # the patient would rather start now than save a little later
        if options.get(start) is None:
            continue
        series = _series(options, request, start)
        if series is not None:
            found = offset if found is None else found
            if chosen is None or series[0] + delay < chosen[0]:
                chosen = (series[0] + delay, series[1])
    return chosen, -1 if found is None else found


def plan(resources: Resources, request: Request) -> Proposal:
    """The best proposal for the request over the loaded resources (see the module docstring)."""
    options = _Options(resources, request)
    chosen, found = _search(options, request)
    if chosen is not None and _congested(resources, request, found):
        options = _Options(resources, request, levelling=LEVELLING_COST)
        chosen, _ = _search(options, request)
    if chosen is None:
        dates = _partial(options, request)
        sessions = [_proposed(n, _get(options, d)) for n, d in enumerate(dates, start=1)]
        return Proposal(_anchor(sessions), sessions, failed_number=len(sessions) + 1)
    sessions = [_proposed(n, _get(options, d)) for n, d in enumerate(chosen[1], start=1)]
    proposal = Proposal(_anchor(sessions), sessions)
    for session in sessions:
        session.at_anchor = session.slot.minute == proposal.anchor_minute
    add_alternatives(resources, request, proposal)
    return proposal


def _get(options: _Options, date: dt.date) -> _Option:
    option = options.get(date)
    assert option is not None
    return option


def _proposed(number: int, option: _Option) -> ProposedSession:
    return ProposedSession(number, option.slot, True, option.preferred_weekday)


def _anchor(sessions: list[ProposedSession]) -> int | None:
    """The time of day most sessions share (the earliest of equals): the series' usual time."""
    if not sessions:
        return None
    counts: dict[int, int] = defaultdict(int)
    for session in sessions:
        counts[session.slot.minute] += 1
    return min(counts, key=lambda m: (-counts[m], m))


def add_alternatives(resources: Resources, request: Request, proposal: Proposal) -> None:
    """Fill each session's nearest other feasible starts (same date first, then other dates)."""
    shape = request.shape
    sessions = proposal.sessions
    for index, session in enumerate(sessions):
        options: list[Slot] = []
        date, minute = session.slot.date, session.slot.minute
        for other in sorted(resources.grid(date, shape), key=lambda m: (abs(m - minute), m)):
            if other != minute and (slot := resources.slot(date, other, shape)):
                options.append(slot)
                if len(options) == ALTERNATIVES // 2:
                    break
        low, high = _date_bounds(request, sessions, index)
        day = low
        candidates = []
        while day <= high:
            if day != date:
                candidates.append(day)
            day += dt.timedelta(days=1)
        candidates.sort(key=lambda d: (abs((d - date).days), d))
        for other_date in candidates:
            if slot := resources.slot(other_date, minute, shape):
                options.append(slot)
                if len(options) >= ALTERNATIVES:
                    break
        session.alternatives = options


def _date_bounds(
    request: Request, sessions: list[ProposedSession], index: int
) -> tuple[dt.date, dt.date]:
    """The dates session `index` may move to while keeping the spacing with its neighbours."""
    shape = request.shape
    date = sessions[index].slot.date
    minimum = dt.timedelta(days=shape.min_days_between)
    maximum = dt.timedelta(days=shape.max_days_between)
    low, high = request.first_date, date + maximum
    if index:
        before = sessions[index - 1].slot.date
        low, high = before + minimum, min(high, before + maximum)
    if index + 1 < len(sessions):
        after = sessions[index + 1].slot.date
        low, high = max(low, after - maximum), min(high, after - minimum)
    return low, high


def propose(
    location: Location,
    patient_id: int,
    request: Request,
) -> Proposal:
    """The proposal for the request at `location`, planned over the dates it needs.

    Most series start within a few days of the first date, so the sessions are loaded first up
    to `near_horizon` (a quarter fewer rows than the whole horizon for the default plan); only
    when the search asks about a later date (a congested clinic, a late first session) are they
    loaded again over the whole horizon and the series planned again: the same proposal as over
    the whole horizon, in 5 or 10 queries.
    """
    first, last = horizon(request)
    resources = load_resources(location, patient_id, first, near_horizon(request))
    proposal = plan(resources, request)
    if resources.truncated:
        resources = load_resources(location, patient_id, first, last)
        proposal = plan(resources, request)
    return proposal
