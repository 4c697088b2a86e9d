"""Bookings from many connections at once: the database and the location lock hold the rules."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import threading
from typing import Any

import pytest
from django.db import close_old_connections, connection, connections
from django.utils import timezone

from accounts.models import Role
from locations.models import Location
from scheduling import planner, self_booking, services
from scheduling.models import Hold, Series, Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db(transaction=True)


def _run_in_threads(count: int, work) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # collected and asserted by the caller
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _unlocked_locations(location: Location, first: dt.date, last: dt.date) -> Location:
    """`services._lock_locations` without its lock: what the booking paths would do if the
    location lock were removed."""
    return Location.objects.get(pk=location.pk)


@pytest.fixture
def location_lock(monkeypatch: pytest.MonkeyPatch) -> bool:
    """The location lock as the booking paths take it, or switched off when the environment
    says SCHEDULING_LOCATION_LOCK=off: every test using this fixture must then go red (the proof
    that it watches the lock; docs/security.md#seeing-the-capacity-test-red)."""
    if os.environ.get("SCHEDULING_LOCATION_LOCK", "on") != "off":
        return True
    switch_off(monkeypatch)
    return False


def switch_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "_lock_locations", _unlocked_locations)
    monkeypatch.setattr(self_booking, "_lock_locations", _unlocked_locations)


def _both_read_before_either_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each booking waits, after reading the schedule and before writing, for the other to have
    read it too (at most a second): without the lock both read an empty schedule; with it the
    second cannot read until the first has committed, so the first goes on alone."""
    read_both = threading.Barrier(2, timeout=1)
    load = planner.load_resources

    def load_then_wait(*args: Any, **kwargs: Any) -> planner.Resources:
        resources = load(*args, **kwargs)
        # A broken barrier: the other waits for the lock (or is done), so this one goes on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            read_both.wait()
        return resources

    monkeypatch.setattr(planner, "load_resources", load_then_wait)


def _two_desks_book_ten_and_ten_twenty_for_one_nurse(
    slug: str, day: dt.date, monkeypatch: pytest.MonkeyPatch
) -> tuple[Location, list[object]]:
    # One nurse on shift, who monitors one patient at a time. Held slots leave 10:00 only chair
    # 1 and 10:20 only chair 2, and 10:20 is after 10:00's set-up: no exclusion constraint
    # applies, so only the nurse's capacity (a count under the lock) can refuse the second.
    clinic = make_location(slug, chairs=2, nurses=1, capacity=1, shifts_from=day)
    plans = [approved_plan(f"{slug}{n}@example.org", clinic, infusions=1) for n in range(2)]
    first_chair, second_chair = clinic.chairs.order_by("position")
    elsewhere = UserFactory.create(role=Role.NURSE)  # no shift here: never booked here
    for chair, start, end in [(second_chair, (8, 40), (10, 20)), (first_chair, (11, 40), (13, 20))]:
        starts_at = dt.datetime.combine(day, dt.time(*start), tzinfo=clinic.zone)
        Hold.objects.create(
            patient=UserFactory.create(role=Role.PATIENT),
            location=clinic,
            chair=chair,
            nurse=elsewhere,
            starts_at=starts_at,
            setup_ends_at=starts_at + dt.timedelta(minutes=15),
            ends_at=dt.datetime.combine(day, dt.time(*end), tzinfo=clinic.zone),
            expires_at=timezone.now() + dt.timedelta(days=1),
        )
    desk = UserFactory.create(role=Role.FRONT_DESK)
    times = [dt.time(10), dt.time(10, 20)]
    _both_read_before_either_writes(monkeypatch)
    results = _run_in_threads(
        2,
        lambda i: services.book_series(
            plans[i], clinic, [services.Choice(day, times[i])], booked_by=desk
        ),
    )
    return clinic, results


@pytest.mark.parametrize("attempt", range(5))
def test_two_desks_booking_one_nurse_beyond_her_capacity_at_once_give_her_one_patient(
    attempt: int, day: dt.date, monkeypatch: pytest.MonkeyPatch, location_lock: bool
) -> None:
    clinic, results = _two_desks_book_ten_and_ten_twenty_for_one_nurse(
        f"capacity{attempt}", day, monkeypatch
    )

    booked = [r for r in results if isinstance(r, Series)]
    refused = [r for r in results if isinstance(r, services.BookingConflict)]
    assert len(booked) == 1 and len(refused) == 1, results
    sessions = Session.objects.filter(location=clinic)
    assert sessions.count() == 1
    assert Series.objects.filter(location=clinic).count() == 1


def test_without_the_location_lock_the_capacity_race_does_give_the_nurse_two_patients(
    day: dt.date, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above watches the lock: with the lock switched off, the same race books both."""
    switch_off(monkeypatch)

    clinic, results = _two_desks_book_ten_and_ten_twenty_for_one_nurse("unlocked", day, monkeypatch)

    assert all(isinstance(r, Series) for r in results), results
    nurses = Session.objects.filter(location=clinic).values_list("nurse", flat=True)
    assert len(nurses) == 2 and len(set(nurses)) == 1
    chairs = Session.objects.filter(location=clinic).values_list("chair", flat=True)
    assert len(set(chairs)) == 2


