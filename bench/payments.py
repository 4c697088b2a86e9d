"""Payments benchmark: 1,000 completed sessions and 200 late-cancellation fees charged by the
payments worker against localstripe, while Stripe's webhooks arrive twice and out of order.

The normal Celery worker (prefork, one process per core) takes every charge from the `payments`
queue, each task sent twice (a retry, a second delivery). Meanwhile this process reads the
events the Stripe peer produced, shuffles them and posts each, signed, twice to the app's
webhook view. Then it compares the ledger with the peer's own records: double charges (one of
our charges with more than one succeeded payment intent at the peer), missing ledger rows (a
succeeded intent with no payment row, or a payment row with no succeeded intent), and the
ledger's payments against the peer's succeeded amounts. Goals: 0, 0, equal
(docs/payments.md#idempotency).

    python -m bench.payments [--sessions 1000 --fees 200] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import django_environment, report

PATIENTS = 50


def _peer(path: str) -> dict[str, Any]:
    from django.conf import settings

    request = urllib.request.Request(  # noqa: S310  # the embedded peer's http address
        settings.STRIPE_API_BASE + path,
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())  # type: ignore[no-any-return]  # JSON object


def _all(path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = ""
    while True:
        page = _peer(f"{path}?limit=100" + (f"&starting_after={after}" if after else ""))
        found += page["data"]
        if not page.get("has_more") or not page["data"]:
            return found
        after = page["data"][-1]["id"]


def _post_event(event: dict[str, Any]) -> int:
    from django.conf import settings
    from django.test import RequestFactory

    from billing.views import webhook

    payload = json.dumps(event).encode()
    stamp = int(time.time())
    signature = hmac.new(
        settings.STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    request = RequestFactory().post(
        "/billing/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={stamp},v1={signature}",
    )
    return webhook(request).status_code


def _webhooks(stop: threading.Event, delivered: Counter[str]) -> None:
    """Post every new event twice, shuffled, until told to stop (then once more for the rest)."""
    from django.db import connection

    seen: set[str] = set()
    try:
        while True:
            last_round = stop.is_set()
            events = [
                e
                for e in _all("/v1/events")
                if e["id"] not in seen and e["type"].startswith("payment_intent.")
            ]
            batch = events * 2
            random.shuffle(batch)
            for event in batch:
                delivered[str(_post_event(event))] += 1
            seen.update(e["id"] for e in events)
            if last_round:
                return
            time.sleep(1)
    finally:
        connection.close()


def setup(sessions: int, fees: int) -> tuple[list[int], int]:
    """A priced location, patients with a card each, the completed sessions' charges (queued
    for the worker) and the fees (due now)."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from billing import demo, services
    from billing.models import Appointment, Card, Charge, Customer, Purpose
    from locations.models import Location

    # The Stripe peer keeps its objects in memory: a new run's peer has none of the cards an
    # earlier run saved, so the bench patients' cards are saved again.
    Card.objects.filter(patient__email__startswith="bench-pay-").delete()
    Customer.objects.filter(patient__email__startswith="bench-pay-").delete()
    location, _ = Location.objects.get_or_create(
        slug="bench-pay",
        defaults={"name": "Bench payments", "time_zone": "America/New_York", "address": "x"},
    )
    demo.load(location)
    patients = []
    for n in range(PATIENTS):
        patient, _ = User.objects.get_or_create(
            email=f"bench-pay-{n}@example.org",
            defaults={"role": Role.PATIENT, "first_name": "Bench", "last_name": f"P{n}"},
        )
        if services.current_card(patient) is None:
            secret = services.start_card_setup(patient, uuid.uuid4().hex)
            _confirm(secret)
            services.record_card(patient, secret.split("_secret_")[0])
        patients.append(patient)
    policies = [
        services.accept_policy(
            Appointment.SERIES,
            uuid.uuid4(),
            patient=p,
            location=location,
            service="infusion",
            language="en",
        )
        for p in patients
    ]
    queued: list[int] = []
    for n in range(sessions):
        with transaction.atomic():
            charge = services.charge_completed(
                Appointment.SESSION,
                uuid.uuid4(),
                patient=patients[n % PATIENTS].pk,
                location_id=location.pk,
                policy=policies[n % PATIENTS],
            )
        assert charge is not None
        queued.append(charge.pk)
    long_ago = timezone.now() - dt.timedelta(days=3)
    for n in range(fees):
        with transaction.atomic():
            services.schedule_fee(
                Purpose.LATE_CANCEL,
                Appointment.SESSION,
                uuid.uuid4(),
                patient=patients[n % PATIENTS].pk,
                location_id=location.pk,
                policy=policies[n % PATIENTS],
                at=long_ago,
            )
    return queued, Charge.objects.count()


