"""A freed slot goes to the first waiting patient, held briefly; an expired hold moves on."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import Role
from scheduling import planner, services
from scheduling.models import Hold, Session, WaitlistEntry
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 2, 1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(dt.datetime(2027, 1, 25, 12, tzinfo=dt.UTC), tick=False):
        yield


def _book_one(plan, clinic, day, time):
    series = services.book_series(
        plan,
        clinic,
        [services.Choice(day, time)],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    return series.sessions.get()


def _wait(session, clinic):
    return WaitlistEntry.objects.create(
        location=clinic,
        session=session,
        earliest_date=MONDAY,
        latest_date=MONDAY + dt.timedelta(days=4),
        window_starts=dt.time(8),
        window_ends=dt.time(12),
    )


def test_a_cancelled_slot_is_held_for_the_first_waiting_patient_and_can_be_taken():
    clinic = make_location("wl", chairs=1, nurses=1, shifts_from=MONDAY)
    early = _book_one(
        approved_plan("a@example.org", clinic, infusions=1), clinic, MONDAY, dt.time(9)
    )
    later_day = MONDAY + dt.timedelta(days=3)
    first_waiting = _book_one(
        approved_plan("b@example.org", clinic, infusions=1), clinic, later_day, dt.time(9)
    )
    second_waiting = _book_one(
        approved_plan("c@example.org", clinic, infusions=1), clinic, later_day, dt.time(14)
    )
    entry_b = _wait(first_waiting, clinic)
    entry_c = _wait(second_waiting, clinic)

    services.cancel_sessions(early)

    hold = Hold.objects.get()
    assert hold.entry == entry_b
    assert hold.expires_at - dt.datetime.now(dt.UTC) == dt.timedelta(minutes=services.HOLD_MINUTES)
    entry_b.refresh_from_db()
    assert entry_b.status == WaitlistEntry.EntryStatus.OFFERED
    # While held, nobody else gets the slot from the planner.
    stranger = approved_plan("d@example.org", clinic, infusions=1)
    resources = planner.load_resources(clinic, stranger.patient_id, MONDAY, MONDAY)
    assert resources.slot(MONDAY, 9 * 60, planner.PlanShape.from_plan(stranger)) is None

    moved = services.accept_hold(hold)

    assert moved.pk == first_waiting.pk
    assert moved.local_start().replace(tzinfo=None) == dt.datetime.combine(MONDAY, dt.time(9))
    entry_b.refresh_from_db()
    entry_c.refresh_from_db()
    # The slot b gave up is in turn offered to c, the next in line.
    assert (entry_b.status, entry_c.status) == ("booked", "offered")
    vacated = Hold.objects.get(entry=entry_c)
    assert vacated.starts_at.astimezone(clinic.zone).replace(tzinfo=None) == dt.datetime.combine(
        later_day, dt.time(9)
    )


def test_an_expired_hold_is_offered_to_the_next_patient_waiting():
    clinic = make_location("wl2", chairs=1, nurses=1, shifts_from=MONDAY)
    early = _book_one(
        approved_plan("a@example.org", clinic, infusions=1), clinic, MONDAY, dt.time(9)
    )
    later_day = MONDAY + dt.timedelta(days=3)
    entry_b = _wait(
        _book_one(
            approved_plan("b@example.org", clinic, infusions=1), clinic, later_day, dt.time(9)
        ),
        clinic,
    )
    entry_c = _wait(
        _book_one(
            approved_plan("c@example.org", clinic, infusions=1), clinic, later_day, dt.time(14)
        ),
        clinic,
    )
    services.cancel_sessions(early)

    with time_machine.travel(dt.datetime(2027, 1, 25, 13, tzinfo=dt.UTC), tick=False):
        assert services.release_expired_holds() == 1
        with pytest.raises(services.InvalidTransition):
            services.accept_hold(Hold.objects.get(entry=entry_b))

    next_hold = Hold.objects.get(released_at__isnull=True)
    assert next_hold.entry == entry_c
    entry_b.refresh_from_db()
    assert entry_b.status == "waiting"
    assert Session.objects.get(pk=entry_c.session_id).local_start().time() == dt.time(14)


def test_a_freed_slot_goes_only_to_a_waiting_patient_who_can_take_it():
    """The reported case: session 4 was offered a slot on the day of session 3, which its
    spacing forbids; the slot was held 30 minutes for nobody. Now it goes to the next patient
    for whom it is bookable."""
    clinic = make_location("wl", chairs=1, nurses=1, shifts_from=MONDAY)
    freed = _book_one(
        approved_plan("a@example.org", clinic, infusions=1), clinic, MONDAY, dt.time(9)
    )
    # A two-session series on Monday 14:00 and Thursday: moving its second session to Monday
    # would put both on one day.
    plan = approved_plan("b@example.org", clinic, infusions=2, min_days_between=2)
    series = services.book_series(
        plan,
        clinic,
        [
            services.Choice(MONDAY, dt.time(14)),
            services.Choice(MONDAY + dt.timedelta(days=3), dt.time(9)),
        ],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    same_day_entry = _wait(series.sessions.get(number=2), clinic)
    later = _book_one(
        approved_plan("c@example.org", clinic, infusions=1),
        clinic,
        MONDAY + dt.timedelta(days=4),
        dt.time(9),
    )
    bookable_entry = _wait(later, clinic)

    services.cancel_sessions(freed)

    hold = Hold.objects.get()
    assert hold.entry == bookable_entry
    same_day_entry.refresh_from_db()
    assert same_day_entry.status == WaitlistEntry.EntryStatus.WAITING
    moved = services.accept_hold(hold)
    assert moved.local_start().date() == MONDAY
