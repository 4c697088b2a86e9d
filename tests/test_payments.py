"""Payments against the embedded localstripe peer, through Stripe's own SDK (no mocks):
docs/payments.md."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from billing import bookings, demo, emails, gateway, services
from billing.models import (
    AcceptedPolicy,
    Appointment,
    Charge,
    ChargeState,
    Credit,
    Customer,
    Entry,
    LedgerEntry,
    Package,
    Purpose,
    StripeEvent,
)
from billing.money import Money
from billing.prices import service_total
from notifications.models import Message
from scheduling import services as scheduling
from scheduling.models import Session, Status
from tests import payments_data as pay
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan

pytestmark = pytest.mark.django_db


def _late_cancel(series) -> Session:
    """The first session, cancelled inside its late window (its start moved close)."""
    session = series.sessions.get(number=1)
    soon = timezone.now() + dt.timedelta(hours=3)
    Session.objects.filter(pk=session.pk).update(
        starts_at=soon,
        setup_ends_at=soon + dt.timedelta(minutes=15),
        ends_at=soon + dt.timedelta(hours=2),
    )
    session.refresh_from_db()
    scheduling.cancel_sessions(session, reason="patient called")
    session.refresh_from_db()
    assert session.status == Status.LATE_CANCELLED
    return session


def _completed(series, number: int = 1) -> Session:
    session = series.sessions.get(number=number)
    Session.objects.filter(pk=session.pk).update(status=Status.COMPLETED)
    session.refresh_from_db()
    bookings.on_session_completed(session)
    return session


def test_the_ledger_refuses_update_and_delete_even_in_raw_sql() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    _completed(series)
    entry = LedgerEntry.objects.first()
    assert entry is not None
    for statement in (
        "UPDATE billing_ledgerentry SET amount = 1 WHERE id = %s",
        "DELETE FROM billing_ledgerentry WHERE id = %s",
        "UPDATE billing_acceptedpolicy SET session_price = 1 WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(
                statement,
                [entry.pk if "ledger" in statement else AcceptedPolicy.objects.get().pk],
            )
    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount


def test_a_booking_keeps_the_policy_it_accepted_when_prices_change() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    accepted = AcceptedPolicy.objects.get(
        appointment_kind=Appointment.SERIES, appointment_id=series.public_id
    )
    assert accepted.session_price == 47000
    assert accepted.late_cancel_fee == 10000
    assert "$100.00" in accepted.wording
    services.set_service_lines(
        location,
        "infusion",
        [services.Line("96365", "IV infusion, first hour", 1, 99900)],
        currency="USD",
        by=None,
    )
    services.set_fee_policy(location, by=None, **{**demo.FEES, "late_cancel_fee": 50000})
    accepted.refresh_from_db()
    assert (accepted.session_price, accepted.late_cancel_fee) == (47000, 10000)
    later = pay.booked_series(location, email="later@example.org")
    assert services.accepted(Appointment.SERIES, later.public_id).session_price == 99900


def test_the_policy_is_kept_in_the_patients_language() -> None:
    from accounts.models import PatientProfile

    location = pay.priced_location()
    plan = approved_plan("es@example.org", location, infusions=2, min_days_between=2)
    PatientProfile.objects.filter(user=plan.patient).update(preferred_language="es")
    first = dt.date.today() + dt.timedelta(days=10)
    while first.weekday() > 2:
        first += dt.timedelta(days=1)
    series = scheduling.book_series(
        plan,
        location,
        [
            scheduling.Choice(first, dt.time(10)),
            scheduling.Choice(first + dt.timedelta(days=2), dt.time(10)),
        ],
        booked_by=plan.patient,
    )
    policy = services.accepted(Appointment.SERIES, series.public_id)
    assert policy is not None and policy.language == "es"
    assert "Cancelar con menos de 24 horas" in policy.wording


def test_a_card_saved_through_stripes_form_is_charged_off_session_once() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    card = pay.save_card(series.patient)
    assert (card.brand, card.last4) == ("visa", "4242")
    session = _completed(series)
    charge = Charge.objects.get(purpose=Purpose.APPOINTMENT)
    assert charge.state == ChargeState.PENDING and charge.amount == 47000
    assert services.collect(charge.pk) == "succeeded"
    assert services.collect(charge.pk) == "not claimed"
    charge.refresh_from_db()
    assert charge.state == ChargeState.SUCCEEDED
    assert [i["status"] for i in pay.intents_for(str(charge.public_id))] == ["succeeded"]
    kinds = list(LedgerEntry.objects.filter(charge=charge).values_list("kind", "amount"))
    assert kinds == [(Entry.CHARGE, 47000), (Entry.PAYMENT, -47000)]
    assert services.balance(series.patient).amount == 0
    assert Message.objects.filter(kind=emails.RECEIPT).count() == 1
    # Completing it again (a replayed hook) charges nothing more.
    bookings.on_session_completed(session)
    assert Charge.objects.count() == 1


def test_a_card_declined_at_setup_is_not_saved_and_says_why() -> None:
    location = pay.priced_location()
    patient = pay.booked_series(location).patient
    secret = services.start_card_setup(patient, "declined-setup")
    answer = pay.confirm_setup_like_stripe_js(secret, pay.DECLINED_AT_SETUP)
    assert answer["error"]["message"] == "Your card was declined."
    with pytest.raises(services.BillingError, match="not saved"):
        services.record_card(patient, secret.split("_secret_")[0])
    assert services.current_card(patient) is None


def test_a_declined_charge_is_failed_with_a_message_and_a_link_to_pay() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient, pay.DECLINED_WHEN_CHARGED)
    _completed(series)
    charge = Charge.objects.get()
    assert services.collect(charge.pk) == "declined"
    charge.refresh_from_db()
    assert charge.state == ChargeState.FAILED
    assert "declined" in charge.failure
    assert not LedgerEntry.objects.filter(kind=Entry.PAYMENT).exists()
    assert services.balance(series.patient).amount == 47000
    assert Message.objects.filter(kind=emails.PAY_LINK).count() == 1


def test_a_card_that_needs_the_bank_check_waits_for_the_patient() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    secret = services.start_card_setup(series.patient, "3ds")
    confirmed = pay.confirm_setup_like_stripe_js(secret, pay.NEEDS_AUTHENTICATION)
    assert confirmed["status"] == "requires_action"
    # localstripe's Stripe.js would show the bank's check; the test passes it as the patient.
    pay._post(
        f"/v1/setup_intents/{confirmed['id']}/confirm",
        {"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": secret},
    )
    services.record_card(series.patient, confirmed["id"])
    _completed(series)
    charge = Charge.objects.get()
    assert services.collect(charge.pk) == ChargeState.REQUIRES_ACTION
    charge.refresh_from_db()
    assert charge.state == ChargeState.REQUIRES_ACTION and charge.stripe_payment_intent
    assert not LedgerEntry.objects.filter(kind=Entry.PAYMENT).exists()
    assert Message.objects.filter(kind=emails.PAY_LINK).count() == 1


def test_a_late_cancellation_fee_is_due_after_the_grace_period_then_charged() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    session = _late_cancel(series)
    charge = Charge.objects.get(purpose=Purpose.LATE_CANCEL)
    assert charge.state == ChargeState.SCHEDULED and charge.amount == 10000
    assert charge.appointment_id == session.public_id
    assert services.charge_due_fees() == 0
    assert not LedgerEntry.objects.exists()
    assert services.charge_due_fees(timezone.now() + dt.timedelta(hours=49)) == 1
    charge.refresh_from_db()
    assert charge.state == ChargeState.PENDING
    assert services.collect(charge.pk) == "succeeded"
    assert services.balance(series.patient).amount == 0


@pytest.mark.django_db(transaction=True)
def test_a_late_cancellation_is_charged_once_under_concurrent_retries() -> None:
    """Two workers (threads with their own connections) take the same fee at once, twice."""
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    _late_cancel(series)
    services.charge_due_fees(timezone.now() + dt.timedelta(hours=49))
    charge = Charge.objects.get(purpose=Purpose.LATE_CANCEL)
    barrier = threading.Barrier(4)
    results: list[str] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(services.collect(charge.pk))
            again = services.charge_due_fees(timezone.now() + dt.timedelta(hours=49))
            results.append("again" if again else "none")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("succeeded") == 1
    assert len(pay.intents_for(str(charge.public_id))) == 1
    assert LedgerEntry.objects.filter(charge=charge, kind=Entry.PAYMENT).count() == 1
    assert LedgerEntry.objects.filter(charge=charge, kind=Entry.CHARGE).count() == 1


def test_a_fee_waived_by_the_desk_is_never_charged_and_is_audited(login) -> None:
    from audit.models import AuditEvent
    from tests.factories import UserFactory

    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    _late_cancel(series)
    charge = Charge.objects.get(purpose=Purpose.LATE_CANCEL)
    desk = UserFactory.create(role="front_desk")
    client = login(desk)
    url = reverse("billing:waive", args=[charge.public_id])
    assert client.post(url, {"reason": ""}).status_code == 302
    charge.refresh_from_db()
    assert charge.state == ChargeState.SCHEDULED
    response = client.post(url, {"reason": "Car broke down"}, follow=True)
    assert "waived" in response.content.decode()
    charge.refresh_from_db()
    assert charge.state == ChargeState.WAIVED
    assert services.charge_due_fees(timezone.now() + dt.timedelta(hours=49)) == 0
    assert services.balance(series.patient).amount == 0
    assert LedgerEntry.objects.get(kind=Entry.WAIVER).reason == "Car broke down"
    assert AuditEvent.objects.filter(record_type="charge", action="decide").exists()
    assert pay.intents_for(str(charge.public_id)) == []


def test_a_package_is_used_up_by_completed_sessions_and_the_rest_refunded() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    package = Package.objects.get(location=location)
    bought = services.buy_package(series.patient, package)
    assert services.collect(bought.pk) == "succeeded"
    services.activate_paid_credits()
    _completed(series, 1)
    _completed(series, 2)
    credit = Credit.objects.get()
    assert credit.used == 2
    assert not Charge.objects.filter(
        purpose=Purpose.APPOINTMENT, state=ChargeState.PENDING
    ).exists()
    assert services.balance(series.patient).amount == 0
    refund = services.refund_unused(credit, by=None)
    assert refund is not None and refund.amount == 4 * 40000
    assert services.balance(series.patient).amount == 0
    with pytest.raises(services.BillingError, match="already refunded"):
        services.refund_unused(credit, by=None)
    refunds = pay.peer_get("/v1/refunds?limit=100")["data"]
    assert [r["amount"] for r in refunds] == [160000]


def test_a_refund_larger_than_the_payment_is_refused_before_stripe() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    _completed(series)
    charge = Charge.objects.get()
    services.collect(charge.pk)
    with pytest.raises(services.BillingError, match=r"At most \$470.00"):
        services.refund(charge, 47001, by=None, reason="too much")
    services.refund(charge, 20000, by=None, reason="part")
    with pytest.raises(services.BillingError, match=r"At most \$270.00"):
        services.refund(charge, 30000, by=None, reason="too much")
    assert LedgerEntry.objects.filter(kind=Entry.REFUND).count() == 1


def test_a_dropped_webhook_changes_nothing_after_the_reconciliation() -> None:
    """The worker died after Stripe charged the card: the charge is left submitting, no payment
    recorded; the hourly reconciliation reads Stripe and records it once."""
    location = pay.priced_location()
    series = pay.booked_series(location)
    card = pay.save_card(series.patient)
    _completed(series)
    charge = Charge.objects.get()
    Charge.objects.filter(pk=charge.pk).update(state=ChargeState.SUBMITTING)
    gateway.charge_off_session(
        amount=charge.amount,
        currency=charge.currency,
        customer=Customer.objects.get().stripe_id,
        payment_method_id=card.stripe_payment_method,
        charge=str(charge.public_id),
        key=charge.idempotency_key(),
    )
    assert not LedgerEntry.objects.filter(kind=Entry.PAYMENT).exists()
    services.reconcile()
    services.reconcile()
    charge.refresh_from_db()
    assert charge.state == ChargeState.SUCCEEDED
    assert LedgerEntry.objects.filter(kind=Entry.PAYMENT).count() == 1
    # A stuck claim re-submitted with the same key gets Stripe's first answer: still one payment.
    Charge.objects.filter(pk=charge.pk).update(
        state=ChargeState.SUBMITTING, updated_at=timezone.now() - dt.timedelta(hours=1)
    )
    services.reconcile()
    assert len(pay.intents_for(str(charge.public_id))) == 1
    assert LedgerEntry.objects.filter(kind=Entry.PAYMENT).count() == 1


def test_webhooks_are_verified_idempotent_and_taken_in_any_order() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient, pay.DECLINED_WHEN_CHARGED)
    _completed(series)
    charge = Charge.objects.get()
    services.collect(charge.pk)  # declined: a payment_failed event
    charge.refresh_from_db()
    # The patient pays by link with a good card; the events arrive late, twice, out of order.
    intent = gateway.charge_off_session(
        amount=charge.amount,
        currency=charge.currency,
        customer=Customer.objects.get().stripe_id,
        payment_method_id=pay.save_card(series.patient).stripe_payment_method,
        charge=str(charge.public_id),
        key="test-second-attempt",
    )
    events = pay.peer_get("/v1/events?limit=100")["data"]
    ours = [
        e
        for e in events
        if e["type"].startswith("payment_intent.")
        and e["data"]["object"]["metadata"].get("charge") == str(charge.public_id)
    ]
    assert {e["type"] for e in ours} >= {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
    }
    client = Client()
    url = reverse("billing:webhook")
    forged = client.post(
        url,
        data=json.dumps(ours[0]),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )
    assert forged.status_code == 400
    for event in sorted(ours, key=lambda e: e["type"]) * 2:  # succeeded before failed, twice
        body, signature = pay.signed_event_request(event)
        answer = client.post(
            url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        assert answer.status_code == 200
    charge.refresh_from_db()
    assert charge.state == ChargeState.SUCCEEDED
    assert LedgerEntry.objects.filter(kind=Entry.PAYMENT).count() == 1
    assert LedgerEntry.objects.get(kind=Entry.PAYMENT).stripe_id == intent.id
    assert StripeEvent.objects.count() == len(ours)


def test_stripe_unreachable_records_nothing_and_says_so() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    _completed(series)
    charge = Charge.objects.get()
    with (
        override_settings(STRIPE_API_BASE="http://127.0.0.1:9", STRIPE_TIMEOUT=1),
        pytest.raises(gateway.Unreachable, match="could not be reached"),
    ):
        services.collect(charge.pk)
    charge.refresh_from_db()
    assert charge.state == ChargeState.PENDING
    assert not LedgerEntry.objects.filter(kind=Entry.PAYMENT).exists()
    assert services.collect(charge.pk) == "succeeded"


def test_an_invoice_is_paid_by_link_without_signing_in_and_an_expired_link_says_so() -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    _completed(series)  # no card on file: an invoice and a link
    charge = Charge.objects.get()
    assert charge.state == ChargeState.OPEN
    assert Message.objects.filter(kind=emails.PAY_LINK).count() == 1
    client = Client()
    expired = emails.pay_token(charge, timezone.now() - dt.timedelta(seconds=1))
    answer = client.get(reverse("billing:pay", args=[expired]))
    assert answer.status_code == 404
    assert "no longer valid" in answer.content.decode()
    token = emails.pay_token(charge)
    page = client.get(reverse("billing:pay", args=[token]))
    assert page.status_code == 200
    assert "$470.00" in page.content.decode()
    assert (
        "js.stripe.com/v3/" in page["Content-Security-Policy"]
        or settings.STRIPE_API_BASE in page["Content-Security-Policy"]
    )
    charge.refresh_from_db()
    assert client.get(reverse("billing:pay", args=[token])).status_code == 200
    assert len(pay.intents_for(str(charge.public_id))) == 1
    # Stripe.js confirms the payment with the card typed into Stripe's field.
    intent = pay.intents_for(str(charge.public_id))[0]
    pay._post(
        f"/v1/payment_intents/{intent['id']}/confirm",
        {"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": intent["client_secret"]},
    )
    done = client.post(reverse("billing:pay", args=[token]), {"payment_intent": intent["id"]})
    assert done.status_code == 200
    charge.refresh_from_db()
    assert charge.state in (ChargeState.SUCCEEDED, ChargeState.OPEN)


def test_nothing_about_health_or_identity_reaches_stripe() -> None:
    """Every request the peer received in this test process: no name, email, diagnosis, drug
    or note (docs/payments.md#what-goes-to-stripe)."""
    location = pay.priced_location()
    series = pay.booked_series(location, email="wanda.phi@example.org")
    patient = series.patient
    patient.first_name, patient.last_name = "Wanda", "Zyxwvut"
    patient.save()
    start = pay.peer_log().stat().st_size if pay.peer_log().exists() else 0
    pay.save_card(patient)
    _completed(series)
    charge = Charge.objects.get()
    services.collect(charge.pk)
    _late_cancel_second = series.sessions.get(number=2)
    services.refund(charge, 100, by=None, reason="Ketamine dose note: depression")
    with open(pay.peer_log(), encoding="utf-8") as log:
        log.seek(start)
        seen = log.read()
    assert "/v1/payment_intents" in seen and "/v1/refunds" in seen
    lowered = seen.lower()
    for word in (
        "wanda",
        "zyxwvut",
        "wanda.phi",
        "ketamine",
        "depression",
        "infusion",
        "96365",
        "j3490",
        "dose",
        "note",
        str(patient.pk) + "&",
    ):
        assert word not in lowered, word
    assert "clinic+visit" in lowered or "clinic%20visit" in lowered
    assert _late_cancel_second is not None


def test_an_online_series_waits_for_its_deposit_which_counts_towards_the_first_session() -> None:
    location = pay.priced_location(require_payment_online=True)
    plan = approved_plan("online@example.org", location, infusions=2, min_days_between=2)
    assert bookings.payment_first(location.pk, plan.patient)
    pay.save_card(plan.patient)
    first = dt.date.today() + dt.timedelta(days=10)
    while first.weekday() > 2:
        first += dt.timedelta(days=1)
    series = scheduling.book_series(
        plan,
        location,
        [
            scheduling.Choice(first, dt.time(10)),
            scheduling.Choice(first + dt.timedelta(days=2), dt.time(10)),
        ],
        booked_by=plan.patient,
        awaiting_desk=True,
    )
    deposit = Charge.objects.get(purpose=Purpose.DEPOSIT)
    assert deposit.amount == 10000 and deposit.state == ChargeState.PENDING
    desk = UserFactory.create(role="front_desk")
    with pytest.raises(scheduling.InvalidTransition, match=r"deposit of \$100.00 is not paid"):
        scheduling.confirm_self_booked(series, by=desk)
    assert services.collect(deposit.pk) == "succeeded"
    series.refresh_from_db()
    assert not series.is_awaiting_desk  # confirmed by its payment, not by the desk
    _completed(series, 1)
    _completed(series, 2)
    amounts = sorted(
        Charge.objects.filter(purpose=Purpose.APPOINTMENT).values_list("amount", flat=True)
    )
    assert amounts == [37000, 47000]
    assert services.balance(plan.patient).amount == 37000 + 47000


def test_an_admin_edits_the_prices_as_new_rows_and_bad_input_is_refused(login) -> None:
    from billing.models import FeePolicy, PriceLine

    location = pay.priced_location()
    admin = UserFactory.create(role="clinic_admin")
    client = login(admin)
    url = reverse("billing:prices", args=[location.slug])
    page = client.get(url)
    assert page.status_code == 200 and "96365" in page.content.decode()
    lines_before = PriceLine.objects.count()
    refused = client.post(
        url, {"action": "lines", "service": "follow_up", "lines": "99214 | Follow-up | x | 1"}
    )
    assert refused.status_code == 200
    assert "units are a whole number" in refused.content.decode()
    assert PriceLine.objects.count() == lines_before
    client.post(
        url, {"action": "lines", "service": "follow_up", "lines": "99214 | Follow-up | 1 | 175.50"}
    )
    assert service_total(location.pk, "follow_up") == Money(17550)
    assert PriceLine.objects.count() == lines_before + 1  # the old line ended, not edited
    fees = {
        "action": "fees",
        "deposit_infusion": "50",
        "deposit_visit": "0",
        "late_cancel_fee": "75.00",
        "late_cancel_window_hours": "48",
        "no_show_fee": "-1",
        "grace_hours": "24",
    }
    assert client.post(url, fees).status_code == 200  # a negative fee is refused
    client.post(url, {**fees, "no_show_fee": "90"})
    assert FeePolicy.objects.filter(location=location).count() == 2
    current = services.current_fee_policy(location.pk)
    assert (current.late_cancel_fee, current.no_show_fee, current.deposit_infusion) == (
        7500,
        9000,
        5000,
    )
    client.post(
        url,
        {
            "action": "package",
            "name": "Three boosters",
            "service": "booster",
            "sessions": "3",
            "expiry_days": "90",
            "price": "1200",
        },
    )
    assert Package.objects.get(name="Three boosters").amount == 120000


def test_the_desk_sees_the_balance_and_the_days_takings_with_a_csv(login) -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    _completed(series)
    services.collect(Charge.objects.get().pk)
    desk = login(UserFactory.create(role="front_desk"))
    page = desk.get(reverse("scheduling:patient", args=[series.patient.public_id]))
    text = page.content.decode()
    assert 'data-testid="balance">$0.00' in text and "•••• 4242" in text
    nurse = UserFactory.create(role="nurse")
    nurse.locations.add(location)
    assert (
        "billing-panel"
        not in login(nurse)
        .get(reverse("scheduling:patient", args=[series.patient.public_id]))
        .content.decode()
    )
    takings = desk.get(reverse("billing:takings", args=[location.slug]))
    assert "$470.00" in takings.content.decode() and "-$470.00" in takings.content.decode()
    csv_text = desk.get(reverse("billing:takings_csv", args=[location.slug])).content.decode()
    rows = csv_text.strip().splitlines()
    assert rows[0].startswith("recorded_at,kind,amount")
    assert {row.split(",")[1] for row in rows[1:]} == {"charge", "payment"}
    assert (
        desk.get(reverse("billing:takings", args=[location.slug]) + "?day=nonsense").status_code
        == 200
    )


def test_the_desk_emails_a_signed_link_that_adds_a_card_without_signing_in(login) -> None:
    from notifications.registry import resolver_for

    location = pay.priced_location()
    patient = pay.booked_series(location).patient
    desk = login(UserFactory.create(role="front_desk"))
    url = reverse("billing:send_card_link", args=[patient.public_id])
    assert desk.post(url).status_code == 302
    message = Message.objects.get(kind=emails.CARD_LINK)
    resolved = resolver_for(message.kind)(message)  # type: ignore[misc]  # registered
    assert resolved.recipient == patient.email
    link = next(word for word in resolved.body_text.split() if "/billing/card/" in word)
    page = Client().get(link.removeprefix(settings.SITE_URL))
    assert page.status_code == 200
    assert settings.STRIPE_JS_URL.split("/js.stripe.com")[0] in page["Content-Security-Policy"]
    secret = page.content.decode().split('data-client-secret="')[1].split('"')[0]
    confirmed = pay.confirm_setup_like_stripe_js(secret, pay.GOOD)
    saved = Client().post(link.removeprefix(settings.SITE_URL), {"setup_intent": confirmed["id"]})
    assert saved.status_code == 200 and "4242" in saved.content.decode()
    assert services.current_card(patient) is not None
    forged = Client().get(reverse("billing:card_link", args=["forged-token"]))
    assert forged.status_code == 404


def test_the_receipt_is_written_in_the_patients_language_and_names_no_treatment() -> None:
    from accounts.models import PatientProfile
    from notifications.registry import resolver_for

    location = pay.priced_location()
    series = pay.booked_series(location)
    PatientProfile.objects.filter(user=series.patient).update(preferred_language="es")
    pay.save_card(series.patient)
    _completed(series)
    services.collect(Charge.objects.get().pk)
    message = Message.objects.get(kind=emails.RECEIPT)
    receipt = resolver_for(message.kind)(message)  # type: ignore[misc]  # registered
    assert "Recibimos su pago de $470.00" in receipt.body_text
    # (The clinic's own name may say "Infusion Clinics"; the receipt adds nothing about care.)
    for word in ("ketamine", "ketamina", "96365", "j3490", "session", "sesión"):
        assert word not in receipt.body_text.lower()


def test_a_card_gone_at_stripe_fails_the_charge_with_a_message_not_a_stuck_claim() -> None:
    from billing.models import Card

    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    Card.objects.update(stripe_payment_method="pm_gone")
    _completed(series)
    charge = Charge.objects.get()
    assert services.collect(charge.pk) == "declined"
    charge.refresh_from_db()
    assert charge.state == ChargeState.FAILED
    assert "could not be charged" in charge.failure
    assert Message.objects.filter(kind=emails.PAY_LINK).count() == 1


def test_the_desk_sells_a_package_charged_to_the_card_on_file(login) -> None:
    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient)
    package = Package.objects.get(location=location)
    desk = login(UserFactory.create(role="front_desk"))
    url = reverse("billing:sell_package", args=[series.patient.public_id])
    assert desk.post(url, {"package": "not-a-uuid"}).status_code == 302
    assert not Credit.objects.exists()
    answer = desk.post(url, {"package": str(package.public_id)}, follow=True)
    assert "the card on file is being charged" in answer.content.decode()
    charge = Charge.objects.get(purpose=Purpose.PACKAGE)
    assert services.collect(charge.pk) == "succeeded"
    assert Credit.objects.get().paid
    assert services.has_credit(series.patient.pk, location.pk, "booster")


