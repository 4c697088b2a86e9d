"""Fictional billing identities and infusion prices for the demo (`make run`), then the Good
Faith Estimates the demo's bookings are owed (docs/paperwork.md#who-and-what). Idempotent: a
location that already has prices keeps them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from stdnum import luhn

from accounts.models import Role, User
from billing.models import PriceLine, Service
from locations.models import Location
from paperwork import estimates
from paperwork.models import ClinicIdentity, EstimateDue, ProviderIdentity

# In force before any demo booking, so the bookings are priced.
SINCE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
DEMO_PRICES = [
    ("96365", "Intravenous infusion, first hour", 450_00),
    ("96366", "Each further hour of infusion", 50_00),
    ("J3490", "Ketamine, the dose given", 25_00),
]


def demo_npi(number: int) -> str:
    stem = f"1{number:08d}"
    return stem + luhn.calc_check_digit("80840" + stem)


class Command(BaseCommand):
    help = "Load fictional billing identities and prices, then issue the owed estimates."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if ClinicIdentity.current() is None:
            ClinicIdentity.objects.create(
                legal_name="Clearwater Infusion Clinics LLC (demo)",
                npi=demo_npi(1),
                tin="12-3456789",
                address="1 Example Street, Stamford, CT 06901",
            )
        for n, clinician in enumerate(User.objects.filter(role=Role.CLINICIAN), start=2):
            if not ProviderIdentity.objects.filter(user=clinician).exists():
                npi = demo_npi(n)
                while ProviderIdentity.objects.filter(npi=npi).exists():
                    n += 100
                    npi = demo_npi(n)
                ProviderIdentity.objects.create(user=clinician, npi=npi, credentials="MD")
        for location in Location.objects.all():
            if PriceLine.objects.filter(location=location, service=Service.INFUSION).exists():
                continue
            PriceLine.objects.bulk_create(
                PriceLine(
                    location=location,
                    service=Service.INFUSION,
                    code=code,
                    description=description,
                    amount=amount,
                    position=position,
                    valid_from=SINCE,
                )
                for position, (code, description, amount) in enumerate(DEMO_PRICES)
            )
        issued = 0
        for due in EstimateDue.objects.open().select_related("series", "patient"):
            issued += estimates.retry_due(due) is not None
        self.stdout.write(f"Demo paperwork loaded; {issued} estimate(s) issued.")
