"""The rules of docs/product-rules.md#resources and #spacing, against real PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from locations.models import Closure
from review.services import NotBookable
from scheduling import planner, services
from scheduling.models import Series, Session, Status
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

# A Monday well ahead of "now" in these tests.
MONDAY = dt.date(2027, 2, 1)
NOW = dt.datetime(2027, 1, 20, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def stamford():
    return make_location(shifts_from=MONDAY - dt.timedelta(days=7))


@pytest.fixture
def desk():
    return UserFactory.create(role=Role.FRONT_DESK)


def request_for(plan, first=MONDAY, weekdays=(0, 2, 4), windows=((9, 0, 12, 0),)):
    return planner.Request(
        shape=planner.PlanShape.from_plan(plan),
        first_date=first,
        weekdays=frozenset(weekdays),
        windows=tuple(planner.Window(dt.time(a, b), dt.time(c, d)) for a, b, c, d in windows),
    )


def choices_of(proposal):
    return [services.Choice(s.slot.date, s.slot.local_time) for s in proposal.sessions]


def book(plan, location, desk, proposal):
    return services.book_series(plan, location, choices_of(proposal), booked_by=desk)


def test_the_planner_proposes_every_session_at_one_time_on_preferred_days(stamford):
    plan = approved_plan("p1@example.org", stamford)

    proposal = planner.propose(stamford, plan.patient_id, request_for(plan))

    assert proposal.complete and len(proposal.sessions) == 8
    assert {s.slot.local_time for s in proposal.sessions} == {dt.time(9, 0)}
    assert all(s.slot.date.weekday() in (0, 2, 4) for s in proposal.sessions)
    dates = [s.slot.date for s in proposal.sessions]
    services.check_spacing(dates, planner.PlanShape.from_plan(plan))
    assert dates[0] == MONDAY
    assert all(s.alternatives for s in proposal.sessions)


def test_the_planner_is_deterministic(stamford):
    plan = approved_plan("p1@example.org", stamford)

    first = planner.propose(stamford, plan.patient_id, request_for(plan))
    second = planner.propose(stamford, plan.patient_id, request_for(plan))

    assert [s.slot for s in first.sessions] == [s.slot for s in second.sessions]


def test_booking_writes_one_row_per_session_in_utc(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    proposal = planner.propose(stamford, plan.patient_id, request_for(plan))

    series = book(plan, stamford, desk, proposal)

    sessions = list(series.sessions.order_by("number"))
    assert [s.number for s in sessions] == list(range(1, 9))
    first = sessions[0]
    assert first.starts_at == dt.datetime(2027, 2, 1, 14, 0, tzinfo=dt.UTC)  # 09:00 EST
    assert first.setup_ends_at - first.starts_at == dt.timedelta(minutes=15)
    assert first.ends_at - first.starts_at == dt.timedelta(minutes=100)
    assert first.status == Status.BOOKED


def test_the_database_refuses_two_active_sessions_in_one_chair(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    other = approved_plan("p2@example.org", stamford)
    series = book(
        plan, stamford, desk, planner.propose(stamford, plan.patient_id, request_for(plan))
    )
    taken = series.sessions.first()
    other_series = Series.objects.create(
        plan=other, patient=other.patient, location=stamford, booked_by=desk
    )
    nurse = UserFactory.create(role=Role.NURSE)

    with pytest.raises(IntegrityError, match="session_chair_no_overlap"), transaction.atomic():
        Session.objects.create(
            series=other_series,
            number=1,
            patient=other.patient,
            location=stamford,
            chair=taken.chair,
            nurse=nurse,
            starts_at=taken.starts_at + dt.timedelta(minutes=30),
            setup_ends_at=taken.starts_at + dt.timedelta(minutes=45),
            ends_at=taken.ends_at + dt.timedelta(minutes=30),
        )

    # A cancelled session frees its chair.
    services.cancel_sessions(taken)
    Session.objects.create(
        series=other_series,
        number=1,
        patient=other.patient,
        location=stamford,
        chair=taken.chair,
        nurse=nurse,
        starts_at=taken.starts_at,
        setup_ends_at=taken.setup_ends_at,
        ends_at=taken.ends_at,
    )


def test_the_database_refuses_a_patient_in_two_sessions_at_once(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    series = book(
        plan, stamford, desk, planner.propose(stamford, plan.patient_id, request_for(plan))
    )
    taken = series.sessions.first()
    other_chair = stamford.chairs.exclude(pk=taken.chair_id).first()

    with pytest.raises(IntegrityError, match="session_patient_no_overlap"), transaction.atomic():
        Session.objects.create(
            series=series,
            number=9,
            patient=plan.patient,
            location=stamford,
            chair=other_chair,
            nurse=UserFactory.create(role=Role.NURSE),
            starts_at=taken.starts_at + dt.timedelta(minutes=50),
            setup_ends_at=taken.starts_at + dt.timedelta(minutes=65),
            ends_at=taken.ends_at + dt.timedelta(minutes=50),
        )


def test_a_nurse_sets_up_one_patient_at_a_time_and_monitors_at_most_k(desk):
    # One nurse, three chairs, k = 2: two overlapping sessions with staggered set-ups fit,
    # a third overlapping both does not, and two set-ups at once never do.
    clinic = make_location(
        "k2", chairs=3, nurses=1, capacity=2, shifts_from=MONDAY - dt.timedelta(days=7)
    )
    plans = [approved_plan(f"k{n}@example.org", clinic, infusions=1) for n in range(4)]

    def one(plan, time):
        return services.book_series(plan, clinic, [services.Choice(MONDAY, time)], booked_by=desk)

    one(plans[0], dt.time(9, 0))
    with pytest.raises(services.BookingConflict):
        one(plans[1], dt.time(9, 0))  # set-up 09:00-09:15 is taken
    one(plans[1], dt.time(9, 15))  # set-up after the first; now monitoring two
    with pytest.raises(services.BookingConflict):
        one(plans[2], dt.time(9, 30))  # would be a third patient at 09:30-10:40
    one(plans[2], dt.time(10, 45))  # the first has left at 10:40
    assert Session.objects.filter(location=clinic).count() == 3


def test_sessions_stay_inside_opening_hours_and_outside_closures(stamford):
    plan = approved_plan("p1@example.org", stamford)
    shape = planner.PlanShape.from_plan(plan)
    Closure.objects.create(location=stamford, starts_on=MONDAY, ends_on=MONDAY, reason="Training")
    first, last = MONDAY, MONDAY + dt.timedelta(days=30)
    resources = planner.load_resources(stamford, plan.patient_id, first, last)

    assert resources.slot(MONDAY, 9 * 60, shape) is None  # closed for training
    tuesday = MONDAY + dt.timedelta(days=1)
    assert resources.slot(tuesday, 7 * 60 + 45, shape) is None  # before opening
    assert resources.slot(tuesday, 16 * 60 + 30, shape) is None  # recovery would end at 18:10
    assert resources.slot(tuesday, 16 * 60 + 15, shape) is not None  # ends at 17:55
    saturday = MONDAY + dt.timedelta(days=5)
    assert resources.slot(saturday, 10 * 60, shape) is None

    proposal = planner.propose(stamford, plan.patient_id, request_for(plan))
    assert MONDAY not in [s.slot.date for s in proposal.sessions]


def test_a_first_session_past_the_near_horizon_is_planned_over_the_whole_horizon(stamford):
    # Closed for two weeks from the first date: the search for the first session reaches past
    # the near horizon, so `propose` loads the sessions again over the whole horizon (10
    # queries instead of 5); its proposal is the one planned over the whole horizon at once.
    plan = approved_plan("p1@example.org", stamford)
    closed_until = MONDAY + dt.timedelta(days=13)
    Closure.objects.create(
        location=stamford, starts_on=MONDAY, ends_on=closed_until, reason="Works"
    )
    request = request_for(plan)
    first, last = planner.horizon(request)

    with CaptureQueriesContext(connection) as queries:
        proposal = planner.propose(stamford, plan.patient_id, request)

    whole = planner.plan(planner.load_resources(stamford, plan.patient_id, first, last), request)
    assert proposal.complete
    assert proposal.sessions[0].slot.date > closed_until
    assert [s.slot for s in proposal.sessions] == [s.slot for s in whole.sessions]
    assert len(queries) == 10
    # After the closure the series starts at once: the near horizon is enough.
    later = request_for(plan, first=closed_until + dt.timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        assert planner.propose(stamford, plan.patient_id, later).complete
    assert len(queries) == 5


@pytest.mark.parametrize(
    ("gaps", "message"),
    [
        ([2, 1], "is 1 day after"),
        ([2, 8], "is 8 days after"),
        ([7, 7, 7, 7, 7], "spans 35 days"),
    ],
)
def test_spacing_rules_refuse_gaps_and_spans_outside_the_plan(stamford, gaps, message):
    plan = approved_plan("p1@example.org", stamford, infusions=len(gaps) + 1)
    dates = [MONDAY]
    for gap in gaps:
        dates.append(dates[-1] + dt.timedelta(days=gap))

    with pytest.raises(services.SpacingError, match=message):
        services.check_spacing(dates, planner.PlanShape.from_plan(plan))


def test_booking_is_all_or_nothing_and_names_the_session_taken_meanwhile(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    request = request_for(plan)
    proposal = planner.propose(stamford, plan.patient_id, request)
    third = proposal.sessions[2].slot
    # Meanwhile other patients take every chair at the third session's time.
    for n in range(3):
        rival = approved_plan(f"rival{n}@example.org", stamford, infusions=1)
        try:
            services.book_series(
                rival, stamford, [services.Choice(third.date, third.local_time)], booked_by=desk
            )
        except services.BookingConflict:
            break  # nurses ran out before chairs did: the slot is gone either way

    with pytest.raises(services.BookingConflict) as conflict:
        services.book_series(plan, stamford, choices_of(proposal), booked_by=desk, request=request)

    assert conflict.value.failed == [3]
    assert not Series.objects.filter(patient=plan.patient).exists()
    fresh = conflict.value.proposal
    assert fresh.complete
    assert fresh.sessions[2].slot != third


def test_an_open_urgent_flag_refuses_booking(stamford, desk):
    from review import services as review
    from review.models import ProtocolTemplate
    from tests.intake_data import submitted_intake

    patient = UserFactory.create(role=Role.PATIENT)
    intake = submitted_intake(patient, changes={"mood": {"phq9_9": "1"}})
    template = ProtocolTemplate.objects.get(is_default=True)
    plan = review.approve(
        intake,
        UserFactory.create(role=Role.CLINICIAN),
        {f: getattr(template, f) for f in review.PLAN_FIELDS},
    )
    proposal = planner.propose(stamford, patient.pk, request_for(plan))

    with pytest.raises(NotBookable, match="urgent safety flag"):
        book(plan, stamford, desk, proposal)
    assert not Session.objects.exists()


def test_a_cancellation_within_24_hours_is_late(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    series = book(
        plan, stamford, desk, planner.propose(stamford, plan.patient_id, request_for(plan))
    )
    first, second = series.sessions.order_by("number")[:2]

    with time_machine.travel(first.starts_at - dt.timedelta(hours=23), tick=False):
        services.cancel_sessions(first)
    with time_machine.travel(second.starts_at - dt.timedelta(hours=25), tick=False):
        services.cancel_sessions(second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.LATE_CANCELLED, Status.CANCELLED)


def test_cancelling_the_rest_of_a_series(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    series = book(
        plan, stamford, desk, planner.propose(stamford, plan.patient_id, request_for(plan))
    )
    third = series.sessions.get(number=3)

    services.cancel_sessions(third, and_following=True, reason="Moving away")

    statuses = dict(series.sessions.values_list("number", "status"))
    assert [statuses[n] for n in range(1, 9)] == ["booked"] * 2 + ["cancelled"] * 6
    series.refresh_from_db()
    assert series.status == Series.SeriesStatus.CANCELLED


def test_check_in_and_no_show_follow_the_session_states(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    series = book(
        plan, stamford, desk, planner.propose(stamford, plan.patient_id, request_for(plan))
    )
    first, second = series.sessions.order_by("number")[:2]

    with pytest.raises(services.InvalidTransition):
        services.mark_no_show(first)  # it has not started yet
    with pytest.raises(services.InvalidTransition):
        services.check_in(first)  # not its day yet
    with time_machine.travel(first.starts_at - dt.timedelta(minutes=10), tick=False):
        services.check_in(first)
        with pytest.raises(services.InvalidTransition):
            services.check_in(first)
    with time_machine.travel(second.starts_at + dt.timedelta(minutes=20), tick=False):
        services.mark_no_show(second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.CHECKED_IN, Status.NO_SHOW)


def test_moving_one_session_keeps_the_spacing(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    series = book(
        plan, stamford, desk, planner.propose(stamford, plan.patient_id, request_for(plan))
    )
    last = series.sessions.get(number=8)
    day = last.local_start().date()

    services.move_sessions(last, services.Choice(day + dt.timedelta(days=1), dt.time(14, 0)))
    last.refresh_from_db()
    assert last.local_start().replace(tzinfo=None) == dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(14, 0)
    )

    second = series.sessions.get(number=2)
    with pytest.raises(services.SpacingError, match="Session 2 is 1 day after"):
        services.move_sessions(
            second, services.Choice(second.local_start().date() - dt.timedelta(days=1), dt.time(9))
        )


def test_moving_this_and_the_following_sessions_shifts_them_together(stamford, desk):
    plan = approved_plan("p1@example.org", stamford)
    series = book(
        plan, stamford, desk, planner.propose(stamford, plan.patient_id, request_for(plan))
    )
    before = {s.number: s.local_start() for s in series.sessions.all()}
    fifth = series.sessions.get(number=5)

    moved = services.move_sessions(
        fifth,
        services.Choice(before[5].date(), dt.time(11, 0)),
        and_following=True,
    )

    assert sorted(s.number for s in moved) == [5, 6, 7, 8]
    after = {s.number: s.local_start() for s in series.sessions.all()}
    for number in range(1, 5):
        assert after[number] == before[number]
    for number in range(5, 9):
        assert after[number].date() == before[number].date()
        assert after[number].time() == dt.time(11, 0)


def test_nothing_is_proposed_or_booked_in_the_past(stamford, desk):
    plan = approved_plan("p1@example.org", stamford, infusions=1)
    shape = planner.PlanShape.from_plan(plan)
    with time_machine.travel(dt.datetime(2027, 2, 1, 16, tzinfo=dt.UTC), tick=False):  # 11:00 EST
        resources = planner.load_resources(stamford, plan.patient_id, MONDAY, MONDAY)
        assert resources.slot(MONDAY, 10 * 60, shape) is None
        assert resources.slot(MONDAY, 11 * 60 + 15, shape) is not None
        with pytest.raises(services.BookingConflict):
            services.book_series(
                plan, stamford, [services.Choice(MONDAY, dt.time(10))], booked_by=desk
            )


def test_one_nurse_cannot_be_on_shift_at_two_locations_at_once():
    from locations.models import NurseShift

    stamford = make_location("stamford", shifts_from=dt.date(2027, 2, 1), shift_days=1)
    irvine = make_location("irvine", "America/Los_Angeles", nurses=0)
    shift = NurseShift.objects.filter(location=stamford).first()

    with pytest.raises(IntegrityError, match="nurse_shift_no_overlap"), transaction.atomic():
        NurseShift.objects.create(
            location=irvine,
            nurse=shift.nurse,
            starts_at=shift.starts_at + dt.timedelta(hours=1),
            ends_at=shift.ends_at + dt.timedelta(hours=1),
        )
    assert NurseShift.objects.filter(nurse=shift.nurse).count() == 1


def test_a_nurses_set_up_at_another_location_counts_when_booking_here():
    """A nurse's session at another site (booked under a shift later moved) still occupies
    her: the planner sees sessions of this location's nurses wherever they are. Her set-ups
    are also refused by the database; her monitoring load (k = 1 here) only by the planner."""
    from locations.models import NurseShift

    day = dt.date(2027, 2, 1)
    here = make_location("stamford", chairs=2, nurses=1, shifts_from=day, shift_days=1)
    there = make_location("irvine", "America/Los_Angeles", chairs=2, nurses=0)
    nurse = NurseShift.objects.get(location=here).nurse
    shift = NurseShift.objects.get(location=here)
    # Her morning is at the other site: a session is booked there under a shift there.
    NurseShift.objects.filter(pk=shift.pk).update(location=there)
    nurse.locations.add(there)
    elsewhere = services.book_series(
        approved_plan("there@example.org", there, infusions=1),
        there,
        [services.Choice(day, dt.time(9))],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    ).sessions.get()
    assert elsewhere.nurse == nurse
    # Then the shift moves back here (the admin edits it); that session stays.
    NurseShift.objects.filter(pk=shift.pk).update(location=here)

    # 12:30 in Stamford is 09:30 in Irvine: her set-up there is over, but she still monitors
    # that patient, and k = 1.
    with pytest.raises(services.BookingConflict) as conflict:
        services.book_series(
            approved_plan("here@example.org", here, infusions=1),
            here,
            [services.Choice(day, dt.time(12, 30))],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        )
    assert conflict.value.failed == [1]
    assert not Session.objects.filter(location=here).exists()


def test_the_database_refuses_a_session_longer_than_a_day_and_overlap_searches_rely_on_it(
    stamford, desk
):
    """`Session.objects.overlapping` bounds the starts it reads by LONGEST_SESSION; the table
    refuses any longer session, so a session overlapping a day is never missed."""
    plan = approved_plan("p1@example.org", stamford)
    series = Series.objects.create(
        plan=plan, patient=plan.patient, location=stamford, booked_by=desk
    )
    nurse = UserFactory.create(role=Role.NURSE)
    chair = stamford.chairs.first()
    evening = dt.datetime(2027, 2, 1, 22, tzinfo=stamford.zone)
    fields = dict(series=series, patient=plan.patient, location=stamford, chair=chair, nurse=nurse)

    with pytest.raises(IntegrityError, match="session_within_longest"), transaction.atomic():
        Session.objects.create(
            number=1,
            starts_at=evening,
            setup_ends_at=evening + dt.timedelta(minutes=15),
            ends_at=evening + dt.timedelta(hours=24, minutes=1),
            **fields,
        )

    # The longest session the table allows is found by a search of the next day's last minute.
    longest = Session.objects.create(
        number=1,
        starts_at=evening,
        setup_ends_at=evening + dt.timedelta(minutes=15),
        ends_at=evening + dt.timedelta(hours=24),
        **fields,
    )
    last_minute = evening + dt.timedelta(hours=23, minutes=59)
    assert list(
        Session.objects.overlapping(last_minute, last_minute + dt.timedelta(minutes=1))
    ) == [longest]
    assert not Session.objects.overlapping(
        evening + dt.timedelta(hours=24), evening + dt.timedelta(hours=25)
    ).exists()
