"""A priced location, a booked series, and cards saved the way Stripe.js saves them, against the
embedded localstripe peer (clinic.embedded sets STRIPE_API_BASE and the keys)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings

from accounts.models import User
from billing import demo, services
from billing.models import Card
from locations.models import Location
from scheduling import services as scheduling
from scheduling.models import Series
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

GOOD = "4242424242424242"
DECLINED_AT_SETUP = "4000000000000002"
DECLINED_WHEN_CHARGED = "4000000000000341"
NEEDS_AUTHENTICATION = "4000002760003184"


def priced_location(slug: str = "stamford", **fees: Any) -> Location:
    location = make_location(slug, shifts_from=dt.date.today(), shift_days=30)
    demo.load(location)
    if fees:
        services.set_fee_policy(location, by=None, **{**demo.FEES, **fees})
    return location


def booked_series(location: Location, email: str = "pat@example.org") -> Series:
    plan = approved_plan(email, location, infusions=2, min_days_between=2)
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
        booked_by=UserFactory.create(role="front_desk"),
    )


def _post(path: str, data: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310  # the embedded peer's http address
        settings.STRIPE_API_BASE + path, data=urllib.parse.urlencode(data).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())


def confirm_setup_like_stripe_js(client_secret: str, number: str) -> dict[str, Any]:
    """What Stripe.js does in the browser with the card typed into Stripe's field: confirm the
    SetupIntent with the publishable key. The clinic's server never sees `number`."""
    setup_intent = client_secret.split("_secret_")[0]
    return _post(
        f"/v1/setup_intents/{setup_intent}/confirm",
        {
            "key": settings.STRIPE_PUBLISHABLE_KEY,
            "client_secret": client_secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": number,
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": "2031",
            "payment_method_data[card][cvc]": "123",
        },
    )


def save_card(patient: User, number: str = GOOD) -> Card:
    secret = services.start_card_setup(patient, f"test-{time.monotonic_ns()}")
    confirmed = confirm_setup_like_stripe_js(secret, number)
    return services.record_card(patient, confirmed["id"])


def peer_get(path: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310  # the embedded peer's http address
        settings.STRIPE_API_BASE + path,
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def intents_for(charge_public_id: str) -> list[dict[str, Any]]:
    """Every payment intent the peer holds for one of our charges (by its metadata)."""
    found, after = [], None
    while True:
        query = "?limit=100" + (f"&starting_after={after}" if after else "")
        page = peer_get("/v1/payment_intents" + query)
        found += [
            intent
            for intent in page["data"]
            if (intent.get("metadata") or {}).get("charge") == charge_public_id
        ]
        if not page.get("has_more") or not page["data"]:
            return found
        after = page["data"][-1]["id"]


def signed_event_request(event: dict[str, Any]) -> tuple[bytes, str]:
    """The body and Stripe-Signature header Stripe sends with an event."""
    payload = json.dumps(event).encode()
    stamp = int(time.time())
    signature = hmac.new(
        settings.STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return payload, f"t={stamp},v1={signature}"


def peer_log() -> Path:
    return Path(os.environ["STRIPE_PEER_LOG"])
