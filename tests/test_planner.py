"""The planner's choices on Resources built in memory (no database): best fit, look-ahead, the
first-session search, and the capacity bound the benchmarks state for the start grid."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from bench import demand
from scheduling import planner

ZONE = zoneinfo.ZoneInfo("America/New_York")
MONDAY = dt.date(2027, 2, 1)
SHAPE = planner.PlanShape(
    infusions=3,
    min_days_between=2,
    max_days_between=3,
    span_days=6,
    setup_minutes=15,
    chair_minutes=100,
)


def _epoch(day: dt.date, minute: int) -> int:
    return int(
        dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=ZONE).timestamp()
    )


def resources(
    *,
    chairs: int = 1,
    nurses: int = 1,
    capacity: int = 1,
    days: int = 40,
    booked: Sequence[tuple[int, int, dt.date, int]] = (),
) -> planner.Resources:
    """A clinic open 08:00-18:00 every day, nurses on shift all day; `booked` holds
    (chair, nurse, date, start minute) of 100-minute sessions already there."""
    dates = [MONDAY + dt.timedelta(days=n) for n in range(days)]
    return planner.Resources(
        zone=ZONE,
        capacity=capacity,
        openings={day: (480, 1080) for day in dates},
        chairs=list(range(1, chairs + 1)),
        shifts=[
            (100 + n, _epoch(day, 480), _epoch(day, 1080)) for day in dates for n in range(nurses)
        ],
        sessions=[
            (chair, nurse, _epoch(day, m), _epoch(day, m + 15), _epoch(day, m + 100), day)
            for chair, nurse, day, m in booked
        ],
        patient_busy=[],
    )


def full_day(day: dt.date) -> list[tuple[int, int, dt.date, int]]:
    return [(1, 100, day, 480 + 100 * n) for n in range(6)]


def request(first: dt.date = MONDAY, window: tuple[int, int] = (9, 12)) -> planner.Request:
    return planner.Request(
        shape=SHAPE,
        first_date=first,
        windows=(planner.Window(dt.time(window[0]), dt.time(window[1])),),
    )


def test_a_start_that_strands_less_than_a_session_is_preferred_inside_the_window():
    # 08:00-09:40 is taken: 09:40 leaves 11:20, 13:00, 14:40 and 16:20 usable; 09:00 does not
    # fit, and 10:00 would strand the 20 minutes before it, a session's worth of the day.
    clinic = resources(booked=[(1, 100, MONDAY, 480)])

    proposal = planner.plan(clinic, request())

    assert proposal.complete
    assert proposal.sessions[0].slot.date == MONDAY
    assert proposal.sessions[0].slot.local_time == dt.time(9, 40)


def test_stranding_is_counted_in_whole_sessions():
    clinic = resources()
    shape = SHAPE

    aligned = clinic.slot(MONDAY, 8 * 60, shape)
    offset = clinic.slot(MONDAY, 8 * 60 + 20, shape)

    assert aligned is not None and clinic.lost(aligned, shape) == 0
    # 08:20 on an empty chair and nurse: each day line holds five instead of six.
    assert offset is not None and clinic.lost(offset, shape) == 2


def test_the_chair_whose_gap_it_fills_exactly_is_chosen():
    # Chair 1 is busy 08:00-09:40; chair 2 is free all day. A 09:40 start fits chair 1 exactly.
    clinic = resources(chairs=2, nurses=2, booked=[(1, 100, MONDAY, 480)])

    slot = clinic.slot(MONDAY, 9 * 60 + 40, SHAPE)

    assert slot is not None and slot.chair_id == 1 and slot.nurse_id == 100


def test_the_later_sessions_are_chosen_together_so_a_full_day_cannot_break_the_series():
    # Earliest dates greedily would be Mon, Wed, then Fri or Sat, both full; looking ahead the
    # planner takes Mon, Thu, Sun.
    friday, saturday = MONDAY + dt.timedelta(days=4), MONDAY + dt.timedelta(days=5)
    clinic = resources(booked=full_day(friday) + full_day(saturday))

    proposal = planner.plan(clinic, request())

    assert proposal.complete
    assert [(s.slot.date - MONDAY).days for s in proposal.sessions] == [0, 3, 6]


def test_the_first_session_is_searched_for_three_weeks_ahead():
    busy = [entry for n in range(16) for entry in full_day(MONDAY + dt.timedelta(days=n))]
    clinic = resources(booked=busy)

    proposal = planner.plan(clinic, request())

    assert proposal.complete
    assert proposal.sessions[0].slot.date == MONDAY + dt.timedelta(days=16)
    assert planner.FIRST_SESSION_SEARCH_DAYS == 21


def test_a_series_that_cannot_be_completed_names_the_first_session_missing():
    busy = [entry for n in range(2, 40) for entry in full_day(MONDAY + dt.timedelta(days=n))]
    clinic = resources(booked=busy)

    proposal = planner.plan(clinic, request())

    assert not proposal.complete
    assert proposal.failed_number == 2
    assert [s.slot.date for s in proposal.sessions] == [MONDAY]


def test_the_plan_is_deterministic_and_keeps_one_time_of_day_when_there_is_room():
    first = planner.plan(resources(), request(window=(12, 15)))
    second = planner.plan(resources(), request(window=(12, 15)))

    assert [s.slot for s in first.sessions] == [s.slot for s in second.sessions]
    # An empty clinic strands nothing anyone needs: inside the window, the end nearer the end
    # of the day (12:00-15:00: 15:00), which leaves the middle of the day to other windows.
    assert {s.slot.local_time for s in first.sessions} == {dt.time(15, 0)}
    assert first.anchor_time == dt.time(15, 0)
    assert all(s.at_anchor for s in first.sessions)


def afternoon(day: dt.date) -> list[tuple[int, int, dt.date, int]]:
    """13:00, 14:40 and 16:20 taken: the morning (and the 09:00-12:00 window) is still free."""
    return [(1, 100, day, 780 + 100 * n) for n in range(3)]


def test_a_clinic_with_room_at_once_books_the_earliest_dates_even_if_later_ones_are_emptier():
    # The first session can be on the first date: the clinic is not congested, so the series
    # keeps the earliest dates and takes Friday's free morning though Saturday is empty.
    friday = MONDAY + dt.timedelta(days=4)
    clinic = resources(booked=afternoon(friday))

    proposal = planner.plan(clinic, request(window=(8, 11)))

    assert proposal.complete
    assert [(s.slot.date - MONDAY).days for s in proposal.sessions] == [0, 2, 4]
    assert proposal.sessions[2].slot.local_time == dt.time(8, 0)


def test_when_the_first_session_must_wait_the_series_goes_to_the_emptier_dates():
    # Monday and Tuesday are full, so the first session waits two open days: the clinic is
    # congested, and the series levels the load: Saturday (empty) rather than Friday (half
    # booked), though both have a free 09:40 inside the window.
    friday = MONDAY + dt.timedelta(days=4)
    tuesday = MONDAY + dt.timedelta(days=1)
    clinic = resources(booked=full_day(MONDAY) + full_day(tuesday) + afternoon(friday))

    proposal = planner.plan(clinic, request())

    assert proposal.complete
    assert [(s.slot.date - MONDAY).days for s in proposal.sessions] == [2, 5, 7]
    assert clinic.fill(friday) == 0.5 and clinic.fill(friday + dt.timedelta(days=1)) == 0.0


def test_a_date_is_as_full_as_its_scarcer_resource():
    # Two chairs, one nurse watching one patient at a time: three sessions fill half the nurse's
    # day but a quarter of the chair time.
    clinic = resources(chairs=2, booked=afternoon(MONDAY))

    assert clinic.load(MONDAY) == 0.25
    assert clinic.fill(MONDAY) == 0.5


def test_inside_the_window_the_start_nearer_the_edge_of_the_day_is_taken():
    # 09:00-13:00 on an empty day: 09:00 (the edge of the day is 08:00) rather than 13:00,
    # which a 12:00-15:00 window could also use; never 08:00, outside the window.
    proposal = planner.plan(resources(), request(window=(9, 13)))

    assert {s.slot.local_time for s in proposal.sessions} == {dt.time(9, 0)}


def test_the_capacity_bound_is_stated_for_the_start_grid():
    # Six 100-minute sessions a day per chain on the 20-minute grid; with k = 2 only `nurses`
    # chairs can start at opening (set-ups are exclusive), the others run five.
    assert [demand.daily_capacity(c) for c in demand.CONFIGS.values()] == [24, 34, 60, 70]
    assert demand.capacity_sessions(demand.CONFIGS["6c4n-k1"]) == 24 * 40