def test_twenty_connections_booking_the_same_chair_and_time_give_one_success(day):
    clinic = make_location("race", chairs=1, nurses=1, shifts_from=day - dt.timedelta(days=1))
    plans = [approved_plan(f"racer{n}@example.org", clinic, infusions=1) for n in range(20)]
    desk = UserFactory.create(role=Role.FRONT_DESK)
    choice = [services.Choice(day, dt.time(10))]

    results = _run_in_threads(
        20, lambda i: services.book_series(plans[i], clinic, choice, booked_by=desk)
    )

    successes = [r for r in results if not isinstance(r, Exception)]
    conflicts = [r for r in results if isinstance(r, services.BookingConflict)]
    assert len(successes) == 1, results
    assert len(conflicts) == 19
    assert Session.objects.filter(location=clinic).count() == 1


INVARIANTS = {
    "chair overlap": """
        SELECT count(*) FROM scheduling_session a JOIN scheduling_session b
          ON a.chair_id = b.chair_id AND a.id < b.id
         AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
        WHERE a.status IN %(active)s AND b.status IN %(active)s""",
    "patient overlap": """
        SELECT count(*) FROM scheduling_session a JOIN scheduling_session b
          ON a.patient_id = b.patient_id AND a.id < b.id
         AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
        WHERE a.status IN %(active)s AND b.status IN %(active)s""",
    "nurse set-up overlap": """
        SELECT count(*) FROM scheduling_session a JOIN scheduling_session b
          ON a.nurse_id = b.nurse_id AND a.id < b.id
         AND tstzrange(a.starts_at, a.setup_ends_at) && tstzrange(b.starts_at, b.setup_ends_at)
        WHERE a.status IN %(active)s AND b.status IN %(active)s""",
    "nurse over capacity": """
        SELECT count(*) FROM scheduling_session a
          JOIN locations_location l ON l.id = a.location_id
        WHERE a.status IN %(active)s AND (
            SELECT count(*) FROM scheduling_session b
             WHERE b.nurse_id = a.nurse_id AND b.status IN %(active)s
               AND b.starts_at <= a.starts_at AND b.ends_at > a.starts_at
        ) > l.nurse_monitor_capacity""",
    "outside opening hours": """
        SELECT count(*) FROM scheduling_session s
          JOIN locations_location l ON l.id = s.location_id
          LEFT JOIN locations_openinghours h ON h.location_id = l.id
           AND h.weekday = (EXTRACT(ISODOW FROM s.starts_at AT TIME ZONE l.time_zone) - 1)
        WHERE s.status IN %(active)s AND (
            h.id IS NULL
            OR (s.starts_at AT TIME ZONE l.time_zone)::time < h.opens
            OR (s.ends_at AT TIME ZONE l.time_zone)::time > h.closes)""",
    "nurse off shift": """
        SELECT count(*) FROM scheduling_session s
        WHERE s.status IN %(active)s AND NOT EXISTS (
            SELECT 1 FROM locations_nurseshift n
             WHERE n.nurse_id = s.nurse_id AND n.location_id = s.location_id
               AND n.starts_at <= s.starts_at AND n.ends_at >= s.ends_at)""",
}