def test_the_card_page_says_so_when_stripe_is_unreachable_or_not_set_up(login) -> None:
    location = pay.priced_location()
    patient = pay.booked_series(location).patient
    client = login(patient)
    with override_settings(STRIPE_API_BASE="http://127.0.0.1:9", STRIPE_TIMEOUT=1):
        down = client.get(reverse("billing:card"))
    assert down.status_code == 503
    assert "could not be reached" in down.content.decode()
    with override_settings(STRIPE_SECRET_KEY=""):
        off = client.get(reverse("billing:card"))
    assert off.status_code == 503
    assert "not set up" in off.content.decode()
    assert services.current_card(patient) is None


def test_the_words_shown_before_booking_are_the_words_the_booking_keeps() -> None:
    location = pay.priced_location()
    plan = approved_plan("shown@example.org", location, infusions=2, min_days_between=2)
    shown = bookings.booking_terms(location.pk, plan.patient)
    assert "$470.00" in shown and "$100.00" in shown
    first = dt.date.today() + dt.timedelta(days=10)
    while first.weekday() > 2:
        first += dt.timedelta(days=1)
    series = scheduling.book_series(
        plan,
        location,
        [
            scheduling.Choice(first, dt.time(10)),
            scheduling.Choice(first + dt.timedelta(days=2), dt.time(10)),
        ],
        booked_by=UserFactory.create(role="front_desk"),
    )
    kept = services.accepted(Appointment.SERIES, series.public_id)
    assert kept is not None and kept.wording == shown


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_its_signed_webhooks_to_the_app(live_server) -> None:
    """The peer's own delivery (signed with the webhook secret, a second after the event)
    reaches the view over HTTP and records the payment once, with the worker's record."""
    from clinic.embedded import register_stripe_webhook

    register_stripe_webhook(
        settings.STRIPE_API_BASE, live_server.url + reverse("billing:webhook"), name="test"
    )
    try:
        location = pay.priced_location()
        series = pay.booked_series(location)
        card = pay.save_card(series.patient)
        _completed(series)
        charge = Charge.objects.get()
        Charge.objects.filter(pk=charge.pk).update(state=ChargeState.SUBMITTING)
        # Stripe charged, and the worker died before recording it: only the webhook tells.
        gateway.charge_off_session(
            amount=charge.amount,
            currency=charge.currency,
            customer=Customer.objects.get().stripe_id,
            payment_method_id=card.stripe_payment_method,
            charge=str(charge.public_id),
            key=charge.idempotency_key(),
        )
        deadline = timezone.now() + dt.timedelta(seconds=20)
        while timezone.now() < deadline:
            charge.refresh_from_db()
            if charge.state == ChargeState.SUCCEEDED:
                break
            threading.Event().wait(0.3)
        assert charge.state == ChargeState.SUCCEEDED
        assert LedgerEntry.objects.filter(kind=Entry.PAYMENT).count() == 1
        assert StripeEvent.objects.filter(type="payment_intent.succeeded").exists()
    finally:
        register_stripe_webhook(settings.STRIPE_API_BASE, "http://127.0.0.1:9/", name="test")


