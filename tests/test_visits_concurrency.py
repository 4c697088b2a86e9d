"""A session and a visit of one patient booked at once from two connections, at two locations
(two different location locks): only PostgreSQL's appointment-time rule stands between them
(docs/visits.md#the-rules-in-postgresql)."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

import pytest
import time_machine
from django.db import connection, connections, transaction

from accounts.models import Role
from locations.models import ClinicianShift
from scheduling import services, visits
from scheduling.models import AppointmentTime, Session, Visit, VisitKind
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = dt.date(2027, 3, 1)


def _at_once(*works) -> list[object]:
    barrier = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = works[index]()
        except Exception as error:  # collected and asserted below
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def appointment_rule():
    """The visits' trigger as migrated, or disabled when the environment says
    VISITS_APPOINTMENT_RULE=off: the test below must then go red (the proof that it watches
    the rule, not the locks)."""
    off = os.environ.get("VISITS_APPOINTMENT_RULE", "on") == "off"
    if off:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE scheduling_visit DISABLE TRIGGER scheduling_visit_appointment_time"
            )
    yield
    if off:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE scheduling_visit ENABLE TRIGGER scheduling_visit_appointment_time"
            )


def test_a_session_and_a_visit_booked_at_once_at_two_locations_give_one_appointment(
    appointment_rule,
):
    with time_machine.travel(dt.datetime(2027, 2, 22, 15, tzinfo=dt.UTC)):
        stamford = make_location("stamford", shifts_from=MONDAY, shift_days=7)
        greenwich = make_location("greenwich", nurses=0, shifts_from=MONDAY, shift_days=7)
        plan = approved_plan("pat@example.org", stamford, infusions=1)
        clinician = UserFactory.create(role=Role.CLINICIAN)
        start = dt.datetime.combine(MONDAY, dt.time(10), tzinfo=stamford.zone)
        ClinicianShift.objects.create(
            location=greenwich,
            clinician=clinician,
            starts_at=start - dt.timedelta(hours=1),
            ends_at=start + dt.timedelta(hours=3),
        )
        desk = UserFactory.create(role=Role.FRONT_DESK)

        def session() -> object:
            time.sleep(0.1)  # after the visit is written, before it commits
            return services.book_series(
                plan, stamford, [services.Choice(MONDAY, dt.time(10))], booked_by=desk
            )

        def visit() -> object:
            # The visit's transaction stays open a moment after its row is written, so the
            # session's reads cannot see it: only the constraint can refuse the second.
            with transaction.atomic():
                booked = visits.book_visit(
                    visits.VisitRequest(
                        patient=plan.patient,
                        clinician=clinician,
                        location=greenwich,
                        kind=VisitKind.FOLLOW_UP,
                        starts_at=start + dt.timedelta(minutes=30),
                        minutes=30,
                    ),
                    booked_by=desk,
                )
                time.sleep(0.5)
            return booked

        for _ in range(3):
            results = _at_once(session, visit)
            booked = (
                Session.objects.filter(status="booked").count()
                + Visit.objects.filter(status="booked").count()
            )
            assert booked == 1, results
            refusals = [r for r in results if isinstance(r, Exception)]
            assert len(refusals) == 1 and isinstance(refusals[0], services.SchedulingError)
            assert AppointmentTime.objects.filter(patient=plan.patient).count() == 1
            Session.objects.all().update(status="cancelled")
            Visit.objects.all().update(status="cancelled")
            assert not AppointmentTime.objects.exists()
