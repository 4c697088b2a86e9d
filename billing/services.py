"""Money workflows: prices and fees set per location, the policy a booking accepted, charges
and their collection, payments, waivers, refunds, packages (docs/payments.md#how-money-flows).

The rule every function here keeps (healthchecks' sendalerts, pretix's payment providers):
claim a row and commit, then talk to Stripe outside any transaction, then record the answer in
a new transaction that re-checks the row's state. Money is written only as ledger rows, each
once (unique constraints), so a second worker, a replayed webhook or the reconciliation that
sees the same payment writes nothing more.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import User
from audit.services import record as audit
from billing import gateway, hooks
from billing.models import (
    AcceptedPolicy,
    Appointment,
    Card,
    Charge,
    ChargeState,
    Credit,
    Customer,
    Entry,
    FeePolicy,
    LedgerEntry,
    Package,
    PriceLine,
    Purpose,
    Service,
)
from billing.money import Money
from billing.prices import lines_in_force, service_total
from locations.models import Location
from worklist import services as worklist
from worklist.models import Cause

logger = logging.getLogger(__name__)


class BillingError(Exception):
    """A refusal in people's words (a refund too large, a charge already settled)."""


# --- Prices, fees and packages per location ----------------------------------------------------


def current_fee_policy(location_id: int) -> FeePolicy:
    """The location's policy in force, or the defaults (no deposit, no fees, 24 h) unsaved."""
    policy = FeePolicy.objects.filter(location_id=location_id, valid_until__isnull=True).first()
    return policy or FeePolicy(location_id=location_id)


@transaction.atomic
def set_fee_policy(location: Location, *, by: User | None, **fields: Any) -> FeePolicy:
    """End the policy in force and start a new one: bookings made before keep theirs."""
    now = timezone.now()
    Location.objects.select_for_update().filter(pk=location.pk).first()
    FeePolicy.objects.filter(location=location, valid_until__isnull=True).update(valid_until=now)
    return FeePolicy.objects.create(location=location, valid_from=now, created_by=by, **fields)


@dataclass(frozen=True)
class Line:
    code: str
    description: str
    units: int
    amount: int


@transaction.atomic
def set_service_lines(
    location: Location, service: str, lines: list[Line], *, currency: str, by: User | None
) -> list[PriceLine]:
    """Replace a service's lines at a location from now on (new rows; the old ones end)."""
    now = timezone.now()
    Location.objects.select_for_update().filter(pk=location.pk).first()
    lines_in_force(location.pk, service, now).update(valid_until=now)
    return [
        PriceLine.objects.create(
            location=location,
            service=service,
            code=line.code,
            description=line.description,
            units=line.units,
            amount=line.amount,
            currency=currency,
            position=position,
            valid_from=now,
            created_by=by,
        )
        for position, line in enumerate(lines)
    ]


def packages_on_sale(location_id: int) -> QuerySet[Package]:
    now = timezone.now()
    return Package.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now),
        location_id=location_id,
        valid_from__lte=now,
    )


def end_package(package: Package) -> None:
    """Off sale from now; packages already bought keep their terms."""
    Package.objects.filter(pk=package.pk, valid_until__isnull=True).update(
        valid_until=timezone.now()
    )


# --- The policy a booking accepted -------------------------------------------------------------


def policy_wording(policy: AcceptedPolicy | FeePolicy, price: Money | None, language: str) -> str:
    """The terms as the patient reads them, in their language (kept with the booking)."""
    currency = policy.currency
    with override(language):
        parts = []
        if price is not None:
            parts.append(_("Each session costs %(price)s.") % {"price": price})
        if policy.late_cancel_fee:
            parts.append(
                _(
                    "Cancelling less than %(hours)s hours before a session costs %(fee)s, "
                    "charged %(grace)s hours later unless the clinic waives it."
                )
                % {
                    "hours": policy.late_cancel_window_hours,
                    "fee": Money(policy.late_cancel_fee, currency),
                    "grace": policy.grace_hours,
                }
            )
        if policy.no_show_fee:
            parts.append(
                _("Missing a session without cancelling costs %(fee)s.")
                % {"fee": Money(policy.no_show_fee, currency)}
            )
        if not parts:
            parts.append(_("No fee applies to cancelling or missing a session."))
        return " ".join(parts)