def _online_series(location, email: str, *, card: str | None = pay.GOOD):
    plan = approved_plan(email, location, infusions=2, min_days_between=2)
    if card:
        pay.save_card(plan.patient, card)
    first = dt.date.today() + dt.timedelta(days=10)
    while first.weekday() > 2:
        first += dt.timedelta(days=1)
    return scheduling.book_series(
        plan,
        location,
        [
            scheduling.Choice(first, dt.time(10)),
            scheduling.Choice(first + dt.timedelta(days=2), dt.time(10)),
        ],
        booked_by=plan.patient,
        awaiting_desk=True,
    )


def test_an_online_series_confirms_itself_when_its_deposit_is_paid() -> None:
    from scheduling.models import ReminderKind, Series

    location = pay.priced_location(require_payment_online=True)
    series = _online_series(location, "self.confirm@example.org")
    deposit = Charge.objects.get(purpose=Purpose.DEPOSIT)
    assert services.collect(deposit.pk) == "succeeded"
    series.refresh_from_db()
    assert not series.is_awaiting_desk and series.status == Series.SeriesStatus.ACTIVE
    assert Message.objects.filter(
        group=f"series:{series.pk}", kind=ReminderKind.CONFIRMATION
    ).exists()
    # A replayed payment (webhook, reconciliation) confirms nothing twice.
    intent = gateway.retrieve_payment_intent(
        str(Charge.objects.get(pk=deposit.pk).stripe_payment_intent)
    )
    services.apply_payment_intent(intent)
    confirmations = Message.objects.filter(
        group=f"series:{series.pk}", kind=ReminderKind.CONFIRMATION, channel="email"
    )
    assert confirmations.count() == 1


