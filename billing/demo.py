"""The demo clinic's fictional price list: the same at every demo location (make run), and the
one the payment tests and the benchmark use. Amounts in cents."""

from __future__ import annotations

from billing import services
from billing.models import Package, Service
from locations.models import Location

INFUSION = [
    services.Line("96365", "IV infusion, first hour", 1, 30000),
    services.Line("96366", "IV infusion, each additional hour", 1, 12000),
    services.Line("J3490", "Medication supply", 1, 5000),
]
LINES = {
    Service.INFUSION: INFUSION,
    Service.BOOSTER: INFUSION,
    Service.EVALUATION: [services.Line("99204", "New patient evaluation", 1, 35000)],
    Service.FOLLOW_UP: [services.Line("99214", "Follow-up visit", 1, 15000)],
}
FEES = {
    "deposit_infusion": 10000,
    "deposit_visit": 5000,
    "require_payment_online": False,
    "late_cancel_fee": 10000,
    "late_cancel_window_hours": 24,
    "no_show_fee": 15000,
    "grace_hours": 48,
}


def load(location: Location) -> None:
    """Give a location the demo prices, once (a location that has prices keeps them)."""
    if location.price_lines.exists():
        return
    for service, lines in LINES.items():
        services.set_service_lines(location, service, lines, currency="USD", by=None)
    services.set_fee_policy(location, by=None, **FEES)
    Package.objects.create(
        location=location,
        name="Series of six infusions",
        service=Service.INFUSION,
        sessions=6,
        amount=240000,
        expiry_days=180,
    )
