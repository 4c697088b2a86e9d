"""The payments worker: charging cards on file, fees after their grace period, and the hourly
reconciliation with Stripe (docs/payments.md#webhooks-and-reconciliation). Tasks take primary
keys only and are safe to run twice: each claims its charge with a conditional update."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from billing import gateway, services


@shared_task(
    bind=True,
    autoretry_for=(gateway.Unreachable,),
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=5,
)
def collect(self: Any, charge_id: int) -> str:
    """Charge the card on file for one charge; Stripe unreachable → retried with backoff, with
    the same idempotency key, and the hourly reconciliation after that."""
    return services.collect(charge_id)


@shared_task
def charge_due_fees() -> int:
    """Every five minutes: late-cancellation and no-show fees whose grace period is over."""
    return services.charge_due_fees()


@shared_task
def reconcile() -> dict[str, int]:
    """Every hour: what Stripe says about recent payments, whatever webhooks were lost."""
    try:
        return services.reconcile()
    except (gateway.Unreachable, gateway.PaymentsOff):
        return {"seen": 0, "resubmitted": 0, "pending": 0}
