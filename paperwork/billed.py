"""Bills against the Good Faith Estimate: when billing records a charge, what was billed for the
series (or, without one, for the patient) is compared with the current estimate; a bill that
reaches the estimate plus $400 is one the patient may dispute (45 CFR 149.620), so the desk sees
it: a worklist task and a mark on the patient page (docs/paperwork.md#bills-above-the-estimate).

Billing sits below this app and cannot call it: `PaperworkConfig.ready` registers this module
with `billing.hooks` (docs/architecture.md#signal-wiring). It runs in the charge's transaction.
"""

from __future__ import annotations

from django.db.models import Q, Sum
from django.urls import reverse

from accounts.models import User
from billing.models import Appointment, Charge, Entry, LedgerEntry, Purpose
from billing.money import Money
from paperwork.estimates import _about, over_estimate
from scheduling.models import Series, Session, Visit
from worklist.models import Cause
from worklist.services import open_task

# What a bill is: the charges less what was waived or reversed (payments do not change it).
BILLED = (Entry.CHARGE, Entry.WAIVER, Entry.REVERSAL)


def series_of(charge: Charge) -> Series | None:
    """The series a charge is about: its own, its session's, or its visit's."""
    if charge.appointment_kind == Appointment.SERIES:
        return Series.objects.filter(public_id=charge.appointment_id).first()
    if charge.appointment_kind == Appointment.SESSION:
        session = Session.objects.filter(public_id=charge.appointment_id).first()
        return session.series if session is not None else None
    if charge.appointment_kind == Appointment.VISIT:
        visit = Visit.objects.filter(public_id=charge.appointment_id).first()
        return visit.series if visit is not None else None
    return None


def billed(patient: User, series: Series | None, currency: str) -> Money:
    """What the ledger has billed for the series' appointments (or all the patient's)."""
    rows = LedgerEntry.objects.filter(
        patient=patient, kind__in=BILLED, currency=currency, charge__isnull=False
    ).exclude(charge__purpose=Purpose.PACKAGE)
    if series is not None:
        sessions = Session.objects.filter(series=series).values("public_id")
        visits = Visit.objects.filter(series=series).values("public_id")
        rows = rows.filter(
            Q(charge__appointment_kind=Appointment.SERIES, charge__appointment_id=series.public_id)
            | Q(charge__appointment_kind=Appointment.SESSION, charge__appointment_id__in=sessions)
            | Q(charge__appointment_kind=Appointment.VISIT, charge__appointment_id__in=visits)
        )
    return Money(rows.aggregate(total=Sum("amount"))["total"] or 0, currency)


def on_charge_recorded(charge: Charge) -> None:
    if charge.purpose == Purpose.PACKAGE:
        return  # a package paid ahead is not a bill for a service
    patient = User.objects.get(pk=charge.patient_id)
    series = series_of(charge)
    total = billed(patient, series, charge.currency)
    if not over_estimate(series if series is not None else patient, total):
        return
    open_task(
        Cause.OVER_ESTIMATE,
        _about(series, patient),
        subject=f"Billed {total}, $400 or more above the Good Faith Estimate",
        detail="The patient may dispute the bill; review the charges against the estimate.",
        link=reverse("scheduling:patient", args=[patient.public_id]),
        location_pk=charge.location_id,
    )