def test_a_deposit_paid_after_the_series_was_declined_is_refunded_in_full() -> None:
    location = pay.priced_location(require_payment_online=True)
    series = _online_series(location, "late.deposit@example.org")
    desk = UserFactory.create(role="front_desk")
    scheduling.decline_self_booked(series, by=desk, reason="No chair that week")
    deposit = Charge.objects.get(purpose=Purpose.DEPOSIT)
    assert services.collect(deposit.pk) == "succeeded"
    assert services.refundable(deposit) == 0
    kinds = sorted(deposit.entries.values_list("kind", flat=True))
    assert kinds == sorted([Entry.CHARGE, Entry.PAYMENT, Entry.REFUND, Entry.REVERSAL])
    assert services.balance(series.patient).amount == 0
    # Seen again by the reconciliation: nothing more is refunded.
    intent = gateway.retrieve_payment_intent(
        str(Charge.objects.get(pk=deposit.pk).stripe_payment_intent)
    )
    services.apply_payment_intent(intent)
    assert deposit.entries.filter(kind=Entry.REFUND).count() == 1


def _cancel_hours_before(series, hours: float) -> Session:
    session = series.sessions.get(number=1)
    start = timezone.now() + dt.timedelta(hours=hours)
    Session.objects.filter(pk=session.pk).update(
        starts_at=start,
        setup_ends_at=start + dt.timedelta(minutes=15),
        ends_at=start + dt.timedelta(hours=2),
    )
    session.refresh_from_db()
    scheduling.cancel_sessions(session, reason="patient called")
    session.refresh_from_db()
    return session