def quote(location_id: int, service: str, language: str) -> dict[str, Any]:
    """What a booking would accept now: the lines, the price, the fees and their wording."""
    policy = current_fee_policy(location_id)
    lines = list(lines_in_force(location_id, service))
    currency = lines[0].currency if lines else policy.currency
    price = service_total(location_id, service)
    deposit = policy.deposit_infusion if service in (Service.INFUSION, Service.BOOSTER) else 0
    if service in (Service.EVALUATION, Service.FOLLOW_UP):
        deposit = policy.deposit_visit
    return {
        "lines": [
            {"code": x.code, "description": x.description, "units": x.units, "amount": x.amount}
            for x in lines
        ],
        "currency": currency,
        "price": price,
        "deposit": Money(deposit, currency) if deposit else None,
        "policy": policy,
        "wording": policy_wording(policy, price, language),
    }


def accept_policy(
    kind: str,
    appointment_id: Any,
    *,
    patient: User,
    location: Location,
    service: str,
    language: str,
) -> AcceptedPolicy:
    """Keep what the booking was shown, once per appointment; call in the booking's transaction.

    A second call for the same appointment returns the first snapshot, unchanged."""
    existing = AcceptedPolicy.objects.filter(
        appointment_kind=kind, appointment_id=appointment_id
    ).first()
    if existing is not None:
        return existing
    shown = quote(location.pk, service, language)
    policy: FeePolicy = shown["policy"]
    price: Money | None = shown["price"]
    deposit: Money | None = shown["deposit"]
    return AcceptedPolicy.objects.create(
        appointment_kind=kind,
        appointment_id=appointment_id,
        patient=patient,
        location=location,
        service=service,
        currency=shown["currency"],
        lines=shown["lines"],
        session_price=price.amount if price else 0,
        deposit=deposit.amount if deposit else 0,
        late_cancel_fee=policy.late_cancel_fee,
        late_cancel_window_hours=policy.late_cancel_window_hours,
        no_show_fee=policy.no_show_fee,
        grace_hours=policy.grace_hours,
        language=language,
        wording=shown["wording"],
    )


def accepted(kind: str, appointment_id: Any) -> AcceptedPolicy | None:
    return AcceptedPolicy.objects.filter(
        appointment_kind=kind, appointment_id=appointment_id
    ).first()


# --- Cards on file ------------------------------------------------------------------------------


def customer_of(patient: User) -> str:
    """The patient's Stripe customer id, created once (described by an opaque id only)."""
    existing = Customer.objects.filter(patient=patient).first()
    if existing is not None:
        return existing.stripe_id
    stripe_id = gateway.create_customer(str(patient.public_id))
    try:
        with transaction.atomic():
            return Customer.objects.create(patient=patient, stripe_id=stripe_id).stripe_id
    except IntegrityError:
        # Two requests at once: the idempotency key gave both the same customer.
        return Customer.objects.get(patient=patient).stripe_id


def start_card_setup(patient: User, attempt: str) -> str:
    """The client secret of a SetupIntent that Stripe.js confirms with the card typed into
    Stripe's own form; the card number never reaches this server."""
    _id, secret = gateway.create_setup_intent(customer_of(patient), f"setup:{attempt}")
    return secret


def current_card(patient: User) -> Card | None:
    return Card.objects.filter(patient=patient, removed_at__isnull=True).first()


