"""A self-pay clinic's billing set-up for the paperwork tests: the clinic's and a clinician's
identities (NPIs with valid check digits) and an infusion's price lines at a location."""

from __future__ import annotations

import datetime as dt

from stdnum import luhn

from billing.models import PriceLine, Service
from locations.models import Location
from paperwork.models import ClinicIdentity, ProviderIdentity

# CMS's own example of a valid NPI.
CLINIC_NPI = "1234567893"
CLINIC_TIN = "12-3456789"
PRICES = [
    ("96365", "Intravenous infusion, first hour", 1, 450_00),
    ("96366", "Each further hour of infusion", 1, 50_00),
    ("J3490", "Ketamine, the dose given", 1, 25_00),
]
EACH = sum(amount for _c, _d, _u, amount in PRICES)


def npi(stem: str) -> str:
    """A valid NPI from 9 digits: the Luhn check digit over 80840 + the stem."""
    return stem + luhn.calc_check_digit("80840" + stem)


def set_up_billing(location: Location, clinician, *, since: dt.datetime | None = None) -> None:
    ClinicIdentity.objects.update_or_create(
        pk=1,
        defaults={
            "legal_name": "Clearwater Infusion Clinics LLC",
            "npi": CLINIC_NPI,
            "tin": CLINIC_TIN,
            "address": "1 Example Street, Stamford, CT 06901",
            "phone": "203 555 0100",
        },
    )
    ProviderIdentity.objects.get_or_create(
        user=clinician, defaults={"npi": npi("198765432"), "credentials": "MD"}
    )
    add_prices(location, since=since)


def add_prices(location: Location, *, since: dt.datetime | None = None) -> None:
    since = since or dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for position, (code, description, units, amount) in enumerate(PRICES):
        PriceLine.objects.create(
            location=location,
            service=Service.INFUSION,
            code=code,
            description=description,
            units=units,
            amount=amount,
            position=position,
            valid_from=since,
        )


def chart(session, *, signed: bool = True):
    """A completed infusion's chart, on the session's own times; signed by its nurse or not."""
    from decimal import Decimal

    from charting.models import InfusionRecord
    from scheduling.models import Session, Status

    Session.objects.filter(pk=session.pk).update(status=Status.COMPLETED)
    start = session.starts_at
    started = start + dt.timedelta(minutes=15)
    ended = started + dt.timedelta(minutes=40)
    discharged = ended + dt.timedelta(minutes=45)
    return InfusionRecord.objects.create(
        session=session,
        nurse=session.nurse,
        checked_in_at=start,
        checked_in_charted_at=start,
        fasting_confirmed=True,
        escort_name="Jamie",
        escort_phone="+12035550111",
        weight_kg=Decimal("75"),
        pain_before=6,
        dose_mg_per_kg=Decimal("0.5"),
        dose_mg=Decimal("37.5"),
        dose_confirmed_at=started,
        infusion_started_at=started,
        started_charted_at=started,
        infusion_ended_at=ended,
        ended_charted_at=ended,
        discharged_at=discharged,
        discharged_charted_at=discharged,
        signed_at=discharged if signed else None,
        signed_by=session.nurse if signed else None,
    )
