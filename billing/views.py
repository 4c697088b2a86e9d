"""Payment pages: the prices settings, the card form, pay by link, the webhook, waivers and
refunds, the takings (docs/payments.md)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import logging
import uuid
from typing import Any
from uuid import UUID

import stripe
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, RawPostDataException
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.access import get_seen_or_404, role_required
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from audit.services import record as audit
from billing import emails, gateway, services
from billing.csp import allow_stripe
from billing.forms import FeePolicyForm, LinesForm, PackageForm, RefundForm, WaiveForm
from billing.models import Charge, ChargeState, Credit, Entry, Package, Service, StripeEvent
from billing.money import Money
from billing.prices import lines_in_force
from locations.models import Location
from scheduling import links
from scheduling.access import get_patient_for

logger = logging.getLogger(__name__)

admins_only = role_required(Role.CLINIC_ADMIN)
desk_only = role_required(Role.FRONT_DESK, Role.CLINIC_ADMIN)
patients_only = role_required(Role.PATIENT)

CARD_SALT = "billing.card-link"
CARD_LINK_DAYS = 7


# --- Settings → Prices -------------------------------------------------------------------------


@admins_only
def prices(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Settings → Prices: the service lines, the packages, the deposits and fees. Every change
    writes new rows from now on; bookings made before keep what they accepted."""
    location = get_object_or_404(Location, slug=slug)
    policy = services.current_fee_policy(location.pk)
    fee_form = FeePolicyForm(initial=FeePolicyForm.initial_from(policy))
    lines_form = LinesForm()
    package_form = PackageForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "fees":
            fee_form = FeePolicyForm(request.POST)
            if fee_form.is_valid():
                services.set_fee_policy(location, by=request.user, **fee_form.cleaned_data)
                audit(request, "update", "fee_policy", location.slug, None, "fees and deposits")
                messages.success(request, "Fees and deposits saved; they apply to new bookings.")
                return redirect("billing:prices", slug=slug)
        elif action == "lines":
            lines_form = LinesForm(request.POST)
            if lines_form.is_valid():
                service = lines_form.cleaned_data["service"]
                services.set_service_lines(
                    location,
                    service,
                    [services.Line(*line) for line in lines_form.cleaned_data["lines"]],
                    currency=policy.currency,
                    by=request.user,
                )
                audit(request, "update", "price_lines", location.slug, None, service)
                messages.success(request, "Prices saved; they apply to new bookings.")
                return redirect("billing:prices", slug=slug)
        elif action == "package":
            package_form = PackageForm(request.POST)
            if package_form.is_valid():
                package = package_form.save(commit=False)
                package.location = location
                package.amount = package_form.cleaned_data["price"]
                package.currency = policy.currency
                package.save()
                audit(request, "create", "package", package.public_id, None, package.name)
                messages.success(request, "Package added.")
                return redirect("billing:prices", slug=slug)
        elif action == "end_package":
            chosen = _uuid(request.POST.get("package"))
            on_sale = services.packages_on_sale(location.pk)
            ending = on_sale.filter(public_id=chosen).first() if chosen else None
            if ending is not None:
                services.end_package(ending)
                audit(request, "update", "package", ending.public_id, None, "off sale")
                messages.success(request, "The package is off sale; bought ones keep their terms.")
            return redirect("billing:prices", slug=slug)
    by_service = [
        (label, value, list(lines_in_force(location.pk, value))) for value, label in Service.choices
    ]
    return render(
        request,
        "billing/prices.html",
        {
            "location": location,
            "policy": policy,
            "by_service": by_service,
            "packages": services.packages_on_sale(location.pk),
            "fee_form": fee_form,
            "lines_form": lines_form,
            "package_form": package_form,
        },
    )


def _uuid(value: Any) -> UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- Card on file ------------------------------------------------------------------------------


