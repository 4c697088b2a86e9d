"""The paperwork reads billing's one price list and one ledger (docs/paperwork.md#payments-from-the-ledger):
a superbill's payments and totals are the ledger's rows, paid through the real billing flow
against the embedded localstripe peer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from billing import bookings, services
from billing.models import Charge, Entry, LedgerEntry, Purpose
from paperwork import superbills
from scheduling.models import Series, Session
from tests import payments_data as pay
from tests.paperwork_data import chart

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