def record_card(patient: User, setup_intent_id: str) -> Card:
    """Keep the card a confirmed SetupIntent saved: its id, brand and last four only."""
    customer = customer_of(patient)
    intent = gateway.retrieve_setup_intent(setup_intent_id)
    if intent.status != "succeeded" or not intent.payment_method:
        raise BillingError(_("The card was not saved; please try again."))
    if intent.customer and intent.customer != customer:
        raise BillingError(_("The card was not saved; please try again."))
    method_id = (
        intent.payment_method
        if isinstance(intent.payment_method, str)
        else intent.payment_method.id
    )
    method = gateway.payment_method(method_id)
    if not method.customer:
        gateway.attach(method_id, customer)
    card = method.card
    with transaction.atomic():
        Card.objects.filter(patient=patient, removed_at__isnull=True).exclude(
            stripe_payment_method=method_id
        ).update(removed_at=timezone.now())
        saved, _created = Card.objects.get_or_create(
            stripe_payment_method=method_id,
            defaults={
                "patient": patient,
                "brand": str(card.brand or "card"),
                "last4": str(card.last4),
                "exp_month": int(card.exp_month),
                "exp_year": int(card.exp_year),
            },
        )
        audit(None, "create", "card", saved.public_id, patient, "card on file added")
    return saved


# --- The ledger ----------------------------------------------------------------------------------


def _write(
    charge: Charge | None,
    kind: str,
    amount: int,
    *,
    patient: Any,
    location_id: int,
    currency: str,
    stripe_id: str = "",
    reason: str = "",
    by: User | None = None,
    credit: Credit | None = None,
) -> LedgerEntry | None:
    """One ledger row, or None when it was already written (a savepoint keeps the caller's
    transaction usable)."""
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                patient_id=getattr(patient, "pk", patient),
                location_id=location_id,
                kind=kind,
                amount=amount,
                currency=currency,
                charge=charge,
                credit=credit,
                stripe_id=stripe_id,
                reason=reason,
                recorded_by=by,
            )
    except IntegrityError as error:
        if "ledger_once_per_charge" in str(error) or "ledger_stripe_object_once" in str(error):
            return None
        raise
    if kind == Entry.CHARGE and charge is not None:
        # What was billed, to the apps that compare it with the estimate
        # (docs/architecture.md#signal-wiring).
        hooks.charge_recorded(charge)
    return entry