def _confirm(secret: str) -> None:
    from django.conf import settings

    setup_intent = secret.split("_secret_")[0]
    data = urllib.parse.urlencode(
        {
            "key": settings.STRIPE_PUBLISHABLE_KEY,
            "client_secret": secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": "4242424242424242",
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": "2031",
            "payment_method_data[card][cvc]": "123",
        }
    ).encode()
    url = f"{settings.STRIPE_API_BASE}/v1/setup_intents/{setup_intent}/confirm"
    with urllib.request.urlopen(url, data=data, timeout=30):  # noqa: S310
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--fees", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="100 sessions and 20 fees")
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.fees = 100, 20

    # Its own database, and a fresh Stripe peer's state is not needed: charges are matched to
    # the peer's intents by our charge ids in their metadata.
    with django_environment("bench-payments"), tempfile.TemporaryDirectory() as scratch:
        from django.db.models import Sum

        from billing import services, tasks
        from billing.models import Charge, ChargeState, Entry, LedgerEntry

        LedgerEntry.objects.all().count()  # the ledger is append-only: earlier runs stay
        before = set(Charge.objects.values_list("public_id", flat=True))
        queued, _total = setup(args.sessions, args.fees)
        print(f"set up {len(queued)} completed sessions and {args.fees} fees")
        env = {
            **os.environ,
            "CELERY_BEAT_SCHEDULE_FILENAME": str(Path(scratch) / "beat-schedule"),
            "LOG_LEVEL": "WARNING",
        }
        with open(Path(scratch) / "worker.log", "wb") as log:
            worker = subprocess.Popen(
                [
                    *[sys.executable, "-m", "celery", "-A", "clinic", "worker"],
                    *["-Q", "payments,celery", "--concurrency", str(os.cpu_count() or 2)],
                    *["--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        stop = threading.Event()
        delivered: Counter[str] = Counter()
        hooks = threading.Thread(target=_webhooks, args=(stop, delivered))
        try:
            time.sleep(4)
            started = time.perf_counter()
            hooks.start()
            for pk in queued * 2:  # every task delivered twice
                tasks.collect.delay(pk)
            tasks.charge_due_fees.delay()
            tasks.charge_due_fees.delay()
            ours = Charge.objects.exclude(public_id__in=before)
            deadline = started + 900
            while ours.exclude(state=ChargeState.SUCCEEDED).exists():
                if time.perf_counter() > deadline or worker.poll() is not None:
                    break
                time.sleep(0.5)
            seconds = time.perf_counter() - started
        finally:
            stop.set()
            hooks.join(timeout=300)
            worker.terminate()
            worker.wait(timeout=60)

        services.reconcile()
        ids = {str(p) for p in ours.values_list("public_id", flat=True)}
        succeeded = [
            i
            for i in _all("/v1/payment_intents")
            if i["status"] == "succeeded" and (i.get("metadata") or {}).get("charge") in ids
        ]
        per_charge = Counter(i["metadata"]["charge"] for i in succeeded)
        payments = LedgerEntry.objects.filter(kind=Entry.PAYMENT, charge__in=ours)
        paid_ids = set(payments.values_list("stripe_id", flat=True))
        peer_ids = {i["id"] for i in succeeded}
        ledger_total = -(payments.aggregate(s=Sum("amount"))["s"] or 0)
        peer_total = sum(i["amount"] for i in succeeded)
        figures = {
            "sessions": args.sessions,
            "fees": args.fees,
            "charges": len(ids),
            "paid": ours.filter(state=ChargeState.SUCCEEDED).count(),
            "seconds": round(seconds, 2),
            "charges_per_second": round(len(ids) / seconds, 1) if seconds else 0,
            "tasks_sent": len(queued) * 2 + 2,
            "webhooks_posted": sum(delivered.values()),
            "webhook_answers": dict(delivered),
            "double_charges": sum(1 for count in per_charge.values() if count > 1),
            "missing_ledger_rows": len(peer_ids - paid_ids) + len(paid_ids - peer_ids),
            "ledger_total": ledger_total,
            "peer_total": peer_total,
            "ledger_equals_peer": ledger_total == peer_total and paid_ids == peer_ids,
            "workers": os.cpu_count(),
        }
        print(
            f"{figures['paid']} of {len(ids)} charges paid in {figures['seconds']} s "
            f"({figures['charges_per_second']}/s); {figures['webhooks_posted']} webhooks posted; "
            f"{figures['double_charges']} double charges, {figures['missing_ledger_rows']} "
            f"missing ledger rows, ledger equal to the peer: {figures['ledger_equals_peer']}"
        )
        report("payments", figures)


if __name__ == "__main__":
    main()
