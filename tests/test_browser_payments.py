"""A patient adds a card in Stripe's own field (localstripe's Stripe.js stand-in, loaded from
the peer as production loads js.stripe.com), cancels late, and sees the fee paid and the
balance (docs/payments.md#card-on-file)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing import emails, services
from billing.models import Charge, ChargeState, Purpose
from notifications.models import Message
from scheduling import services as scheduling
from scheduling.models import Session
from tests import payments_data as pay
from tests.conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_saves_a_card_in_stripes_field_and_sees_the_late_fee_paid(page, live_server):
    location = pay.priced_location()
    series = pay.booked_series(location, email="card.browser@example.org")
    patient = series.patient

    browser_sign_in(page, "card.browser@example.org")
    page.goto("/billing/card/")
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    field = page.locator("#card-element")
    field.get_by_placeholder("number").fill(pay.GOOD)
    field.get_by_placeholder("exp_month").fill("12")
    field.get_by_placeholder("exp_year").fill("31")
    field.get_by_placeholder("cvc").fill("123")
    field.get_by_placeholder("postal_code").fill("06902")
    page.get_by_role("button", name="Save the card").click()
    expect(page.get_by_text("is saved for this clinic's charges")).to_be_visible()
    card = services.current_card(patient)
    assert card is not None and card.last4 == "4242"

    # The patient cancels three hours before the session; the fee is charged after the grace.
    session = series.sessions.get(number=1)
    soon = timezone.now() + dt.timedelta(hours=3)
    Session.objects.filter(pk=session.pk).update(
        starts_at=soon,
        setup_ends_at=soon + dt.timedelta(minutes=15),
        ends_at=soon + dt.timedelta(hours=2),
    )
    session.refresh_from_db()
    scheduling.cancel_sessions(session, reason="patient")
    page.goto("/billing/card/")
    expect(page.get_by_text("Due after the grace period")).to_be_visible()
    services.charge_due_fees(timezone.now() + dt.timedelta(hours=49))
    fee = Charge.objects.get(purpose=Purpose.LATE_CANCEL)
    assert services.collect(fee.pk) == "succeeded"
    page.goto("/billing/card/")
    expect(page.get_by_test_id("balance")).to_have_text("$0.00")
    expect(page.get_by_role("cell", name="Late cancellation fee")).to_be_visible()
    expect(page.get_by_role("cell", name="Paid", exact=True)).to_be_visible()
    assert Message.objects.filter(kind=emails.RECEIPT).count() == 1
    assert Charge.objects.get(pk=fee.pk).state == ChargeState.SUCCEEDED
