"""The payment emails, through the outbox: a receipt once a payment is recorded, and a link to
pay a charge without signing in (docs/payments.md#pay-by-link). Planned as rows in the payment's
transaction; their words and the signed link are made when they are sent, in the patient's
language. The emails name an amount and the clinic, never the treatment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts import language
from accounts.models import User
from billing.models import Charge
from notifications import services as outbox
from notifications.models import Channel, Message
from notifications.registry import Resolved, Skip, register
from scheduling import links

RECEIPT = "billing_receipt"
PAY_LINK = "billing_pay_link"
PAY_SALT = "billing.pay-link"
# How long a pay link works.
PAY_LINK_DAYS = 14


def plan(kind: str, charge: Charge) -> Message:
    message = outbox.enqueue(
        channel=Channel.EMAIL,
        kind=kind,
        group=f"charge:{charge.pk}",
        send_at=timezone.now(),
        context={"charge": charge.pk},
    )
    from notifications.tasks import dispatch_soon

    dispatch_soon()
    return message


def pay_token(charge: Charge, until: dt.datetime | None = None) -> str:
    until = until or timezone.now() + dt.timedelta(days=PAY_LINK_DAYS)
    return links.signed(PAY_SALT, str(charge.public_id), until)


def pay_url(charge: Charge) -> str:
    return settings.SITE_URL + reverse("billing:pay", args=[pay_token(charge)])


def _charge(message: Message) -> Charge:
    charge = (
        Charge.objects.select_related("patient", "location")
        .filter(pk=message.context.get("charge"))
        .first()
    )
    if charge is None:
        raise Skip("not sent: the charge no longer exists")
    return charge


def _email(prefix: str, patient: User, context: dict[str, Any], secret: str = "") -> Resolved:
    context = {"site_name": settings.SITE_NAME, **context}
    with translation.override(language.of_patient(patient)):
        subject = render_to_string(f"{prefix}_subject.txt", context)
        return Resolved(
            recipient=patient.email,
            subject=" ".join(subject.split()),
            body_text=render_to_string(f"{prefix}_body.txt", context),
            body_html=render_to_string(f"{prefix}_body.html", context),
            secrets=(secret,) if secret else (),
        )


def resolve_receipt(message: Message) -> Resolved:
    charge = _charge(message)
    return _email(
        "billing/email/receipt",
        charge.patient,
        {
            "first_name": charge.patient.first_name,
            "amount": charge.money(),
            "location": charge.location.name,
            "reference": str(charge.public_id)[:8],
        },
    )


def resolve_pay_link(message: Message) -> Resolved:
    charge = _charge(message)
    from billing.models import ChargeState

    if charge.state in (ChargeState.SUCCEEDED, ChargeState.WAIVED, ChargeState.CREDITED):
        raise Skip("not sent: the charge is settled")
    token = pay_token(charge)
    return _email(
        "billing/email/pay_link",
        charge.patient,
        {
            "first_name": charge.patient.first_name,
            "amount": charge.money(),
            "location": charge.location.name,
            "link": settings.SITE_URL + reverse("billing:pay", args=[token]),
            "days": PAY_LINK_DAYS,
        },
        token,
    )


def register_kinds() -> None:
    """Called from BillingConfig.ready."""
    register(RECEIPT, resolve_receipt, "Payment receipt")
    register(PAY_LINK, resolve_pay_link, "Link to pay")
    register(CARD_LINK, resolve_card_link, "Link to add a card")


CARD_LINK = "billing_card_link"


def plan_card_link(patient: User) -> Message:
    message = outbox.enqueue(
        channel=Channel.EMAIL,
        kind=CARD_LINK,
        group=f"card:{patient.pk}",
        send_at=timezone.now(),
        context={"patient": patient.pk},
    )
    from notifications.tasks import dispatch_soon

    dispatch_soon()
    return message


def resolve_card_link(message: Message) -> Resolved:
    from billing.views import CARD_LINK_DAYS, card_token

    patient = User.objects.filter(pk=message.context.get("patient")).first()
    if patient is None:
        raise Skip("not sent: the account no longer exists")
    token = card_token(patient)
    return _email(
        "billing/email/card_link",
        patient,
        {
            "first_name": patient.first_name,
            "link": settings.SITE_URL + reverse("billing:card_link", args=[token]),
            "days": CARD_LINK_DAYS,
        },
        token,
    )
