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
from scheduling.models import ReminderKind, Series, Session
from tests import payments_data as pay
from tests.conftest import browser_sign_in
from tests.scheduling_data import approved_plan
from tests.test_browser_intake import axe_violations

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


def _save_card_in_stripes_field(page, number: str = pay.GOOD) -> None:
    page.goto("/billing/card/")
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    assert axe_violations(page) == []
    field = page.locator("#card-element")
    field.get_by_placeholder("number").fill(number)
    field.get_by_placeholder("exp_month").fill("12")
    field.get_by_placeholder("exp_year").fill("31")
    field.get_by_placeholder("cvc").fill("123")
    field.get_by_placeholder("postal_code").fill("06902")
    page.get_by_role("button", name="Save the card").click()
    expect(page.get_by_text("is saved for this clinic's charges")).to_be_visible()


def test_a_patient_books_online_pays_the_deposit_and_the_series_confirms_itself(page, live_server):
    """The journey of a location that wants a paid deposit before an online series is
    confirmed (docs/payments.md#a-deposit-paid-online-confirms-the-series): the card typed into
    Stripe's field pays the deposit, the series confirms itself, a late cancellation's fee is
    shown, then paid, with its receipts and the balance."""
    location = pay.priced_location(require_payment_online=True)
    location.self_booking = True
    location.phone = "+1 203 555 0142"
    location.save()
    plan = approved_plan("deposit.browser@example.org", location, infusions=2, min_days_between=2)

    browser_sign_in(page, "deposit.browser@example.org")
    _save_card_in_stripes_field(page)
    page.goto("/my-series/book/")
    page.get_by_role("button", name="Show me times").click()
    page.wait_for_selector("#session_1")
    expect(page.get_by_text("Cancelling less than 24 hours before a session costs")).to_be_visible()
    page.get_by_role("button", name="Book my infusions").click()
    page.wait_for_url("**/my-series/")
    series = Series.objects.get(patient=plan.patient)
    assert series.is_awaiting_desk
    deposit = Charge.objects.get(purpose=Purpose.DEPOSIT)
    assert deposit.state == ChargeState.PENDING and deposit.amount == 10000

    # The payments worker takes the deposit from the card: the series confirms itself.
    assert services.collect(deposit.pk) == "succeeded"
    series.refresh_from_db()
    assert not series.is_awaiting_desk  # confirmed by the payment, not by the desk
    assert Message.objects.filter(
        group=f"series:{series.pk}", kind=ReminderKind.CONFIRMATION, channel="email"
    ).exists()
    page.goto("/billing/card/")
    expect(page.get_by_role("cell", name="Deposit")).to_be_visible()
    expect(page.get_by_test_id("balance")).to_have_text("$0.00")

    # Three hours before the first session the patient calls (online, late is refused) and the
    # desk cancels it: the accepted fee is shown, due after the grace period, then charged.
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
    expect(page.get_by_role("cell", name="Late cancellation fee")).to_be_visible()
    expect(page.get_by_text("Due after the grace period")).to_be_visible()
    assert axe_violations(page) == []
    services.charge_due_fees(timezone.now() + dt.timedelta(hours=49))
    fee = Charge.objects.get(purpose=Purpose.LATE_CANCEL)
    assert services.collect(fee.pk) == "succeeded"

    page.goto("/billing/card/")
    expect(page.get_by_test_id("balance")).to_have_text("$0.00")
    expect(page.get_by_role("cell", name="Paid", exact=True)).to_have_count(2)
    assert Charge.objects.get(pk=deposit.pk).state == ChargeState.SUCCEEDED
    assert Message.objects.filter(kind=emails.RECEIPT).count() == 2
    assert services.balance(plan.patient).amount == 0


def _pay_in_stripes_field(page, amount: str) -> None:
    """Pay on the pay-by-link page: Stripe's field, then the bank's check (3-D Secure), which
    localstripe's Stripe.js asks for on every payment confirmed in the browser."""
    expect(page.get_by_role("heading", name=f"Pay {amount}")).to_be_visible()
    assert axe_violations(page) == []
    field = page.locator("#card-element")
    field.get_by_placeholder("number").fill(pay.NEEDS_AUTHENTICATION)
    field.get_by_placeholder("exp_month").fill("12")
    field.get_by_placeholder("exp_year").fill("31")
    field.get_by_placeholder("cvc").fill("123")
    field.get_by_placeholder("postal_code").fill("06902")
    page.get_by_role("button", name=f"Pay {amount}").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", name="Paid, thank you")).to_be_visible()
    assert axe_violations(page) == []


def test_a_charge_the_bank_must_check_is_paid_by_link_with_3d_secure_in_the_browser(
    page, live_server
):
    """A card that needs the bank's check is charged off-session: the charge waits, the link is
    emailed, and the patient completes the check in localstripe's Stripe.js (3-D Secure)
    without signing in (docs/payments.md#pay-by-link)."""
    from django.conf import settings

    location = pay.priced_location()
    series = pay.booked_series(location, email="three.ds@example.org")
    secret = services.start_card_setup(series.patient, "3ds-browser")
    confirmed = pay.confirm_setup_like_stripe_js(secret, pay.NEEDS_AUTHENTICATION)
    pay._post(
        f"/v1/setup_intents/{confirmed['id']}/confirm",
        {"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": secret},
    )
    services.record_card(series.patient, confirmed["id"])
    # A no-show fee whose grace period is over, charged to that card.
    policy = services.accepted("series", series.public_id)
    assert policy is not None
    fee = services.schedule_fee(
        Purpose.NO_SHOW,
        "session",
        series.sessions.get(number=1).public_id,
        patient=series.patient_id,
        location_id=location.pk,
        policy=policy,
        at=timezone.now() - dt.timedelta(hours=49),
    )
    assert fee is not None
    services.charge_due_fees()
    assert services.collect(fee.pk) == ChargeState.REQUIRES_ACTION
    assert Message.objects.filter(kind=emails.PAY_LINK).count() == 1

    page.goto(f"/billing/pay/{emails.pay_token(Charge.objects.get(pk=fee.pk))}/")
    _pay_in_stripes_field(page, "$150.00")
    fee.refresh_from_db()
    assert fee.state == ChargeState.SUCCEEDED
    assert Message.objects.filter(kind=emails.RECEIPT).count() == 1
    assert services.balance(series.patient).amount == 0
