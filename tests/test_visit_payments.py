"""Visits are charged like sessions, through billing's generic appointment reference
(docs/payments.md#appointments), against the embedded localstripe peer: the accepted policy is
kept at booking, a held visit is charged once under retries, a late cancellation or a no-show
takes the accepted fee after the grace period."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Role
from billing import services
from billing.models import Appointment, Charge, ChargeState, Entry, LedgerEntry, Purpose
from locations.models import ClinicianShift
from scheduling import visits
from scheduling.models import VisitKind, VisitStatus
from tests import payments_data as pay
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    location = pay.priced_location()
    plan = approved_plan("visit@example.org", location, infusions=2)
    clinician = UserFactory.create(role=Role.CLINICIAN)
    clinician.locations.add(location)
    now = timezone.now()
    ClinicianShift.objects.create(
        location=location,
        clinician=clinician,
        starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=10),
    )
    return location, plan.patient, clinician, UserFactory.create(role=Role.FRONT_DESK)


def _book(world, hours: int, kind: str = VisitKind.FOLLOW_UP):
    location, patient, clinician, desk = world
    return visits.book_visit(
        visits.VisitRequest(
            patient=patient,
            clinician=clinician,
            location=location,
            kind=kind,
            starts_at=timezone.now() + dt.timedelta(hours=hours),
            minutes=30,
        ),
        booked_by=desk,
    )


def test_a_held_visit_is_charged_once_under_retries(world) -> None:
    visit = _book(world, 2)
    policy = services.accepted(Appointment.VISIT, visit.public_id)
    assert policy is not None
    assert (policy.service, policy.session_price) == ("follow_up", 15000)
    pay.save_card(visit.patient)

    visits.set_outcome(visit, VisitStatus.HELD)

    charge = Charge.objects.get(purpose=Purpose.APPOINTMENT, appointment_kind=Appointment.VISIT)
    assert (charge.appointment_id, charge.amount) == (visit.public_id, 15000)
    assert charge.state == ChargeState.PENDING
    assert services.collect(charge.pk) == "succeeded"
    assert services.collect(charge.pk) == "not claimed"
    assert [i["status"] for i in pay.intents_for(str(charge.public_id))] == ["succeeded"]
    kinds = list(LedgerEntry.objects.filter(charge=charge).values_list("kind", "amount"))
    assert kinds == [(Entry.CHARGE, 15000), (Entry.PAYMENT, -15000)]


def test_a_visit_late_cancelled_takes_the_accepted_fee_after_the_grace_period(world) -> None:
    visit = _book(world, 3)
    visits.cancel_visit(visit, reason="patient called")
    fee = Charge.objects.get(purpose=Purpose.LATE_CANCEL, appointment_kind=Appointment.VISIT)
    assert fee.state == ChargeState.SCHEDULED and fee.amount == 10000
    assert services.charge_due_fees(timezone.now()) == 0
    assert services.charge_due_fees(timezone.now() + dt.timedelta(hours=49)) == 1
    fee.refresh_from_db()
    assert fee.state == ChargeState.OPEN  # no card on file: an invoice by link


def test_a_missed_visit_takes_the_accepted_no_show_fee_after_the_grace_period(world) -> None:
    missed = _book(world, 5)
    missed = visits.set_outcome(missed, VisitStatus.NO_SHOW)
    fee = Charge.objects.get(purpose=Purpose.NO_SHOW, appointment_kind=Appointment.VISIT)
    assert (fee.appointment_id, fee.amount, fee.state) == (
        missed.public_id,
        15000,
        ChargeState.SCHEDULED,
    )
    assert fee.due_at == missed.status_changed_at + dt.timedelta(hours=48)
    assert not Charge.objects.filter(purpose=Purpose.APPOINTMENT).exists()