def _card_page(
    request: HttpRequest, patient: User, done_url: str, extra: dict[str, Any] | None = None
) -> HttpResponse:
    try:
        secret = services.start_card_setup(patient, uuid.uuid4().hex)
    except (gateway.PaymentsOff, gateway.Unreachable) as error:
        return render(request, "billing/unavailable.html", {"reason": str(error)}, status=503)
    response = render(
        request,
        "billing/card.html",
        {
            "client_secret": secret,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js": settings.STRIPE_JS_URL,
            "done_url": done_url,
            "card": services.current_card(patient),
            **(extra or {}),
        },
    )
    return allow_stripe(response)


def _save_card(request: HttpRequest, patient: User) -> str:
    setup_intent = request.POST.get("setup_intent", "")[:100]
    if not setup_intent.startswith("seti_"):
        return _("The card was not saved; please try again.")
    try:
        card = services.record_card(patient, setup_intent)
    except (services.BillingError, gateway.Unreachable, gateway.PaymentsOff) as error:
        return str(error)
    except gateway.Declined as error:
        return error.message
    messages.success(
        request, _("Your card %(card)s is saved for this clinic's charges.") % {"card": card}
    )
    return ""


@patients_only
def card(request: AuthenticatedRequest) -> HttpResponse:
    """The patient's payments: the balance, what is open (each with its pay link), and the card
    on file, added in Stripe's own form (a SetupIntent for later, off-session use)."""
    if request.method == "POST":
        problem = _save_card(request, request.user)
        if not problem:
            return redirect("billing:card")
        messages.error(request, problem)
    unpaid = (
        ChargeState.OPEN,
        ChargeState.FAILED,
        ChargeState.REQUIRES_ACTION,
        ChargeState.SCHEDULED,
    )
    charges = Charge.objects.filter(patient=request.user).select_related("location")[:20]
    return _card_page(
        request,
        request.user,
        "",
        {
            "balance": services.balance(request.user),
            "charges": [(c, emails.pay_token(c) if c.state in unpaid[:3] else "") for c in charges],
        },
    )


def card_link(request: HttpRequest, token: str) -> HttpResponse:
    """The same form from a signed link the desk sent: no sign-in needed."""
    try:
        public_id = links.unsign(CARD_SALT, token)
    except signing.BadSignature:
        return render(request, "billing/link_invalid.html", status=404)
    patient = get_object_or_404(User, public_id=public_id, role=Role.PATIENT)
    translation.activate(links.patient_language(patient))
    request.LANGUAGE_CODE = translation.get_language()
    if request.method == "POST":
        problem = _save_card(request, patient)
        if not problem:
            return render(
                request, "billing/card_saved.html", {"card": services.current_card(patient)}
            )
        messages.error(request, problem)
    return _card_page(request, patient, "")


