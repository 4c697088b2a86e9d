"""Everything the app says to Stripe, in one place, through Stripe's own SDK.

What goes to Stripe is opaque ids and amounts: the customer is described by nothing but our
patient's public id, a payment by the neutral "Clinic visit" and our charge's public id in its
metadata; never a name, an email, a diagnosis, a drug or a note
(docs/payments.md#what-goes-to-stripe).

Every call that creates something carries an idempotency key derived from our own row
(`charge:<uuid>`), so a retry, a second worker or a double click gets Stripe's first answer back
instead of a second payment (docs/payments.md#idempotency). With STRIPE_API_BASE set (the
embedded localstripe), the SDK talks to that base instead of api.stripe.com.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

DESCRIPTOR = "Clinic visit"


class PaymentsOff(Exception):
    """No Stripe key is configured: card payments are switched off."""


class Unreachable(Exception):
    """Stripe did not answer (network, timeout, or its own error): nothing was recorded."""


@dataclass(frozen=True)
class Declined(Exception):
    """The card was refused; `message` is for the patient and the desk."""

    message: str
    payment_intent: str | None = None


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentsOff(_("Card payments are not set up for this clinic."))
    base: dict[str, str] = {}
    if settings.STRIPE_API_BASE:
        base = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,  # type: ignore[arg-type]  # a TypedDict; a plain dict here
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
    )


def _calling(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one SDK call, turning its failures into ours."""
    try:
        return call(*args, **kwargs)
    except stripe.CardError as error:
        intent = getattr(error.error, "payment_intent", None) if error.error else None
        raise Declined(
            _("The card was declined: %(reason)s")
            % {"reason": error.user_message or _("the bank gave no reason")},
            payment_intent=getattr(intent, "id", None),
        ) from error
    except stripe.InvalidRequestError as error:
        # The card or customer is gone at Stripe, or Stripe refused the request: nothing was
        # charged, and retrying will not change that.
        raise Declined(
            _("The card on file could not be charged: %(reason)s")
            % {"reason": error.user_message or _("the card service refused the request")}
        ) from error
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise Unreachable(
            _("The card service could not be reached; nothing was charged.")
        ) from error
    except stripe.APIError as error:
        raise Unreachable(_("The card service had an error; nothing was charged.")) from error


def create_customer(patient_public_id: str) -> str:
    customer = _calling(
        client().v1.customers.create,
        params={"metadata": {"patient": patient_public_id}},
        options={"idempotency_key": f"customer:{patient_public_id}"},
    )
    return str(customer.id)


def create_setup_intent(customer: str, key: str) -> tuple[str, str]:
    """A SetupIntent for off-session use: (its id, the client secret Stripe.js confirms)."""
    intent = _calling(
        client().v1.setup_intents.create,
        params={"customer": customer, "usage": "off_session", "payment_method_types": ["card"]},
        options={"idempotency_key": key},
    )
    return str(intent.id), str(intent.client_secret)


def retrieve_setup_intent(setup_intent: str) -> Any:
    return _calling(client().v1.setup_intents.retrieve, setup_intent)


def payment_method(payment_method_id: str) -> Any:
    return _calling(client().v1.payment_methods.retrieve, payment_method_id)


def attach(payment_method_id: str, customer: str) -> None:
    _calling(
        client().v1.payment_methods.attach,
        payment_method_id,
        params={"customer": customer},
        options={"idempotency_key": f"attach:{payment_method_id}:{customer}"},
    )


def charge_off_session(
    *, amount: int, currency: str, customer: str, payment_method_id: str, charge: str, key: str
) -> Any:
    """Charge a saved card with the patient away (a fee, a completed session)."""
    return _calling(
        client().v1.payment_intents.create,
        params={
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer,
            "payment_method": payment_method_id,
            "off_session": True,
            "confirm": True,
            "description": DESCRIPTOR,
            "metadata": {"charge": charge},
        },
        options={"idempotency_key": key},
    )


def payment_intent_for_link(*, amount: int, currency: str, charge: str, key: str) -> Any:
    """A payment intent the patient confirms in Stripe's form (pay by link)."""
    return _calling(
        client().v1.payment_intents.create,
        params={
            "amount": amount,
            "currency": currency.lower(),
            "payment_method_types": ["card"],
            "description": DESCRIPTOR,
            "metadata": {"charge": charge},
        },
        options={"idempotency_key": key},
    )


def retrieve_payment_intent(payment_intent: str) -> Any:
    return _calling(client().v1.payment_intents.retrieve, payment_intent)


def recent_payment_intents(
    since: dt.datetime, page_size: int = 100, max_pages: int = 100
) -> Iterator[Any]:
    """The payment intents created since `since`, page after page (`starting_after`), for the
    reconciliation (docs/payments.md#reconciliation).

    Stripe lists newest first, so a whole page older than `since` ends the walk; localstripe,
    which has no date filter, lists oldest first, so its pages are all read (`max_pages` bounds
    both)."""
    horizon = int(since.timestamp())
    after: str | None = None
    for _page in range(max_pages):
        params: dict[str, Any] = {"limit": page_size}
        if after:
            params["starting_after"] = after
        page = _calling(client().v1.payment_intents.list, params=params)
        data = list(page.data)
        yield from (intent for intent in data if int(intent.created) >= horizon)
        if not data or not page.has_more:
            return
        newest_first = int(data[0].created) >= int(data[-1].created)
        if newest_first and int(data[0].created) < horizon:
            return
        after = str(data[-1].id)


def refund(*, payment_intent: str, amount: int, key: str) -> Any:
    return _calling(
        client().v1.refunds.create,
        params={"payment_intent": payment_intent, "amount": amount},
        options={"idempotency_key": key},
    )


def construct_event(payload: bytes, signature: str) -> Any:
    """The event, if Stripe signed it with our webhook secret; ValueError or
    stripe.SignatureVerificationError otherwise."""
    return stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