def test_a_random_concurrent_mix_of_book_move_and_cancel_breaks_no_invariant(day):
    clinic = make_location(
        "mix", chairs=2, nurses=2, capacity=1, shifts_from=day - dt.timedelta(days=1)
    )
    plans = [approved_plan(f"mixer{n}@example.org", clinic, infusions=1) for n in range(24)]
    desk = UserFactory.create(role=Role.FRONT_DESK)
    times = [dt.time(h, m) for h in range(9, 13) for m in (0, 30)]
    days = [day, day + dt.timedelta(days=1)]
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def work(index: int) -> None:
        rng = random.Random(index)
        for step in range(12):
            action = rng.choice(["book", "book", "move", "cancel"])
            choice = services.Choice(rng.choice(days), rng.choice(times))
            try:
                if action == "book":
                    plan = plans[(index * 12 + step) % len(plans)]
                    services.book_series(plan, clinic, [choice], booked_by=desk)
                else:
                    close_old_connections()
                    session = (
                        Session.objects.filter(location=clinic, status="booked")
                        .order_by("?")
                        .first()
                    )
                    if session is None:
                        continue
                    if action == "move":
                        services.move_sessions(session, choice)
                    else:
                        services.cancel_sessions(session)
                result = f"{action} ok"
            except services.SchedulingError as error:
                result = f"{action} refused ({type(error).__name__})"
            with lock:
                outcomes[result] = outcomes.get(result, 0) + 1

    results = _run_in_threads(8, work)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert outcomes.get("book ok", 0) > 0 and outcomes.get("cancel ok", 0) > 0
    active = tuple(["booked", "confirmed", "checked_in", "in_chair", "completed"])
    with connection.cursor() as cursor:
        for name, sql in INVARIANTS.items():
            cursor.execute(sql, {"active": active})
            assert cursor.fetchone()[0] == 0, name


def test_a_deadlock_is_retried_and_both_changes_land():
    """Two transactions take two rows in opposite orders: PostgreSQL aborts one with "deadlock
    detected", and the retry runs it again once the other has committed."""
    from django.db import transaction

    from locations.models import Location

    first = make_location("first", nurses=0)
    second = make_location("second", nurses=0)
    attempts: list[int] = []
    both_hold_one = threading.Barrier(2, timeout=20)

    def lock_both(index: int) -> str:
        order = [first.pk, second.pk] if index == 0 else [second.pk, first.pk]

        @services._retried
        def change() -> str:
            attempts.append(index)
            with transaction.atomic():
                Location.objects.select_for_update().get(pk=order[0])
                if attempts.count(index) == 1:
                    both_hold_one.wait()  # the first time only: force the crossing
                Location.objects.select_for_update().get(pk=order[1])
                Location.objects.filter(pk=order[0]).update(phone=f"changed by {index}")
            return "done"

        return change()

    results = _run_in_threads(2, lock_both)

    assert results == ["done", "done"]
    assert len(attempts) == 3  # one of the two ran twice
    assert Location.objects.filter(phone__startswith="changed by").count() == 2


def test_a_deadlock_that_keeps_happening_is_reported_in_words():
    from django.db import OperationalError

    class Deadlock(Exception):
        pgcode = "40P01"

    calls: list[int] = []

    @services._retried
    def always() -> None:
        calls.append(1)
        raise OperationalError("deadlock detected") from Deadlock()

    with pytest.raises(services.ConcurrentChange, match="Someone else changed this a moment ago"):
        always()
    assert len(calls) == services.RETRIES
