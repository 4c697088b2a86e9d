"""Superbills and statements: what was done and charged, for the patient to claim from their
insurer or keep (docs/paperwork.md#superbills-and-statements).

A superbill covers one session, one month or one year, and lists only infusions that happened
and were charted: the session completed and its chart signed. An unsigned chart is never billed
(docs/roles/nurse.md#sign-and-lock); it appears once signed. Each line has the date of service,
the code, units and charge from the price lines in force when the series was booked (what the
patient was quoted), or, for a session without a series, on the day of service. Payments come
from billing's ledger through `payments_in`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.models import PatientProfile, User
from billing.models import Appointment, Entry, LedgerEntry, Service
from billing.money import Money
from billing.prices import lines_in_force
from charting.models import InfusionRecord
from paperwork import diagnoses, estimates
from paperwork.models import ClinicIdentity
from scheduling.models import Session, Status


class BadPeriod(ValueError):
    """The period asked for is not one a superbill covers."""


@dataclass(frozen=True)
class Period:
    kind: str  # "session", "month" or "year"
    first: dt.date
    last: dt.date
    session: Session | None = None

    @property
    def key(self) -> str:
        if self.session is not None:
            return f"session:{self.session.public_id}"
        return (
            f"{self.kind}:{self.first:%Y-%m}" if self.kind == "month" else f"year:{self.first.year}"
        )


@dataclass(frozen=True)
class Payment:
    """One payment from the ledger: when, how much, how (card, cash)."""

    on: dt.date
    amount: Money
    method: str


@dataclass
class Line:
    on: dt.date
    code: str
    description: str
    units: int
    charge: Money
    location: str


@dataclass
class Superbill:
    patient: User
    period: Period
    lines: list[Line] = field(default_factory=list)
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    currency: str = "USD"

    @property
    def total(self) -> Money:
        total = Money.zero(self.currency)
        for line in self.lines:
            total += line.charge
        return total

    @property
    def paid(self) -> Money:
        total = Money.zero(self.currency)
        for payment in self.payments:
            total += payment.amount
        return total

    @property
    def balance(self) -> Money:
        return Money(self.total.amount - self.paid.amount, self.currency)


PAID_BY: dict[str, StrOrPromise] = {
    Entry.PAYMENT: gettext_lazy("Card"),
    Entry.CREDIT_USE: gettext_lazy("Package credit"),
    Entry.REFUND: gettext_lazy("Refund"),
}


def payments_in(
    patient: User, first: dt.date, last: dt.date, *, session: Session | None = None
) -> list[Payment]:
    """The patient's payments from `first` to `last` (by the local date at the location where
    each was recorded), as billing's ledger holds them: card payments and package credit used,
    less refunds (docs/paperwork.md#payments-from-the-ledger). A session's superbill shows the
    payments of that session's charges, whenever they were made. Waivers are not payments."""
    rows = LedgerEntry.objects.filter(patient=patient, kind__in=list(PAID_BY)).select_related(
        "location"
    )
    if session is not None:
        rows = rows.filter(
            charge__appointment_kind=Appointment.SESSION, charge__appointment_id=session.public_id
        )
    found = []
    for entry in rows.order_by("recorded_at", "id"):
        on = entry.recorded_at.astimezone(entry.location.zone).date()
        if session is None and not first <= on <= last:
            continue
        found.append(Payment(on, Money(-entry.amount, entry.currency), str(PAID_BY[entry.kind])))
    return found


def parse_period(patient: User, text: str) -> Period:
    """ "session:<uuid>", "month:2026-12" or "year:2026"; BadPeriod otherwise."""
    kind, _sep, value = text.partition(":")
    try:
        if kind == "month":
            first = dt.date.fromisoformat(f"{value}-01")
            following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return Period("month", first, following - dt.timedelta(days=1))
        if kind == "year":
            year = int(value)
            return Period("year", dt.date(year, 1, 1), dt.date(year, 12, 31))
        if kind == "session":
            session = (
                Session.objects.select_related("location", "series").filter(
                    public_id=value, patient=patient
                )
            ).first()
            if session is not None:
                day = session.starts_at.astimezone(session.location.zone).date()
                return Period("session", day, day, session)
    except (ValueError, OverflowError, ValidationError):
        pass
    raise BadPeriod(_("Choose a session, a month or a year."))


def billable_sessions(patient: User, period: Period) -> list[Session]:
    """Completed sessions whose chart is signed, in the period (by local date)."""
    signed = InfusionRecord.objects.filter(signed_at__isnull=False).values("session_id")
    sessions = Session.objects.filter(
        patient=patient, status=Status.COMPLETED, pk__in=signed
    ).select_related("location", "series__plan")
    if period.session is not None:
        sessions = sessions.filter(pk=period.session.pk)
    found = []
    for session in sessions.order_by("starts_at"):
        day = session.starts_at.astimezone(session.location.zone).date()
        if period.first <= day <= period.last:
            found.append(session)
    return found


def choices(patient: User) -> list[tuple[str, str]]:
    """(period key, label) for every session, month and year with something billable."""
    everything = Period("year", dt.date(1900, 1, 1), dt.date(9999, 12, 31))
    sessions = billable_sessions(patient, everything)
    found: list[tuple[str, str]] = []
    for session in sessions:
        day = session.starts_at.astimezone(session.location.zone).date()
        found.append((f"session:{session.public_id}", _("Session of %s") % f"{day:%Y-%m-%d}"))
    for month in sorted(
        {s.starts_at.astimezone(s.location.zone).strftime("%Y-%m") for s in sessions}
    ):
        found.append((f"month:{month}", _("Month %s") % month))
    for year in sorted({s.starts_at.astimezone(s.location.zone).year for s in sessions}):
        found.append((f"year:{year}", _("Year %s") % year))
    return found


def build(patient: User, period: Period) -> Superbill:
    bill = Superbill(patient=patient, period=period)
    plans = []
    for session in billable_sessions(patient, period):
        day = session.starts_at.astimezone(session.location.zone).date()
        priced_at = session.series.created_at if session.series_id else session.starts_at
        for line in lines_in_force(session.location_id, Service.INFUSION, priced_at):
            bill.currency = line.currency
            bill.lines.append(
                Line(
                    on=day,
                    code=line.code,
                    description=line.description,
                    units=line.units,
                    charge=Money(line.amount, line.currency),
                    location=session.location.name,
                )
            )
        if session.series_id and session.series.plan not in plans:
            plans.append(session.series.plan)
    for plan in plans:
        for diagnosis in estimates.plan_diagnoses(plan):
            entry = {
                "code": diagnosis.code,
                "description": diagnoses.shown(diagnosis.code, diagnosis.description),
            }
            if entry not in bill.diagnoses:
                bill.diagnoses.append(entry)
    bill.payments = payments_in(patient, period.first, period.last, session=period.session)
    return bill


def context(bill: Superbill) -> dict[str, Any]:
    profile = PatientProfile.objects.filter(user=bill.patient).first()
    clinic = ClinicIdentity.current()
    return {
        "bill": bill,
        "patient_name": bill.patient.get_full_name() or bill.patient.email,
        "date_of_birth": profile.date_of_birth if profile else None,
        "clinic": clinic,
        "lines": [{**line.__dict__, "charge_shown": str(line.charge)} for line in bill.lines],
        "payments": [
            {"on": p.on, "amount_shown": str(p.amount), "method": p.method} for p in bill.payments
        ],
        "total_shown": str(bill.total),
        "paid_shown": str(bill.paid),
        "balance_shown": str(bill.balance),
    }