@pytest.mark.parametrize(
    ("window", "hours", "owed"), [(48, 30, True), (48, 50, False), (72, 60, True), (72, 80, False)]
)
def test_an_accepted_window_over_24_hours_widens_what_counts_as_late(window, hours, owed) -> None:
    location = pay.priced_location(late_cancel_window_hours=window)
    series = pay.booked_series(location)
    assert (
        services.accepted(Appointment.SERIES, series.public_id).late_cancel_window_hours == window
    )
    # Later bookings accept a 24-hour window: the booking's own window still decides.
    services.set_fee_policy(location, by=None, **{**demo.FEES, "late_cancel_window_hours": 24})
    _cancel_hours_before(series, hours)
    fees = Charge.objects.filter(purpose=Purpose.LATE_CANCEL)
    assert fees.exists() is owed
    if owed:
        assert fees.get().amount == 10000 and fees.get().state == ChargeState.SCHEDULED


def test_a_window_under_24_hours_narrows_what_counts_as_late() -> None:
    location = pay.priced_location(late_cancel_window_hours=12)
    series = pay.booked_series(location)
    session = _cancel_hours_before(series, 20)
    assert session.status == Status.LATE_CANCELLED  # scheduling's own 24-hour rule
    assert not Charge.objects.filter(purpose=Purpose.LATE_CANCEL).exists()