@desk_only
@require_POST
def send_card_link(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    patient = get_patient_for(request, public_id)
    with transaction.atomic():
        emails.plan_card_link(patient)
        audit(request, "create", "card_link", patient.public_id, patient.pk, "sent")
    messages.success(request, "A link to add a card is on its way to the patient.")
    return redirect("scheduling:patient", public_id=patient.public_id)


def card_token(patient: User) -> str:
    until = timezone.now() + dt.timedelta(days=CARD_LINK_DAYS)
    return links.signed(CARD_SALT, str(patient.public_id), until)


# --- Pay by link -------------------------------------------------------------------------------


def pay(request: HttpRequest, token: str) -> HttpResponse:
    """An open charge paid without signing in, from the emailed link (docs/payments.md#pay-by-link).

    GET shows the amount and Stripe's card form; the payment intent carries the charge's key,
    so opening the link twice never makes two payments."""
    try:
        public_id = links.unsign(emails.PAY_SALT, token)
    except signing.BadSignature:
        return render(request, "billing/link_invalid.html", status=404)
    charge = get_object_or_404(
        Charge.objects.select_related("location", "patient"), public_id=public_id
    )
    translation.activate(links.patient_language(charge.patient))
    request.LANGUAGE_CODE = translation.get_language()
    if request.method == "POST":
        intent_id = request.POST.get("payment_intent", "")[:100]
        if intent_id.startswith("pi_") and intent_id == charge.stripe_payment_intent:
            try:
                services.apply_payment_intent(gateway.retrieve_payment_intent(intent_id))
            except (gateway.Unreachable, gateway.PaymentsOff) as error:
                messages.error(request, str(error))
            charge.refresh_from_db()
    context: dict[str, Any] = {"charge": charge, "amount": charge.money()}
    if charge.state in (ChargeState.SUCCEEDED, ChargeState.CREDITED):
        return render(request, "billing/paid.html", context)
    if charge.state == ChargeState.WAIVED:
        return render(request, "billing/paid.html", {**context, "waived": True})
    if charge.state in (ChargeState.SCHEDULED, ChargeState.PENDING, ChargeState.SUBMITTING):
        return render(request, "billing/paid.html", {**context, "in_progress": True})
    try:
        secret = _link_intent(charge)
    except (gateway.PaymentsOff, gateway.Unreachable) as error:
        return render(request, "billing/unavailable.html", {"reason": str(error)}, status=503)
    except gateway.Declined as error:
        messages.error(request, error.message)
        return render(request, "billing/unavailable.html", {"reason": error.message}, status=402)
    context.update(
        client_secret=secret,
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        stripe_js=settings.STRIPE_JS_URL,
        payment_intent=charge.stripe_payment_intent,
    )
    return allow_stripe(render(request, "billing/pay.html", context))


def _link_intent(charge: Charge) -> str:
    """The payment intent the link's form confirms: the one the off-session attempt left
    waiting for the bank's check, else one made for the link (once, by its key)."""
    if charge.stripe_payment_intent:
        intent = gateway.retrieve_payment_intent(charge.stripe_payment_intent)
        waiting = intent.status in ("requires_action", "requires_confirmation")
        if waiting or (intent.status == "requires_payment_method" and not intent.payment_method):
            return str(intent.client_secret)
    intent = gateway.payment_intent_for_link(
        amount=charge.amount,
        currency=charge.currency,
        charge=str(charge.public_id),
        key=f"link:{charge.public_id}:{charge.attempts}:{charge.stripe_payment_intent or ''}",
    )
    with contextlib.suppress(IntegrityError):
        Charge.objects.filter(pk=charge.pk).update(stripe_payment_intent=intent.id)
    charge.stripe_payment_intent = intent.id
    return str(intent.client_secret)


# --- The webhook -------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events, signature checked; each event id recorded once, so a replay is a no-op;
    any order, since each reads the payment intent as it is now (docs/payments.md#webhooks)."""
    signature = request.headers.get("Stripe-Signature", "")
    try:
        # A multipart body was already read as a form (never Stripe's JSON): refused.
        payload = request.body
    except RawPostDataException:
        return HttpResponseBadRequest("not a Stripe event")
    try:
        event = gateway.construct_event(payload, signature)
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("bad signature")
    try:
        with transaction.atomic():
            StripeEvent.objects.create(stripe_id=str(event.id), type=str(event.type))
    except IntegrityError:
        return HttpResponse("already seen")
    if str(event.type).startswith("payment_intent."):
        intent = event.data.object
        try:
            # The event may be older than the intent's state: ask Stripe for it as it is now.
            intent = gateway.retrieve_payment_intent(str(intent.id))
        except (gateway.Unreachable, gateway.PaymentsOff):
            StripeEvent.objects.filter(stripe_id=str(event.id)).delete()
            return HttpResponse("try again", status=503)
        services.apply_payment_intent(intent)
        services.activate_paid_credits()
    return HttpResponse("ok")


# --- Waivers, refunds, takings -----------------------------------------------------------------


def _charge_or_404(request: AuthenticatedRequest, public_id: UUID) -> Charge:
    """A charge of a patient the reader sees
    (docs/security.md#which-locations-patients-each-role-sees)."""
    return get_seen_or_404(request, Charge.objects.select_related("patient"), public_id=public_id)


@desk_only
@require_POST
def waive(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    charge = _charge_or_404(request, public_id)
    form = WaiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the fee is waived.")
    else:
        try:
            services.waive(
                charge, by=request.user, reason=form.cleaned_data["reason"], request=request
            )
            messages.success(request, f"{charge.money()} waived.")
        except services.BillingError as error:
            messages.error(request, str(error))
    return redirect("scheduling:patient", public_id=charge.patient.public_id)


@desk_only
@require_POST
def sell_package(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The desk sells a package: charged to the card on file, or a link to pay is emailed; its
    sessions are usable once it is paid."""
    patient = get_patient_for(request, public_id)
    chosen = _uuid(request.POST.get("package"))
    package = Package.objects.filter(public_id=chosen).first() if chosen else None
    on_sale = (
        package is not None
        and services.packages_on_sale(package.location_id).filter(pk=package.pk).exists()
    )
    if package is None or not on_sale:
        messages.error(request, "Choose a package on sale.")
    else:
        charge = services.buy_package(patient, package)
        audit(request, "create", "charge", charge.public_id, patient.pk, f"package {package.name}")
        messages.success(
            request,
            f"{package.name} sold for {charge.money()}: "
            + (
                "the card on file is being charged."
                if charge.state == ChargeState.PENDING
                else "a link to pay is on its way."
            ),
        )
    return redirect("scheduling:patient", public_id=patient.public_id)


@admins_only
@require_POST
def refund(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    charge = _charge_or_404(request, public_id)
    form = RefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give an amount and a reason for the refund.")
    else:
        try:
            services.refund(
                charge,
                form.cleaned_data["amount"],
                by=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
            messages.success(request, "Refunded.")
        except (services.BillingError, gateway.Unreachable, gateway.PaymentsOff) as error:
            messages.error(request, str(error))
        except gateway.Declined as error:
            messages.error(request, error.message)
    return redirect("scheduling:patient", public_id=charge.patient.public_id)


@admins_only
@require_POST
def refund_package(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    credit = get_seen_or_404(request, Credit.objects.select_related("patient"), public_id=public_id)
    try:
        services.refund_unused(credit, by=request.user, request=request)
        messages.success(request, "The unused sessions were refunded.")
    except (services.BillingError, gateway.Unreachable, gateway.PaymentsOff) as error:
        messages.error(request, str(error))
    return redirect("scheduling:patient", public_id=credit.patient.public_id)


def _day(request: HttpRequest, location: Location) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return location.local_today()


@desk_only
def takings(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The day's money at a location: charges, payments, refunds, credits used, waivers."""
    location = get_object_or_404(Location, slug=slug)
    day = _day(request, location)
    entries = list(services.takings(location, day))
    totals: dict[str, Money] = {}
    for entry in entries:
        totals[entry.kind] = totals.get(entry.kind, Money.zero(entry.currency)) + entry.money()
    audit(request, "read", "takings", location.slug, None, day.isoformat())
    return render(
        request,
        "billing/takings.html",
        {
            "location": location,
            "day": day,
            "entries": entries,
            "totals": [(Entry(kind).label, money) for kind, money in totals.items()],
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
        },
    )


@desk_only
def takings_csv(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    location = get_object_or_404(Location, slug=slug)
    day = _day(request, location)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="takings-{slug}-{day}.csv"'
    writer = csv.writer(response)
    writer.writerow(["recorded_at", "kind", "amount", "currency", "patient", "charge", "reason"])
    for entry in services.takings(location, day):
        writer.writerow(
            [
                entry.recorded_at.astimezone(location.zone).isoformat(),
                entry.kind,
                f"{entry.money().as_decimal()}",
                entry.currency,
                entry.patient.public_id,
                entry.charge.public_id if entry.charge else "",
                _csv_safe(entry.reason),
            ]
        )
    audit(request, "read", "takings", location.slug, None, f"csv {day.isoformat()}")
    return response


def _csv_safe(text: str) -> str:
    """A reason typed by staff must not run as a formula in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
