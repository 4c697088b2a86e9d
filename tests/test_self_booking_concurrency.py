"""A patient online and the desk booking the same chair and time on two connections at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections

from accounts.models import Role
from scheduling import planner, self_booking, services
from scheduling.models import Hold, Series, Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db(transaction=True)


def _both_at_once(*work):
    barrier = threading.Barrier(len(work))
    results: list[object] = [None] * len(work)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work[index]()
        except Exception as error:  # collected and asserted by the caller
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_a_patient_and_the_desk_booking_one_chair_and_time_give_one_winner(attempt, day):
    clinic = make_location(f"race{attempt}", chairs=1, nurses=1, shifts_from=day)
    clinic.self_booking = True
    clinic.self_booking_notice_hours = 1
    clinic.save()
    online = approved_plan(f"online{attempt}@example.org", clinic, infusions=1)
    phoned = approved_plan(f"phoned{attempt}@example.org", clinic, infusions=1)
    desk = UserFactory.create(role=Role.FRONT_DESK)
    choice = [services.Choice(day, dt.time(10))]
    desk_request = planner.Request(planner.PlanShape.from_plan(phoned), day)

    patient_result, desk_result = _both_at_once(
        lambda: self_booking.book_own_series(online.patient, clinic, choice),
        lambda: services.book_series(phoned, clinic, choice, booked_by=desk, request=desk_request),
    )

    results = [patient_result, desk_result]
    winners = [r for r in results if isinstance(r, Series)]
    losers = [r for r in results if isinstance(r, services.BookingConflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert Session.objects.filter(location=clinic).count() == 1
    taken = Session.objects.get(location=clinic).starts_at
    if isinstance(desk_result, services.BookingConflict):
        # The desk sees fresh alternatives at once, none of them the taken time.
        fresh = desk_result.proposal
        assert fresh is not None and fresh.sessions
        assert fresh.sessions[0].slot.starts_at() != taken
    else:
        # The patient's page proposes afresh (and holds it): never the taken time.
        request = planner.Request(planner.PlanShape.from_plan(online), day)
        fresh, holds = self_booking.hold_proposal(online.patient, clinic, request)
        assert fresh.sessions[0].slot.starts_at() != taken
        assert holds


@pytest.mark.parametrize("attempt", range(3))
def test_the_desk_confirming_and_declining_one_series_at_once_decides_it_once(attempt, day):
    from notifications.models import Message
    from scheduling.models import ReminderKind, Status

    clinic = make_location(f"decide{attempt}", chairs=1, nurses=1, shifts_from=day)
    clinic.self_booking = True
    clinic.self_booking_notice_hours = 1
    clinic.self_booking_desk_confirms = True
    clinic.save()
    online = approved_plan(f"decided{attempt}@example.org", clinic, infusions=1)
    series = self_booking.book_own_series(
        online.patient, clinic, [services.Choice(day, dt.time(10))]
    )
    desk, other_desk = UserFactory.create_batch(2, role=Role.FRONT_DESK)

    confirmed, declined = _both_at_once(
        lambda: services.confirm_self_booked(series, by=desk),
        lambda: services.decline_self_booked(series, by=other_desk, reason="Please call us."),
    )

    results = [confirmed, declined]
    refused = [r for r in results if isinstance(r, services.InvalidTransition)]
    assert len(refused) == 1, results
    series.refresh_from_db()
    session = series.sessions.get()
    kinds = set(Message.objects.filter(group=f"series:{series.pk}").values_list("kind", flat=True))
    assert series.awaiting_desk_since is None
    if isinstance(declined, services.InvalidTransition):
        assert series.status == Series.SeriesStatus.ACTIVE and session.status == Status.BOOKED
        assert ReminderKind.CONFIRMATION in kinds and ReminderKind.DECLINED not in kinds
    else:
        assert series.status == Series.SeriesStatus.CANCELLED
        assert session.status == Status.CANCELLED
        assert ReminderKind.DECLINED in kinds and ReminderKind.CONFIRMATION not in kinds


@pytest.mark.parametrize("attempt", range(3))
def test_proposals_at_two_locations_at_once_leave_the_patient_one_set_of_holds(
    attempt: int, day: dt.date
) -> None:
    north, south = (
        make_location(
            f"{side}{attempt}",
            chairs=2,
            nurses=1,
            shifts_from=day,
            self_booking=True,
            self_booking_notice_hours=1,
        )
        for side in ("north", "south")
    )
    plan = approved_plan(f"twice{attempt}@example.org", north, infusions=4)
    request = planner.Request(planner.PlanShape.from_plan(plan), day)

    at_north, at_south = _both_at_once(
        lambda: self_booking.hold_proposal(plan.patient, north, request),
        lambda: self_booking.hold_proposal(plan.patient, south, request),
    )

    assert not isinstance(at_north, Exception) and not isinstance(at_south, Exception)
    live = Hold.objects.live().filter(patient=plan.patient)
    assert live.count() == 4
    assert len({hold.location_id for hold in live}) == 1
    assert Hold.objects.filter(patient=plan.patient, released_at__isnull=False).count() == 4


def test_a_patient_who_loses_the_race_for_a_slot_keeps_none_of_their_holds(day: dt.date) -> None:
    clinic = make_location(
        "lost", chairs=1, nurses=1, shifts_from=day, self_booking=True, self_booking_notice_hours=1
    )
    online = approved_plan("lost@example.org", clinic, infusions=1)
    rival = approved_plan("rival@example.org", clinic, infusions=1)
    request = planner.Request(planner.PlanShape.from_plan(online), day)
    _, holds = self_booking.hold_proposal(online.patient, clinic, request)
    assert holds and holds[0].starts_at.astimezone(clinic.zone).time() != dt.time(14)
    # The patient picks an alternative (shown, not held); the desk books it a moment earlier.
    choice = [services.Choice(day, dt.time(14))]
    services.book_series(rival, clinic, choice, booked_by=UserFactory.create(role=Role.FRONT_DESK))

    with pytest.raises(services.BookingConflict):
        self_booking.book_own_series(online.patient, clinic, choice)

    assert not Hold.objects.live().filter(patient=online.patient).exists()
    assert Hold.objects.filter(patient=online.patient, released_at__isnull=False).count() == 1
    assert not Series.objects.filter(patient=online.patient).exists()
    assert Session.objects.filter(location=clinic).get().patient == rival.patient


@pytest.mark.parametrize("attempt", range(3))
def test_a_patient_racing_the_desk_for_a_slot_keeps_no_holds_whoever_wins(
    attempt: int, day: dt.date
) -> None:
    clinic = make_location(
        f"holdrace{attempt}",
        chairs=1,
        nurses=1,
        shifts_from=day,
        self_booking=True,
        self_booking_notice_hours=1,
    )
    online = approved_plan(f"holder{attempt}@example.org", clinic, infusions=1)
    phoned = approved_plan(f"caller{attempt}@example.org", clinic, infusions=1)
    request = planner.Request(planner.PlanShape.from_plan(online), day)
    self_booking.hold_proposal(online.patient, clinic, request)
    desk = UserFactory.create(role=Role.FRONT_DESK)
    choice = [services.Choice(day, dt.time(14))]  # not the held time: an alternative

    patient_result, desk_result = _both_at_once(
        lambda: self_booking.book_own_series(online.patient, clinic, choice),
        lambda: services.book_series(phoned, clinic, choice, booked_by=desk),
    )

    outcomes = sorted(type(r).__name__ for r in (patient_result, desk_result))
    assert outcomes == ["BookingConflict", "Series"], (patient_result, desk_result)
    assert not Hold.objects.live().filter(patient=online.patient).exists()
    assert Session.objects.filter(location=clinic).count() == 1
