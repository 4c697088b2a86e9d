"""Good Faith Estimates made by the product (docs/paperwork.md#when-an-estimate-is-issued).

An estimate is built from "scheduled services": what is booked or planned for a patient, each
with its kind (billing.Service), count, frequency, dates, location and provider: a series'
infusions (or its booster), and its visits (`visits_of`); another kind registers its own source
(`register_source`). The items and charges come from billing's price list only
(`billing.prices.lines_in_force`, at the moment the booking was made), the diagnosis codes from
the plan (`PlanDiagnosis`), the identities from `ClinicIdentity` and `ProviderIdentity`.

Scheduling tells this module of every change of a series in the change's transaction
(`scheduling.hooks.series_changed`). The first booking opens what is owed (`EstimateDue`, with
its deadline) and issues the estimate; a later change whose scope differs (items, charges,
number, frequency, time frame, providers or diagnoses) issues a new one and marks the earlier
one superseded, which stays readable. What cannot be issued yet (no prices at the location, no
clinic identity, a clinician without an NPI) stays owed with the reason, and the desk's worklist
shows it as its deadline nears (paperwork.tasks).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import language
from accounts.models import PatientProfile, User
from billing.models import PriceLine, Service
from billing.money import Money
from billing.prices import lines_in_force
from clinic.celery import enqueue_on_commit
from intake.models import IntakeAnswer
from locations.models import Location
from notifications import services as outbox
from notifications.models import Channel
from notifications.tasks import dispatch_soon
from paperwork import deadlines, diagnoses
from paperwork.identifiers import format_tin
from paperwork.models import (
    ClinicIdentity,
    Estimate,
    EstimateDue,
    PlanDiagnosis,
    ProviderIdentity,
    Reason,
)
from review.models import TreatmentPlan
from scheduling.models import Series, Session, Visit
from worklist.models import Cause
from worklist.services import close_open_task

# A bill this far above the estimate (or more) may be disputed: 45 CFR 149.620; minor units.
DISPUTE_THRESHOLD = 400_00
EMAIL_KIND = "good_faith_estimate"


class NotReady(Exception):
    """The estimate cannot be issued yet; the message says why, for the desk."""


@dataclass(frozen=True)
class ScheduledService:
    """One kind of service planned for a patient: `count` of them, booked on `dates` so far,
    `min_days`–`max_days` apart within `span_days`, at `location`, by `provider`, priced as
    at `priced_at` (the booking's moment)."""

    kind: str
    count: int
    dates: tuple[dt.date, ...]
    location: Location
    provider: User
    priced_at: dt.datetime
    min_days: int | None = None
    max_days: int | None = None
    span_days: int | None = None

    @property
    def first(self) -> dt.date | None:
        return self.dates[0] if self.dates else None

    @property
    def last(self) -> dt.date | None:
        """The end of the time frame: the last booked date when all are booked, else the first
        date plus the plan's span."""
        if not self.dates:
            return None
        if len(self.dates) >= self.count or self.span_days is None:
            return self.dates[-1]
        return max(self.dates[-1], self.dates[0] + dt.timedelta(days=self.span_days - 1))


SeriesSource = Callable[[Series], list[ScheduledService]]
_sources: list[SeriesSource] = []


def register_source(source: SeriesSource) -> None:
    """Another kind of scheduled service (visits, boosters) adds what it plans for a series."""
    if source not in _sources:
        _sources.append(source)


def infusions_of(series: Series) -> list[ScheduledService]:
    """The series' infusions: the plan's number (or more if more are booked), the active
    sessions' local dates, the plan's spacing; the approving clinician is the provider."""
    plan = series.plan
    zone = series.location.zone
    dates = tuple(
        s.astimezone(zone).date()
        for s in Session.objects.active()
        .filter(series=series)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )
    if not dates:
        return []
    if series.is_booster:
        # A booster is billed at the booster's own lines (docs/paperwork.md#visits-and-boosters).
        return [
            ScheduledService(
                kind=Service.BOOSTER,
                count=len(dates),
                dates=dates,
                location=series.location,
                provider=plan.approved_by,
                priced_at=series.created_at,
            )
        ]
    return [
        ScheduledService(
            kind=Service.INFUSION,
            count=max(plan.infusions, len(dates)),
            dates=dates,
            location=series.location,
            provider=plan.approved_by,
            priced_at=series.created_at,
            min_days=plan.min_days_between,
            max_days=plan.max_days_between,
            span_days=plan.span_days,
        )
    ]


register_source(infusions_of)


def _visit_services(visits: list[Visit]) -> list[ScheduledService]:
    """Active visits, one scheduled service per kind and clinician: the clinician is the
    provider (with their NPI), priced as when the first was booked."""
    groups: dict[tuple[str, int], list[Visit]] = {}
    for visit in visits:
        groups.setdefault((visit.kind, visit.clinician_id), []).append(visit)
    found = []
    for (kind, _clinician), booked in groups.items():
        found.append(
            ScheduledService(
                kind=kind,  # VisitKind's values are billing.Service's
                count=len(booked),
                dates=tuple(v.starts_at.astimezone(v.location.zone).date() for v in booked),
                location=booked[0].location,
                provider=booked[0].clinician,
                priced_at=min(v.created_at for v in booked),
            )
        )
    return found


def visits_of(series: Series) -> list[ScheduledService]:
    """The follow-up (or evaluation) visits booked with the series."""
    return _visit_services(
        list(
            Visit.objects.active()
            .filter(series=series)
            .select_related("location", "clinician")
            .order_by("starts_at")
        )
    )


register_source(visits_of)


def planned_infusions(plan: TreatmentPlan, location: Location) -> ScheduledService:
    """A plan not booked yet, for an estimate the patient asks for before booking."""
    return ScheduledService(
        kind=Service.INFUSION,
        count=plan.infusions,
        dates=(),
        location=location,
        provider=plan.approved_by,
        priced_at=timezone.now(),
        min_days=plan.min_days_between,
        max_days=plan.max_days_between,
        span_days=plan.span_days,
    )


def services_of(series: Series) -> list[ScheduledService]:
    found: list[ScheduledService] = []
    for source in _sources:
        found += source(series)
    return found


# --- Who is self-pay ---------------------------------------------------------------------------


def is_self_pay(plan: TreatmentPlan) -> bool:
    """Every patient of a clinic that bills no insurance; otherwise those whose intake says
    they pay themselves (docs/paperwork.md#who-gets-one)."""
    identity = ClinicIdentity.current()
    if identity is None or not identity.submits_claims:
        return True
    answer = IntakeAnswer.objects.filter(intake=plan.intake, step="insurance").first()
    return answer is None or answer.data.get("payment") != "insurance"


# --- Diagnosis codes ---------------------------------------------------------------------------


def plan_diagnoses(plan: TreatmentPlan) -> list[PlanDiagnosis]:
    """The plan's codes; suggested from the indication (the intake's and the plan's words) the
    first time they are read."""
    found = list(plan.diagnoses.all())
    if found:
        return found
    indications: list[str] = []
    reason = IntakeAnswer.objects.filter(intake=plan.intake, step="reason").first()
    if reason is not None:
        indications += list(reason.data.get("indications", []))
    words = plan.indication.lower()
    for code, _codes in diagnoses.SUGGESTED.items():
        if code.replace("_", " ") in words or (code == "ptsd" and "stress" in words):
            indications.insert(0, code)
    rows = [
        PlanDiagnosis(plan=plan, code=code, description=text, position=n, suggested=True)
        for n, (code, text) in enumerate(diagnoses.suggested_for(indications))
    ]
    PlanDiagnosis.objects.bulk_create(rows, ignore_conflicts=True)
    return list(plan.diagnoses.all())


# --- Building the content ------------------------------------------------------------------------


def _line(line: PriceLine) -> dict[str, Any]:
    return {
        "code": line.code,
        "description": line.description,
        "units": line.units,
        "amount": line.amount,
        "currency": line.currency,
    }


def _provider(user: User, clinic: ClinicIdentity, location: Location) -> dict[str, Any]:
    identity = ProviderIdentity.objects.filter(user=user).first()
    if identity is None:
        raise NotReady(f"The clinician {user.get_full_name() or user.pk} has no NPI on file.")
    name = user.get_full_name()
    if identity.credentials:
        name = f"{name}, {identity.credentials}"
    return {
        "name": name,
        "npi": identity.npi,
        "tin": format_tin(identity.tin or clinic.tin),
        "location": location.name,
        "address": location.address,
    }


def build_content(
    patient: User, plan: TreatmentPlan, services: list[ScheduledService]
) -> tuple[dict[str, Any], Money]:
    """Everything the estimate prints, and its total. NotReady says what is missing."""
    clinic = ClinicIdentity.current()
    if clinic is None:
        raise NotReady("The clinic's billing identity (legal name, NPI, TIN) is not set.")
    profile = PatientProfile.objects.filter(user=patient).first()
    providers: list[dict[str, Any]] = [
        {
            "name": clinic.legal_name,
            "npi": clinic.npi,
            "tin": format_tin(clinic.tin),
            "location": services[0].location.name,
            "address": services[0].location.address or clinic.address,
        }
    ]
    items = []
    total: Money | None = None
    for service in services:
        lines = list(lines_in_force(service.location.pk, service.kind, service.priced_at))
        if not lines:
            raise NotReady(f"No prices for {service.kind} at {service.location.name}.")
        each = Money.zero(lines[0].currency)
        for line in lines:
            each += Money(line.amount, line.currency)
        provider = _provider(service.provider, clinic, service.location)
        if provider not in providers:
            providers.append(provider)
        subtotal = each * service.count
        total = subtotal if total is None else total + subtotal
        items.append(
            {
                "kind": service.kind,
                "count": service.count,
                "dates": [d.isoformat() for d in service.dates],
                "first": service.first.isoformat() if service.first else "",
                "last": service.last.isoformat() if service.last else "",
                "min_days": service.min_days,
                "max_days": service.max_days,
                "span_days": service.span_days,
                "location": service.location.name,
                "provider": providers.index(provider),
                "lines": [_line(line) for line in lines],
                "each": each.amount,
                "subtotal": subtotal.amount,
            }
        )
    assert total is not None
    first_dates = [s.first for s in services if s.first]
    content = {
        "patient": {
            "name": patient.get_full_name() or patient.email,
            "date_of_birth": profile.date_of_birth.isoformat() if profile else "",
        },
        "clinic": {
            "legal_name": clinic.legal_name,
            "npi": clinic.npi,
            "tin": format_tin(clinic.tin),
            "address": clinic.address,
            "phone": clinic.phone,
            "email": clinic.email,
        },
        "providers": providers,
        "diagnoses": [{"code": d.code, "description": d.description} for d in plan_diagnoses(plan)],
        "primary": {
            "kind": services[0].kind,
            "date": min(first_dates).isoformat() if first_dates else "",
        },
        "items": items,
        "total": total.amount,
        "currency": total.currency,
        "time_zone": services[0].location.time_zone,
    }
    return content, total


def scope_hash(content: dict[str, Any]) -> str:
    """What a change of scope compares: everything but the patient's own details (a new name
    alone is no new estimate)."""
    scope = {key: value for key, value in content.items() if key != "patient"}
    return hashlib.sha256(json.dumps(scope, sort_keys=True).encode()).hexdigest()


# --- Issuing -----------------------------------------------------------------------------------


def _issue(
    *,
    patient: User,
    plan: TreatmentPlan,
    location: Location,
    series: Series | None,
    services: list[ScheduledService],
    reason: str,
    previous: Estimate | None,
) -> Estimate:
    content, total = build_content(patient, plan, services)
    now = timezone.now()
    if previous is not None:
        Estimate.objects.filter(pk=previous.pk, superseded_at__isnull=True).update(
            superseded_at=now
        )
    estimate = Estimate.objects.create(
        patient=patient,
        series=series,
        plan=plan,
        location=location,
        reason=reason,
        language=language.of_patient(patient),
        issued_at=now,
        content=content,
        total_amount=total.amount,
        currency=total.currency,
        scope_hash=scope_hash(content),
        supersedes=previous,
    )
    outbox.enqueue(
        channel=Channel.EMAIL,
        kind=EMAIL_KIND,
        group=f"estimate:{estimate.pk}",
        send_at=now,
        context={"estimate": estimate.pk},
    )
    dispatch_soon()
    from paperwork import tasks  # tasks -> sweep -> estimates: imported when first used

    enqueue_on_commit(tasks.store_estimate_pdf, estimate.pk)
    return estimate


def _about(series: Series | None, patient: User) -> str:
    return f"series:{series.pk}" if series is not None else f"patient:{patient.pk}"


def _fulfil(dues: list[EstimateDue], estimate: Estimate) -> None:
    EstimateDue.objects.filter(pk__in=[d.pk for d in dues]).update(estimate=estimate, problem="")
    close_open_task(
        Cause.ESTIMATE_DUE,
        _about(estimate.series, estimate.patient),
        None,
        f"Estimate {estimate.reference} issued.",
    )


def _locked_series(pk: int) -> Series:
    """The series' row serialises two issuers of one series (a patient's request beside a
    booking change): taken last on a booking path, which holds its location and sessions
    already, and alone on a request (docs/architecture.md#the-lock-order)."""
    return (
        Series.objects.select_for_update(of=("self",))
        .select_related("plan__approved_by", "location", "patient")
        .get(pk=pk)
    )


def on_series_changed(series: Series) -> Estimate | None:
    """Scheduling's hook, in the change's transaction: issue the series' estimate, or reissue it
    when its scope changed; None when nothing was issued (not self-pay, nothing changed, or not
    ready: then it stays owed, with its deadline)."""
    series = _locked_series(series.pk)
    if not is_self_pay(series.plan):
        return None
    services = services_of(series)
    open_dues = list(EstimateDue.objects.open().filter(series=series).select_for_update())
    if not services:
        EstimateDue.objects.filter(pk__in=[d.pk for d in open_dues]).update(
            withdrawn_at=timezone.now()
        )
        close_open_task(Cause.ESTIMATE_DUE, _about(series, series.patient), None, "Cancelled.")
        return None
    location = series.location
    today = location.local_today()
    first = min(s.first for s in services if s.first)
    current = Estimate.objects.current().filter(series=series).first()
    if current is None:
        reason = Reason.SCHEDULED
        due_on = deadlines.due_after_scheduling(location, today, first)
    else:
        try:
            content, _total = build_content(series.patient, series.plan, services)
        except NotReady:
            content = {}
        if content and scope_hash(content) == current.scope_hash:
            return None
        reason = Reason.CHANGED
        due_on = deadlines.due_after_change(location, today, first)
    if not open_dues:
        open_dues = [
            EstimateDue.objects.create(
                patient=series.patient,
                series=series,
                location=location,
                reason=reason,
                due_on=due_on,
                service_on=first,
            )
        ]
    try:
        with transaction.atomic():
            estimate = _issue(
                patient=series.patient,
                plan=series.plan,
                location=location,
                series=series,
                services=services,
                reason=reason,
                previous=current,
            )
    except NotReady as problem:
        EstimateDue.objects.filter(pk__in=[d.pk for d in open_dues]).update(
            problem=str(problem)[:200]
        )
        return None
    _fulfil(open_dues, estimate)
    return estimate


def on_patient_visits_changed(patient: User) -> Estimate | None:
    """The patient's visits outside any series (an evaluation before a plan is booked): one
    estimate of the patient, issued at the first booking and reissued when its scope changes,
    the earlier one kept superseded (docs/paperwork.md#visits-and-boosters). It needs the
    patient's treatment plan for its diagnosis codes; without one nothing is issued."""
    plan = TreatmentPlan.objects.filter(patient=patient).order_by("-pk").first()
    if plan is None or not is_self_pay(plan):
        return None
    visits = list(
        Visit.objects.active()
        .filter(patient=patient, series__isnull=True)
        .select_related("location", "clinician")
        .order_by("starts_at")
    )
    services = _visit_services(visits)
    if not services:
        return None
    location = services[0].location
    current = Estimate.objects.current().filter(patient=patient, series__isnull=True).first()
    try:
        content, _total = build_content(patient, plan, services)
    except NotReady:
        content = {}
    if current is not None and content and scope_hash(content) == current.scope_hash:
        return None
    reason = Reason.SCHEDULED if current is None else Reason.CHANGED
    first = min(s.first for s in services if s.first)
    today = location.local_today()
    due = EstimateDue.objects.open().filter(patient=patient, series__isnull=True).first()
    if due is None:
        due = EstimateDue.objects.create(
            patient=patient,
            location=location,
            reason=reason,
            due_on=(
                deadlines.due_after_scheduling(location, today, first)
                if current is None
                else deadlines.due_after_change(location, today, first)
            ),
            service_on=first,
        )
    try:
        with transaction.atomic():
            estimate = _issue(
                patient=patient,
                plan=plan,
                location=location,
                series=None,
                services=services,
                reason=reason,
                previous=current,
            )
    except NotReady as problem:
        EstimateDue.objects.filter(pk=due.pk).update(problem=str(problem)[:200])
        return None
    _fulfil([due], estimate)
    return estimate


def on_visit_changed(sender: type, instance: Visit, **kwargs: Any) -> None:
    """scheduling.signals' visit_booked/moved/cancelled, after the change's commit: the
    series' estimate for a visit of a series, else the patient's own."""
    with transaction.atomic():
        visit = Visit.objects.select_related("series", "patient").filter(pk=instance.pk).first()
        if visit is None:
            return
        if visit.series is not None:
            on_series_changed(visit.series)
        else:
            on_patient_visits_changed(visit.patient)


def on_booster_changed(sender: type, instance: Session, **kwargs: Any) -> None:
    """scheduling.signals' booster_booked/moved/cancelled, after the change's commit."""
    with transaction.atomic():
        session = Session.objects.select_related("series").filter(pk=instance.pk).first()
        if session is not None:
            on_series_changed(session.series)


def retry_due(due: EstimateDue) -> Estimate | None:
    """Try again to issue what is owed (after the prices or identities were set)."""
    if due.series_id is not None:
        return on_series_changed(due.series) if due.series else None
    return request_estimate(due.patient, owed=due)


@transaction.atomic
def request_estimate(patient: User, *, owed: EstimateDue | None = None) -> Estimate | None:
    """The patient asks for an estimate (45 CFR 149.610(b)(1)(iii)): the current one of their
    booked series is reissued if anything changed, else it stands and is sent again; with no
    series booked, one is issued from the active plan. Owed within 3 business days."""
    plan = TreatmentPlan.objects.active().filter(patient=patient).select_related("intake").first()
    if plan is None:
        return None
    series = (
        Series.objects.filter(plan=plan, status=Series.SeriesStatus.ACTIVE)
        .select_related("location")
        .order_by("-created_at")
        .first()
    )
    if series is not None:
        estimate = on_series_changed(series)
        current = estimate or Estimate.objects.current().filter(series=series).first()
        if current is not None and estimate is None:
            outbox.enqueue(
                channel=Channel.EMAIL,
                kind=EMAIL_KIND,
                group=f"estimate:{current.pk}",
                send_at=timezone.now(),
                context={"estimate": current.pk},
            )
            dispatch_soon()
        return current
    location = _location_of(patient)
    if location is None:
        return None
    due = owed or EstimateDue.objects.create(
        patient=patient,
        location=location,
        reason=Reason.REQUESTED,
        due_on=deadlines.due_after_request(location, location.local_today()),
    )
    previous = Estimate.objects.current().filter(patient=patient, series__isnull=True).first()
    try:
        with transaction.atomic():
            estimate = _issue(
                patient=patient,
                plan=plan,
                location=location,
                series=None,
                services=[planned_infusions(plan, location)],
                reason=Reason.REQUESTED,
                previous=previous,
            )
    except NotReady as problem:
        EstimateDue.objects.filter(pk=due.pk).update(problem=str(problem)[:200])
        return None
    _fulfil([due], estimate)
    return estimate


def _location_of(patient: User) -> Location | None:
    profile = PatientProfile.objects.filter(user=patient).select_related("preferred_location")
    found = profile.first()
    if found is not None and found.preferred_location is not None:
        return found.preferred_location
    return Location.objects.filter(is_active=True).order_by("pk").first()


def acknowledge(estimate: Estimate) -> bool:
    """The patient says they received it; True the first time."""
    return bool(
        Estimate.objects.filter(pk=estimate.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now()
        )
    )


# --- Bills against the estimate ----------------------------------------------------------------


def over_estimate(about: User | Series, billed: Money) -> bool:
    """Whether a bill of `billed` reaches the current estimate plus $400, the amount from which
    the patient may dispute it (45 CFR 149.620); False when there is no estimate to compare with.
    `about` is the series billed, or a patient (their latest current estimate). The ledger
    (payments, in billing) calls this when it bills (docs/paperwork.md#bills-above-the-estimate).
    """
    estimates = Estimate.objects.current()
    if isinstance(about, Series):
        estimate = estimates.filter(series=about).first()
    else:
        estimate = estimates.filter(patient=about).first()
    if estimate is None or estimate.currency != billed.currency:
        return False
    return billed.amount >= estimate.total_amount + DISPUTE_THRESHOLD