def test_a_failed_charge_opens_a_desk_task_closed_when_it_is_later_paid() -> None:
    from worklist.models import Cause, Queue, Task

    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient, pay.DECLINED_WHEN_CHARGED)
    _completed(series)
    charge = Charge.objects.get()
    assert services.collect(charge.pk) == "declined"
    task = Task.objects.open().get(cause=Cause.PAYMENT_FAILED)
    assert task.queue == Queue.DESK and task.location_pk == location.pk
    assert task.link == reverse("scheduling:patient", args=[series.patient.public_id])
    assert "$470.00" in task.detail and "declined" in task.detail
    # A second failure of the same charge keeps the one task.
    services.retry_card(charge)
    assert services.collect(charge.pk) == "declined"
    assert Task.objects.filter(cause=Cause.PAYMENT_FAILED).count() == 1
    # The patient adds a good card; the desk asks again and it is paid: the task is done.
    pay.save_card(series.patient)
    services.retry_card(charge)
    assert services.collect(charge.pk) == "succeeded"
    assert not Task.objects.open().filter(cause=Cause.PAYMENT_FAILED).exists()


def test_a_failed_charge_task_is_closed_when_the_desk_waives_it() -> None:
    from worklist.models import Cause, Task

    location = pay.priced_location()
    series = pay.booked_series(location)
    pay.save_card(series.patient, pay.DECLINED_WHEN_CHARGED)
    _completed(series)
    charge = Charge.objects.get()
    assert services.collect(charge.pk) == "declined"
    assert Task.objects.open().filter(cause=Cause.PAYMENT_FAILED).exists()
    desk = UserFactory.create(role="front_desk")
    services.waive(charge, by=desk, reason="Hardship")
    task = Task.objects.get(cause=Cause.PAYMENT_FAILED)
    assert task.status == "done" and task.closed_by == desk


def test_the_reconciliation_pages_through_more_than_100_payment_intents() -> None:
    """localstripe lists its intents oldest first and has no date filter: a payment the worker
    never recorded, behind more than a page of others, is still found."""
    import uuid

    for number in range(105):
        gateway.payment_intent_for_link(
            amount=100,
            currency="usd",
            charge=str(uuid.uuid4()),
            key=f"other:{number}:{uuid.uuid4()}",
        )
    location = pay.priced_location()
    series = pay.booked_series(location)
    card = pay.save_card(series.patient)
    _completed(series)
    charge = Charge.objects.get()
    Charge.objects.filter(pk=charge.pk).update(state=ChargeState.SUBMITTING)
    gateway.charge_off_session(
        amount=charge.amount,
        currency=charge.currency,
        customer=Customer.objects.get().stripe_id,
        payment_method_id=card.stripe_payment_method,
        charge=str(charge.public_id),
        key=charge.idempotency_key(),
    )
    services.reconcile()
    charge.refresh_from_db()
    assert charge.state == ChargeState.SUCCEEDED
    assert LedgerEntry.objects.filter(kind=Entry.PAYMENT).count() == 1