def balance(patient: User) -> Money:
    """What the patient owes (negative: what the clinic holds for them), from the ledger."""
    rows = (
        LedgerEntry.objects.filter(patient=patient)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    first = next(iter(rows), None)
    if first is None:
        return Money.zero()
    return Money(first["total"] or 0, first["currency"])


def statement(patient: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(patient=patient).select_related("charge")


# --- Charges -----------------------------------------------------------------------------------


def _open_charge(
    purpose: str,
    kind: str,
    appointment_id: Any,
    *,
    patient: Any,
    location_id: int,
    amount: Money,
    state: str,
    due_at: dt.datetime | None = None,
) -> tuple[Charge, bool]:
    """The charge for this purpose of this appointment: created once, found afterwards."""
    try:
        with transaction.atomic():
            charge = Charge.objects.create(
                purpose=purpose,
                appointment_kind=kind,
                appointment_id=appointment_id,
                patient_id=getattr(patient, "pk", patient),
                location_id=location_id,
                amount=amount.amount,
                currency=amount.currency,
                state=state,
                due_at=due_at or timezone.now(),
            )
            return charge, True
    except IntegrityError:
        return Charge.objects.get(
            purpose=purpose, appointment_kind=kind, appointment_id=appointment_id
        ), False


def _usable_credit(patient_id: int, location_id: int, service: str) -> Credit | None:
    now = timezone.now()
    return (
        Credit.objects.select_for_update()
        .filter(
            patient_id=patient_id,
            location_id=location_id,
            package__service__in=_same_credit(service),
            paid=True,
            refunded_at__isnull=True,
            expires_at__gt=now,
        )
        .filter(used__lt=F("sessions"))
        .order_by("expires_at", "pk")
        .first()
    )


def _same_credit(service: str) -> list[str]:
    """A booster uses an infusion package's credit (it is billed as an infusion)."""
    if service in (Service.INFUSION, Service.BOOSTER):
        return [Service.INFUSION, Service.BOOSTER]
    return [service]


def has_credit(patient_id: int, location_id: int, service: str) -> bool:
    """An unexpired, paid package with sessions left (no lock: for showing and deciding)."""
    return Credit.objects.filter(
        patient_id=patient_id,
        location_id=location_id,
        package__service__in=_same_credit(service),
        paid=True,
        refunded_at__isnull=True,
        expires_at__gt=timezone.now(),
        used__lt=F("sessions"),
    ).exists()


def deposit_of(kind: str, appointment_id: Any) -> Charge | None:
    return Charge.objects.filter(
        purpose=Purpose.DEPOSIT, appointment_kind=kind, appointment_id=appointment_id
    ).first()


def take_deposit(
    kind: str, appointment_id: Any, *, patient: Any, location_id: int, policy: AcceptedPolicy
) -> Charge | None:
    """The accepted deposit of an online booking, unless a package pays for its sessions; taken
    from the card on file after commit, or by link. Call in the booking's transaction."""
    if policy.deposit <= 0 or has_credit(
        getattr(patient, "pk", patient), location_id, policy.service
    ):
        return None
    amount = Money(policy.deposit, policy.currency)
    charge, created = _open_charge(
        Purpose.DEPOSIT,
        kind,
        appointment_id,
        patient=patient,
        location_id=location_id,
        amount=amount,
        state=ChargeState.OPEN,
    )
    if created:
        _write(
            charge,
            Entry.CHARGE,
            amount.amount,
            patient=patient,
            location_id=location_id,
            currency=amount.currency,
        )
        _collect_or_invoice(charge)
    return charge


@transaction.atomic
def charge_completed(
    kind: str,
    appointment_id: Any,
    *,
    patient: Any,
    location_id: int,
    policy: AcceptedPolicy,
    less: int = 0,
) -> Charge | None:
    """A completed appointment is paid from package credit, else the card on file, else an
    invoice the patient pays by link. Call in the completion's transaction; the card is
    charged after commit by the worker (docs/payments.md#how-money-flows)."""
    if policy.session_price - less <= 0:
        return None
    # `less`: a paid deposit counted towards this appointment (docs/payments.md#how-money-flows).
    price = Money(policy.session_price - less, policy.currency)
    charge, created = _open_charge(
        Purpose.APPOINTMENT,
        kind,
        appointment_id,
        patient=patient,
        location_id=location_id,
        amount=price,
        state=ChargeState.OPEN,
    )
    if not created:
        return charge
    _write(
        charge,
        Entry.CHARGE,
        price.amount,
        patient=patient,
        location_id=location_id,
        currency=price.currency,
    )
    credit = _usable_credit(charge.patient_id, location_id, policy.service)
    if credit is not None:
        Credit.objects.filter(pk=credit.pk).update(used=F("used") + 1)
        _write(
            charge,
            Entry.CREDIT_USE,
            -price.amount,
            patient=patient,
            location_id=location_id,
            currency=price.currency,
            credit=credit,
        )
        Charge.objects.filter(pk=charge.pk).update(state=ChargeState.CREDITED)
        charge.state = ChargeState.CREDITED
        return charge
    _collect_or_invoice(charge)
    return charge


def _collect_or_invoice(charge: Charge) -> None:
    """Queue the card on file, or send the patient a link to pay (the outbox)."""
    from billing import tasks
    from clinic.celery import enqueue_on_commit

    if Card.objects.filter(patient_id=charge.patient_id, removed_at__isnull=True).exists():
        Charge.objects.filter(pk=charge.pk).update(state=ChargeState.PENDING)
        charge.state = ChargeState.PENDING
        enqueue_on_commit(tasks.collect, charge.pk)
    else:
        Charge.objects.filter(pk=charge.pk).update(state=ChargeState.OPEN)
        charge.state = ChargeState.OPEN
        send_pay_link(charge)


def send_pay_link(charge: Charge) -> None:
    from billing import emails

    emails.plan(emails.PAY_LINK, charge)


def schedule_fee(
    purpose: str,
    kind: str,
    appointment_id: Any,
    *,
    patient: Any,
    location_id: int,
    policy: AcceptedPolicy,
    at: dt.datetime,
) -> Charge | None:
    """A late cancellation or a no-show: the accepted fee, due after the grace period (so the
    desk can waive it first). Call in the cancellation's transaction."""
    fee = policy.late_cancel_fee if purpose == Purpose.LATE_CANCEL else policy.no_show_fee
    if fee <= 0:
        return None
    charge, _created = _open_charge(
        purpose,
        kind,
        appointment_id,
        patient=patient,
        location_id=location_id,
        amount=Money(fee, policy.currency),
        state=ChargeState.SCHEDULED,
        due_at=at + dt.timedelta(hours=policy.grace_hours),
    )
    return charge


def charge_due_fees(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Fees whose grace period is over: recorded in the ledger and collected (or invoiced).

    Each is claimed by a conditional update, so two beat runs or two workers take it once."""
    now = now or timezone.now()
    due = list(
        Charge.objects.filter(state=ChargeState.SCHEDULED, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    taken = 0
    for pk in due:
        with transaction.atomic():
            charge = (
                Charge.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state=ChargeState.SCHEDULED)
                .first()
            )
            if charge is None:
                continue
            _write(
                charge,
                Entry.CHARGE,
                charge.amount,
                patient=charge.patient_id,
                location_id=charge.location_id,
                currency=charge.currency,
            )
            _collect_or_invoice(charge)
            taken += 1
    return taken


COLLECTABLE = (ChargeState.PENDING, ChargeState.FAILED)


def collect(charge_id: int) -> str:
    """Charge the card on file for one charge, once.

    Claim (PENDING → SUBMITTING, conditional update, committed), call Stripe with the charge's
    idempotency key outside any transaction, then record what Stripe said. A second worker
    finds nothing to claim; a crash after the call is repaired by the reconciliation, whose
    call with the same key gets Stripe's first answer back (docs/payments.md#idempotency)."""
    claimed = Charge.objects.filter(pk=charge_id, state=ChargeState.PENDING).update(
        state=ChargeState.SUBMITTING, updated_at=timezone.now()
    )
    if not claimed:
        return "not claimed"
    charge = Charge.objects.get(pk=charge_id)
    return _submit(charge)


def _submit(charge: Charge) -> str:
    card = Card.objects.filter(patient_id=charge.patient_id, removed_at__isnull=True).first()
    customer = Customer.objects.filter(patient_id=charge.patient_id).first()
    if card is None or customer is None:
        _settle(charge, ChargeState.OPEN, failure=_("No card on file."))
        send_pay_link(charge)
        return "invoiced"
    try:
        intent = gateway.charge_off_session(
            amount=charge.amount,
            currency=charge.currency,
            customer=customer.stripe_id,
            payment_method_id=card.stripe_payment_method,
            charge=str(charge.public_id),
            key=charge.idempotency_key(),
        )
    except gateway.Declined as declined:
        _settle(
            charge,
            ChargeState.FAILED,
            failure=declined.message,
            payment_intent=declined.payment_intent,
        )
        send_pay_link(charge)
        payment_failed_task(charge, declined.message)
        return "declined"
    except gateway.Unreachable:
        # Back in the queue: the task retries with backoff, the reconciliation after that.
        Charge.objects.filter(pk=charge.pk, state=ChargeState.SUBMITTING).update(
            state=ChargeState.PENDING
        )
        raise
    return apply_payment_intent(intent)


def _settle(
    charge: Charge, state: str, *, failure: str = "", payment_intent: str | None = None
) -> None:
    fields: dict[str, Any] = {
        "state": state,
        "failure": failure[:300],
        "updated_at": timezone.now(),
    }
    if payment_intent:
        fields["stripe_payment_intent"] = payment_intent
    Charge.objects.filter(pk=charge.pk).exclude(
        state__in=(ChargeState.SUCCEEDED, ChargeState.WAIVED, ChargeState.CREDITED)
    ).update(**fields)


def _task_about(charge: Charge) -> str:
    return f"charge:{charge.pk}"


def payment_failed_task(charge: Charge, failure: str) -> None:
    """A card that could not pay opens the desk's task (one per charge), linking to the
    patient page where the desk sends the link again, retries the card or waives it
    (docs/payments.md#failures). Closed when the charge is paid or waived."""
    patient = User.objects.only("public_id", "first_name", "last_name").get(pk=charge.patient_id)
    worklist.open_task(
        Cause.PAYMENT_FAILED,
        _task_about(charge),
        subject=patient.get_full_name() or "A patient",
        detail=f"{charge.get_purpose_display()} of {charge.money()}: {failure}"[:500],
        link=reverse("scheduling:patient", args=[patient.public_id]),
        location_pk=charge.location_id,
    )


def close_payment_task(charge: Charge, by: User | None, note: str) -> None:
    worklist.close_open_task(Cause.PAYMENT_FAILED, _task_about(charge), by, note)


def apply_payment_intent(intent: Any) -> str:
    """Record what a payment intent says (from the worker, a webhook or the reconciliation, in
    any order, any number of times): a succeeded intent writes its payment once."""
    # A StripeObject has no .get(): read the key with `in` and [].
    metadata = intent["metadata"] if "metadata" in intent else None  # noqa: SIM401
    charge_ref = metadata["charge"] if metadata and "charge" in metadata else None
    charge = Charge.objects.filter(
        Q(stripe_payment_intent=intent.id) | Q(public_id=charge_ref)
        if charge_ref
        else Q(stripe_payment_intent=intent.id)
    ).first()
    if charge is None:
        return "unknown"
    status = str(intent.status)
    with transaction.atomic():
        charge = Charge.objects.select_for_update().get(pk=charge.pk)
        if charge.stripe_payment_intent in (None, ""):
            charge.stripe_payment_intent = intent.id
        if status == "succeeded":
            written = _write(
                charge,
                Entry.PAYMENT,
                -int(intent.amount),
                patient=charge.patient_id,
                location_id=charge.location_id,
                currency=charge.currency,
                stripe_id=str(intent.id),
            )
            if charge.state != ChargeState.SUCCEEDED:
                charge.state = ChargeState.SUCCEEDED
                charge.failure = ""
            charge.updated_at = timezone.now()
            charge.save(update_fields=["state", "failure", "stripe_payment_intent", "updated_at"])
            if charge.purpose == Purpose.PACKAGE:
                # The package's sessions are usable from its payment.
                Credit.objects.filter(public_id=charge.appointment_id).update(paid=True)
            if written is not None:
                from billing import emails

                emails.plan(emails.RECEIPT, charge)
                close_payment_task(charge, None, "Paid.")
            paid_now = written is not None
        else:
            if charge.state in (ChargeState.SUCCEEDED, ChargeState.WAIVED):
                return str(charge.state)
            if status == "requires_action" and charge.state != ChargeState.REQUIRES_ACTION:
                # Off-session, the bank wants the patient: they confirm it through the pay link.
                charge.state = ChargeState.REQUIRES_ACTION
                charge.failure = _("The bank asks the patient to confirm this payment.")
                send_pay_link(charge)
            elif status == "requires_payment_method" and charge.state == ChargeState.SUBMITTING:
                charge.state = ChargeState.FAILED
                payment_failed_task(charge, charge.failure)
            charge.updated_at = timezone.now()
            charge.save(update_fields=["state", "failure", "stripe_payment_intent", "updated_at"])
            return str(charge.state)
    if paid_now and charge.purpose == Purpose.DEPOSIT:
        # After the payment's own commit: the confirmation is scheduling's transaction, a
        # refund a call to Stripe (docs/payments.md#a-deposit-paid-online-confirms-the-series).
        from billing import bookings

        bookings.on_deposit_paid(charge)
    return "succeeded"


def refund_in_full(charge: Charge, *, reason: str) -> LedgerEntry | None:
    """Give back all of a payment nobody owes any more (a deposit paid after its series was
    released): the refund, and a reversal that takes the charge off the balance, each once."""
    left = refundable(charge)
    if left <= 0:
        return None
    entry = refund(charge, left, by=None, reason=reason)
    if not charge.entries.filter(kind=Entry.REVERSAL).exists():
        _write(
            charge,
            Entry.REVERSAL,
            -charge.amount,
            patient=charge.patient_id,
            location_id=charge.location_id,
            currency=charge.currency,
            reason=reason,
        )
    return entry


def retry_card(charge: Charge) -> None:
    """The desk asks for another attempt on the card on file (after a new card was added)."""
    from billing import tasks
    from clinic.celery import enqueue_on_commit

    with transaction.atomic():
        changed = Charge.objects.filter(
            pk=charge.pk, state__in=(ChargeState.FAILED, ChargeState.OPEN)
        ).update(state=ChargeState.PENDING, attempts=F("attempts") + 1)
        if not changed:
            raise BillingError(_("This charge is not waiting for a payment."))
        enqueue_on_commit(tasks.collect, charge.pk)


def waive(charge: Charge, *, by: User, reason: str, request: Any = None) -> None:
    """Staff forgive a charge not yet paid, with a reason; audited, and a ledger row."""
    reason = reason.strip()
    if not reason:
        raise BillingError(_("Say why the fee is waived."))
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.state in (ChargeState.SUCCEEDED, ChargeState.CREDITED):
            raise BillingError(_("This charge is already paid; refund it instead."))
        if locked.state == ChargeState.WAIVED:
            raise BillingError(_("This charge was already waived."))
        if locked.state == ChargeState.SUBMITTING:
            raise BillingError(_("The card is being charged right now; try again in a minute."))
        if not locked.entries.filter(kind=Entry.CHARGE).exists():
            _write(
                locked,
                Entry.CHARGE,
                locked.amount,
                patient=locked.patient_id,
                location_id=locked.location_id,
                currency=locked.currency,
            )
        _write(
            locked,
            Entry.WAIVER,
            -locked.amount,
            patient=locked.patient_id,
            location_id=locked.location_id,
            currency=locked.currency,
            reason=reason,
            by=by,
        )
        locked.state = ChargeState.WAIVED
        locked.updated_at = timezone.now()
        locked.save(update_fields=["state", "updated_at"])
        close_payment_task(locked, by, f"Waived: {reason}")
        audit(request, "decide", "charge", locked.public_id, locked.patient_id, f"waived: {reason}")


def refundable(charge: Charge) -> int:
    paid = -(charge.entries.filter(kind=Entry.PAYMENT).aggregate(s=Sum("amount"))["s"] or 0)
    refunded = charge.entries.filter(kind=Entry.REFUND).aggregate(s=Sum("amount"))["s"] or 0
    return int(paid - refunded)


def refund(
    charge: Charge, amount: int, *, by: User | None, reason: str, request: Any = None
) -> LedgerEntry:
    """Give back part or all of a card payment; never more than was paid and not yet refunded."""
    charge = Charge.objects.get(pk=charge.pk)
    if amount <= 0:
        raise BillingError(_("Enter an amount to refund."))
    left = refundable(charge)
    if amount > left:
        raise BillingError(
            _("At most %(left)s can be refunded for this charge.")
            % {"left": Money(left, charge.currency)}
        )
    if not charge.stripe_payment_intent:
        raise BillingError(_("This charge was not paid by card."))
    # The key names the ledger's state: a double click asks Stripe once.
    key = f"refund:{charge.public_id}:{left}:{amount}"
    stripe_refund = gateway.refund(
        payment_intent=charge.stripe_payment_intent, amount=amount, key=key
    )
    with transaction.atomic():
        entry = _write(
            charge,
            Entry.REFUND,
            amount,
            patient=charge.patient_id,
            location_id=charge.location_id,
            currency=charge.currency,
            stripe_id=str(stripe_refund.id),
            reason=reason,
            by=by,
        )
        audit(
            request,
            "update",
            "charge",
            charge.public_id,
            charge.patient_id,
            f"refunded {Money(amount, charge.currency)}",
        )
    if entry is None:
        return LedgerEntry.objects.get(kind=Entry.REFUND, stripe_id=str(stripe_refund.id))
    return entry


# --- Packages ------------------------------------------------------------------------------------


def buy_package(patient: User, package: Package) -> Charge:
    """The patient takes a package: its credits wait for the payment (card or link)."""
    now = timezone.now()
    with transaction.atomic():
        credit = Credit.objects.create(
            patient=patient,
            package=package,
            location=package.location,
            sessions=package.sessions,
            session_value=package.session_value(),
            currency=package.currency,
            bought_at=now,
            expires_at=now + dt.timedelta(days=package.expiry_days),
        )
        charge, _created = _open_charge(
            Purpose.PACKAGE,
            Appointment.CREDIT,
            credit.public_id,
            patient=patient,
            location_id=package.location_id,
            amount=Money(package.amount, package.currency),
            state=ChargeState.OPEN,
        )
        _write(
            charge,
            Entry.CHARGE,
            package.amount,
            patient=patient,
            location_id=package.location_id,
            currency=package.currency,
            credit=credit,
        )
        _collect_or_invoice(charge)
    return charge


def activate_paid_credits() -> int:
    """Credits whose package charge is paid become usable."""
    paid = Charge.objects.filter(purpose=Purpose.PACKAGE, state=ChargeState.SUCCEEDED).values_list(
        "appointment_id", flat=True
    )
    return Credit.objects.filter(public_id__in=paid, paid=False).update(paid=True)


def refund_unused(credit: Credit, *, by: User | None, request: Any = None) -> LedgerEntry | None:
    """Unused sessions are refunded at the package's per-session price; the credit closes."""
    with transaction.atomic():
        locked = Credit.objects.select_for_update().get(pk=credit.pk)
        if locked.refunded_at is not None:
            raise BillingError(_("This package was already refunded."))
        unused = locked.remaining()
        locked.refunded_at = timezone.now()
        locked.save(update_fields=["refunded_at"])
    if unused == 0:
        return None
    charge = Charge.objects.get(purpose=Purpose.PACKAGE, appointment_id=locked.public_id)
    amount = unused * locked.session_value
    try:
        entry = refund(charge, amount, by=by, reason=_("Unused package sessions"), request=request)
    except Exception:
        Credit.objects.filter(pk=locked.pk).update(refunded_at=None)
        raise
    _write(
        charge,
        Entry.REVERSAL,
        -amount,
        patient=charge.patient_id,
        location_id=charge.location_id,
        currency=charge.currency,
        credit=locked,
        stripe_id="",
        reason="unused package sessions",
    )
    return entry


# --- Reconciliation ------------------------------------------------------------------------------


STUCK_AFTER = dt.timedelta(minutes=10)
# How far back each hourly run reads Stripe's payment intents: a week of lost webhooks.
RECONCILE_SINCE = dt.timedelta(days=7)


def reconcile(since: dt.timedelta = RECONCILE_SINCE) -> dict[str, int]:
    """Read Stripe's payment intents of the last `since`, every page of them, and record what
    the webhooks may have missed; then re-submit charges stuck in SUBMITTING (a worker died
    after claiming), with the same idempotency key, so Stripe answers with the payment it
    already made, if any."""
    seen = 0
    for intent in gateway.recent_payment_intents(timezone.now() - since):
        if apply_payment_intent(intent) != "unknown":
            seen += 1
    activate_paid_credits()
    stuck = Charge.objects.filter(
        state=ChargeState.SUBMITTING, updated_at__lt=timezone.now() - STUCK_AFTER
    )
    resubmitted = 0
    for charge in stuck:
        claimed = Charge.objects.filter(
            pk=charge.pk, state=ChargeState.SUBMITTING, updated_at=charge.updated_at
        ).update(updated_at=timezone.now())
        if claimed:
            _submit(charge)
            resubmitted += 1
    pending = list(
        Charge.objects.filter(
            state=ChargeState.PENDING, updated_at__lt=timezone.now() - STUCK_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in pending:
        collect(pk)
    return {"seen": seen, "resubmitted": resubmitted, "pending": len(pending)}


# --- Takings -------------------------------------------------------------------------------------


def takings(location: Location, day: dt.date) -> QuerySet[LedgerEntry]:
    """The money movements of one local day at a location."""
    zone = location.zone
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = start + dt.timedelta(days=1)
    return (
        LedgerEntry.objects.filter(location=location, recorded_at__gte=start, recorded_at__lt=end)
        .select_related("patient", "charge")
        .order_by("recorded_at", "id")
    )
