"""The paperwork reads billing's one price list and one ledger (docs/paperwork.md): a
superbill's payments and totals are the ledger's rows, paid through the real billing flow
against the embedded localstripe peer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from billing import bookings, services
from billing.models import Appointment, Charge, Entry, LedgerEntry, Purpose, Service
from paperwork import estimates, superbills
from paperwork.models import ClinicIdentity, Estimate, ProviderIdentity
from scheduling.links import patient_language
from scheduling.models import Series, Session
from tests import payments_data as pay
from tests.factories import UserFactory
from tests.paperwork_data import CLINIC_NPI, CLINIC_TIN, chart, npi
from worklist.models import Cause, Task

pytestmark = pytest.mark.django_db


def _held_and_charted(series: Series, number: int, hours_ago: int) -> Session:
    """A session moved into the past (today), completed, charged and its chart signed."""
    session = series.sessions.get(number=number)
    start = timezone.now() - dt.timedelta(hours=hours_ago)
    Session.objects.filter(pk=session.pk).update(
        starts_at=start,
        setup_ends_at=start + dt.timedelta(minutes=15),
        ends_at=start + dt.timedelta(minutes=100),
    )
    session.refresh_from_db()
    chart(session, signed=True)
    session.refresh_from_db()
    bookings.on_session_completed(session)
    return session


def test_a_superbill_shows_the_payments_and_totals_of_the_ledger() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    first = _held_and_charted(series, 1, hours_ago=3)
    _held_and_charted(series, 2, hours_ago=1)
    for charge in Charge.objects.filter(purpose=Purpose.APPOINTMENT):
        assert services.collect(charge.pk) == "succeeded"

    today = timezone.now().astimezone(location.zone).date()
    bill = superbills.build(
        series.patient, superbills.parse_period(series.patient, f"year:{today.year}")
    )

    ledger = LedgerEntry.objects.filter(patient=series.patient)
    charged = ledger.filter(kind=Entry.CHARGE).aggregate(total=Sum("amount"))["total"]
    paid = ledger.filter(kind=Entry.PAYMENT).order_by("recorded_at", "id")
    assert charged == 2 * 47000
    assert bill.total.amount == charged
    assert [(p.on, p.amount.amount) for p in bill.payments] == [
        (entry.recorded_at.astimezone(location.zone).date(), -entry.amount) for entry in paid
    ]
    assert bill.paid.amount == -sum(entry.amount for entry in paid)
    assert bill.balance == services.balance(series.patient)
    assert bill.balance.amount == 0

    one = superbills.build(
        series.patient, superbills.parse_period(series.patient, f"session:{first.public_id}")
    )
    assert one.total.amount == 47000
    assert [p.amount.amount for p in one.payments] == [47000]


def _identities(clinician) -> None:
    ClinicIdentity.objects.update_or_create(
        pk=1,
        defaults={
            "legal_name": "Clearwater Infusion Clinics LLC",
            "npi": CLINIC_NPI,
            "tin": CLINIC_TIN,
            "address": "1 Example Street, Stamford, CT 06901",
            "phone": "203 555 0100",
        },
    )
    ProviderIdentity.objects.get_or_create(
        user=clinician, defaults={"npi": npi("198765432"), "credentials": "MD"}
    )


def test_a_bill_400_dollars_above_the_estimate_is_flagged_for_the_desk(login) -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    _identities(series.plan.approved_by)
    estimates.on_series_changed(series)
    estimate = Estimate.objects.current().get(series=series)
    assert estimate.total_amount == 2 * 47000
    # The second session was rebooked after a price rise and keeps its own accepted policy.
    services.set_service_lines(
        location,
        Service.INFUSION,
        [services.Line("96365", "IV infusion", 1, 87000)],
        currency="USD",
        by=None,
    )
    second = series.sessions.get(number=2)
    services.accept_policy(
        Appointment.SESSION,
        second.public_id,
        patient=series.patient,
        location=location,
        service=Service.INFUSION,
        language=patient_language(series.patient),
    )

    _held_and_charted(series, 1, hours_ago=3)
    assert not Task.objects.filter(cause=Cause.OVER_ESTIMATE).exists()
    _held_and_charted(series, 2, hours_ago=1)  # 47000 + 87000 = the estimate + $400

    task = Task.objects.open().get(cause=Cause.OVER_ESTIMATE)
    assert task.location_pk == location.pk
    assert "$1,340.00" in task.subject or "$1340.00" in task.subject
    desk = UserFactory.create(role=Role.FRONT_DESK)
    page = login(desk).get(reverse("scheduling:patient", args=[series.patient.public_id]))
    assert 'data-testid="over-estimate"' in page.content.decode()
