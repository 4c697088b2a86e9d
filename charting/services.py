"""The infusion day: check-in, dose confirmation, vitals, stopping early, discharge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from charting import rules
from charting.models import InfusionRecord, VitalSign
from review.models import DosePreview, TreatmentPlan
from scheduling import reminders
from scheduling.models import UPCOMING_STATUSES, Session, Status


class ChartingError(Exception):
    pass


def dose(record_or_weight: Decimal, plan: TreatmentPlan) -> DosePreview:
    return DosePreview.compute(record_or_weight, plan.dose_mg_per_kg, plan.dose_cap_mg)


@transaction.atomic
def check_in(
    session: Session,
    nurse: User,
    *,
    escort_name: str,
    escort_phone: str,
    weight_kg: Decimal,
    pain_before: int,
    pregnancy_possible: bool | None,
    vitals: rules.Vitals,
) -> InfusionRecord:
    """Check the patient in (fasting and escort already confirmed by the form)."""
    session = Session.objects.select_for_update().select_related("series__plan").get(pk=session.pk)
    if session.status not in UPCOMING_STATUSES:
        raise ChartingError(f"This session is {session.get_status_display().lower()}.")
    plan = session.series.plan
    preview = dose(weight_kg, plan)
    now = timezone.now()
    record = InfusionRecord.objects.create(
        session=session,
        nurse=nurse,
        checked_in_at=now,
        fasting_confirmed=True,
        escort_name=escort_name,
        escort_phone=escort_phone,
        pregnancy_possible=pregnancy_possible,
        weight_kg=weight_kg,
        pain_before=pain_before,
        dose_mg_per_kg=plan.dose_mg_per_kg,
        dose_cap_mg=plan.dose_cap_mg,
        dose_mg=preview.dose_mg,
    )
    record_vitals(record, nurse, vitals, VitalSign.Phase.BASELINE, taken_at=now)
    session.status = Status.CHECKED_IN
    session.status_changed_at = now
    session.save(update_fields=["status", "status_changed_at"])
    return record


def record_vitals(
    record: InfusionRecord,
    nurse: User,
    vitals: rules.Vitals,
    phase: str,
    *,
    taken_at: dt.datetime | None = None,
) -> VitalSign:
    location = record.session.location
    return VitalSign.objects.create(
        record=record,
        taken_at=taken_at or timezone.now(),
        phase=phase,
        systolic=vitals.systolic,
        diastolic=vitals.diastolic,
        pulse=vitals.pulse,
        spo2=vitals.spo2,
        resp_rate=vitals.resp_rate,
        alerts=rules.alerts(vitals, rules.Thresholds.of(location)),
        recorded_by=nurse,
    )


@transaction.atomic
def confirm_dose_and_start(record: InfusionRecord) -> InfusionRecord:
    """The nurse confirms the dose shown with its arithmetic; the infusion starts."""
    record = InfusionRecord.objects.select_for_update().get(pk=record.pk)
    if record.infusion_started_at is not None:
        raise ChartingError("The infusion has already started.")
    now = timezone.now()
    record.dose_confirmed_at = now
    record.infusion_started_at = now
    record.save(update_fields=["dose_confirmed_at", "infusion_started_at"])
    Session.objects.filter(pk=record.session_id).update(
        status=Status.IN_CHAIR, status_changed_at=now
    )
    return record


@transaction.atomic
def end_infusion(record: InfusionRecord, *, stopped_early_reason: str = "") -> InfusionRecord:
    record = InfusionRecord.objects.select_for_update().get(pk=record.pk)
    if record.infusion_started_at is None or record.infusion_ended_at is not None:
        raise ChartingError("There is no running infusion to end.")
    record.infusion_ended_at = timezone.now()
    record.stopped_early_reason = stopped_early_reason
    record.save(update_fields=["infusion_ended_at", "stopped_early_reason"])
    return record


def latest_vitals(record: InfusionRecord) -> tuple[rules.Vitals | None, rules.Vitals | None]:
    readings = list(record.vitals.order_by("taken_at"))
    baseline = next((v for v in readings if v.phase == VitalSign.Phase.BASELINE), None)
    after = [v for v in readings if v.phase != VitalSign.Phase.BASELINE]
    return (
        baseline.as_vitals() if baseline else None,
        after[-1].as_vitals() if after else None,
    )


@transaction.atomic
def discharge(
    record: InfusionRecord, checklist: rules.Discharge, pain_after: int
) -> InfusionRecord:
    """Discharge when the checklist holds; completes the session and plans its follow-up."""
    record = InfusionRecord.objects.select_for_update().select_related("session").get(pk=record.pk)
    if record.infusion_ended_at is None:
        raise ChartingError("End the infusion before discharging.")
    baseline, latest = latest_vitals(record)
    problems = rules.discharge_problems(checklist, latest, baseline)
    if problems:
        raise ChartingError(" ".join(problems))
    now = timezone.now()
    record.alert_and_oriented = checklist.alert_and_oriented
    record.escort_present_at_discharge = checklist.escort_present
    record.instructions_given = checklist.instructions_given
    record.pain_after = pain_after
    record.discharged_at = now
    record.save()
    session = record.session
    session.status = Status.COMPLETED
    session.status_changed_at = now
    session.save(update_fields=["status", "status_changed_at"])
    reminders.on_session_completed(session, now)
    return record
