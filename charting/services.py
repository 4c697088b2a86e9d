"""The infusion day as a record: check-in, start, vitals, observations, end, discharge, sign-off.

Every step takes the instant it happened (entered, or now) and is checked against the timeline
rules (charting.rules) under a row lock, so two nurses on one chart cannot interleave. Locks are
taken in one order everywhere: the session first, then its record. A signed chart refuses every
change here and in the database (migration 0005); corrections are addenda.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from charting import rules
from charting.models import Addendum, InfusionRecord, Observation, VitalSign, WorkUp
from intake.models import Intake
from messaging import reminders
from review.models import DosePreview, TreatmentPlan
from scheduling import hooks, visits
from scheduling.models import Session, Status


class ChartingError(Exception):
    """A step that cannot be charted; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def dose(record_or_weight: Decimal, plan: TreatmentPlan) -> DosePreview:
    return DosePreview.compute(record_or_weight, plan.dose_mg_per_kg, plan.dose_cap_mg)


def clock(session: Session, now: dt.datetime | None = None) -> rules.Clock:
    location = session.location
    return rules.Clock(
        now=now or timezone.now(),
        zone=location.zone,
        day=session.local_start().date(),
        late_hours=location.late_charting_hours,
    )


def _when(session: Session, value: dt.time | None) -> tuple[dt.datetime, dt.datetime]:
    """(when it happened, when it is charted), or ChartingError on the time field."""
    times = clock(session)
    moment = times.moment(value)
    _refuse(times.problems(moment), "time")
    return moment, times.now


def _refuse(problems: list[str], field: str | None = None) -> None:
    if problems:
        raise ChartingError(" ".join(problems), field)


def _locked(record: InfusionRecord) -> tuple[Session, InfusionRecord]:
    """Lock the session, then the record (the one lock order), and refuse a signed chart."""
    session = (
        Session.objects.select_for_update()
        .select_related("location", "series__plan")
        .get(pk=record.session_id)
    )
    record = InfusionRecord.objects.select_for_update().get(pk=record.pk)
    record.session = session
    if record.is_signed:
        raise ChartingError("This chart is signed: add an addendum to correct or add to it.")
    return session, record


@dataclass(frozen=True)
class Fasting:
    last_solid_food_at: dt.datetime
    last_clear_liquid_at: dt.datetime


@transaction.atomic
def check_in(
    session: Session,
    nurse: User,
    *,
    escort_name: str,
    escort_phone: str,
    weight_kg: Decimal,
    weight_unit: str = "kg",
    pain_before: int,
    pregnancy_possible: bool | None,
    vitals: rules.Vitals,
    fasting: Fasting | None = None,
    time: dt.time | None = None,
) -> InfusionRecord:
    """Check the patient in (fasting and escort already confirmed by the form)."""
    session = (
        Session.objects.select_for_update()
        .select_related("series__plan", "location")
        .get(pk=session.pk)
    )
    if session.status not in (Status.BOOKED, Status.CONFIRMED):
        raise ChartingError(f"This session is {session.get_status_display().lower()}.")
    at, now = _when(session, time)
    # The version in force at check-in: a revision since the booking doses this session
    # (docs/visits.md#plan-revisions).
    plan = session.series.plan.in_force()
    preview = dose(weight_kg, plan)
    record = InfusionRecord.objects.create(
        session=session,
        nurse=nurse,
        checked_in_at=at,
        checked_in_charted_at=now,
        fasting_confirmed=True,
        last_solid_food_at=fasting.last_solid_food_at if fasting else None,
        last_clear_liquid_at=fasting.last_clear_liquid_at if fasting else None,
        escort_name=escort_name,
        escort_phone=escort_phone,
        pregnancy_possible=pregnancy_possible,
        weight_kg=weight_kg,
        weight_unit=weight_unit,
        pain_before=pain_before,
        planned_infusion=dt.timedelta(minutes=plan.infusion_minutes),
        min_recovery=dt.timedelta(minutes=session.location.min_recovery_minutes),
        dose_mg_per_kg=plan.dose_mg_per_kg,
        dose_cap_mg=plan.dose_cap_mg,
        dose_mg=preview.dose_mg,
    )
    VitalSign.objects.create(
        record=record,
        taken_at=at,
        charted_at=now,
        phase=VitalSign.Phase.BASELINE,
        **_reading(vitals, session),
        recorded_by=nurse,
    )
    session.status = Status.CHECKED_IN
    session.status_changed_at = now
    session.save(update_fields=["status", "status_changed_at"])
    return record


def _reading(vitals: rules.Vitals, session: Session) -> dict[str, object]:
    return {
        "systolic": vitals.systolic,
        "diastolic": vitals.diastolic,
        "pulse": vitals.pulse,
        "spo2": vitals.spo2,
        "resp_rate": vitals.resp_rate,
        "alerts": rules.alerts(vitals, rules.Thresholds.of(session.location)),
    }


@transaction.atomic
def confirm_dose_and_start(
    record: InfusionRecord, *, time: dt.time | None = None
) -> InfusionRecord:
    """The nurse confirms the dose shown with its arithmetic; the infusion starts then."""
    session, record = _locked(record)
    if record.infusion_started_at is not None:
        raise ChartingError("The infusion has already started.")
    at, now = _when(session, time)
    zone = session.location.zone
    _refuse(rules.start_problems(record.checked_in_at, at, zone), "time")
    record.dose_confirmed_at = at
    record.infusion_started_at = at
    record.started_charted_at = now
    record.save(update_fields=["dose_confirmed_at", "infusion_started_at", "started_charted_at"])
    session.status = Status.IN_CHAIR
    session.status_changed_at = now
    session.save(update_fields=["status", "status_changed_at"])
    return record


def current_phase(record: InfusionRecord) -> str:
    return VitalSign.Phase.RECOVERY if record.infusion_ended_at else VitalSign.Phase.INFUSION


@transaction.atomic
def record_vitals(
    record: InfusionRecord,
    nurse: User,
    vitals: rules.Vitals,
    phase: str | None = None,
    *,
    time: dt.time | None = None,
) -> VitalSign:
    """A reading during the infusion or in recovery, timed inside the phase it belongs to."""
    session, record = _locked(record)
    if record.infusion_started_at is None:
        raise ChartingError("Start the infusion first; baseline vitals are part of check-in.")
    if record.discharged_at is not None:
        raise ChartingError("The patient has been discharged: add an addendum instead.")
    phase = phase or current_phase(record)
    at, now = _when(session, time)
    zone = session.location.zone
    if phase == VitalSign.Phase.RECOVERY:
        if record.infusion_ended_at is None:
            raise ChartingError("Recovery starts when the infusion ends.", "phase")
        _refuse(rules.not_before(at, record.infusion_ended_at, "the infusion ended", zone), "time")
    else:
        _refuse(
            rules.not_before(at, record.infusion_started_at, "the infusion started", zone), "time"
        )
        if record.infusion_ended_at is not None and at > record.infusion_ended_at:
            raise ChartingError("That time is after the infusion ended: choose Recovery.", "phase")
    return VitalSign.objects.create(
        record=record,
        taken_at=at,
        charted_at=now,
        phase=phase,
        **_reading(vitals, session),
        recorded_by=nurse,
    )


@transaction.atomic
def add_observations(
    record: InfusionRecord,
    nurse: User,
    *,
    side_effects: list[str],
    intervention: str,
    time: dt.time | None = None,
) -> list[Observation]:
    """Side effects seen and an intervention given, at the time they happened."""
    session, record = _locked(record)
    if record.discharged_at is not None:
        raise ChartingError("The patient has been discharged: add an addendum instead.")
    at, now = _when(session, time)
    _refuse(rules.not_before(at, record.checked_in_at, "check-in", session.location.zone), "time")
    rows = [
        Observation(
            record=record,
            kind=Observation.Kind.SIDE_EFFECT,
            side_effect=code,
            at=at,
            charted_at=now,
            charted_by=nurse,
        )
        for code in side_effects
    ]
    if intervention.strip():
        rows.append(
            Observation(
                record=record,
                kind=Observation.Kind.INTERVENTION,
                text=intervention.strip(),
                at=at,
                charted_at=now,
                charted_by=nurse,
            )
        )
    if not rows:
        raise ChartingError("Tick a side effect or describe the intervention.")
    return Observation.objects.bulk_create(rows)


@transaction.atomic
def end_infusion(
    record: InfusionRecord, *, stopped_early_reason: str = "", time: dt.time | None = None
) -> InfusionRecord:
    """End the infusion; ending before the planned minutes needs the reason it stopped early."""
    session, record = _locked(record)
    if record.infusion_started_at is None or record.infusion_ended_at is not None:
        raise ChartingError("There is no running infusion to end.")
    at, now = _when(session, time)
    zone = session.location.zone
    _refuse(rules.not_before(at, record.infusion_started_at, "the infusion started", zone), "time")
    planned = rules.whole_minutes(record.planned_infusion)
    _refuse(
        rules.end_problems(record.infusion_started_at, at, planned, stopped_early_reason),
        "stopped_early_reason",
    )
    record.infusion_ended_at = at
    record.ended_charted_at = now
    record.stopped_early_reason = stopped_early_reason.strip()
    record.save(update_fields=["infusion_ended_at", "ended_charted_at", "stopped_early_reason"])
    return record


def latest_vitals(record: InfusionRecord) -> tuple[rules.Vitals | None, rules.Vitals | None]:
    readings = list(record.vitals.order_by("taken_at", "pk"))
    baseline = next((v for v in readings if v.phase == VitalSign.Phase.BASELINE), None)
    after = [v for v in readings if v.phase != VitalSign.Phase.BASELINE]
    return (
        baseline.as_vitals() if baseline else None,
        after[-1].as_vitals() if after else None,
    )


@dataclass(frozen=True)
class Discharged:
    record: InfusionRecord
    changed: bool


@transaction.atomic
def discharge(
    record: InfusionRecord,
    checklist: rules.Discharge,
    pain_after: int,
    *,
    time: dt.time | None = None,
    short_recovery_reason: str = "",
) -> Discharged:
    """Discharge when the checklist and the recovery time hold; completes the session and plans
    its follow-up. A second discharge changes nothing and says so (`changed` is False)."""
    session = (
        Session.objects.select_for_update().select_related("location").get(pk=record.session_id)
    )
    record = InfusionRecord.objects.select_for_update().get(pk=record.pk)
    record.session = session
    if record.discharged_at is not None:
        return Discharged(record, changed=False)
    if record.is_signed:  # pragma: no cover - a signed chart is always discharged
        raise ChartingError("This chart is signed.")
    if record.infusion_ended_at is None:
        raise ChartingError("End the infusion before discharging.")
    at, now = _when(session, time)
    zone = session.location.zone
    _refuse(rules.not_before(at, record.infusion_ended_at, "the infusion ended", zone), "time")
    baseline, latest = latest_vitals(record)
    _refuse(rules.discharge_problems(checklist, latest, baseline))
    _refuse(
        rules.recovery_problems(
            record.infusion_ended_at,
            at,
            rules.whole_minutes(record.min_recovery),
            short_recovery_reason,
        ),
        "short_recovery_reason",
    )
    record.alert_and_oriented = checklist.alert_and_oriented
    record.escort_present_at_discharge = checklist.escort_present
    record.instructions_given = checklist.instructions_given
    record.pain_after = pain_after
    record.discharged_at = at
    record.discharged_charted_at = now
    record.short_recovery_reason = short_recovery_reason.strip()
    record.save()
    session.status = Status.COMPLETED
    session.status_changed_at = now
    session.save(update_fields=["status", "status_changed_at"])
    reminders.on_session_completed(session, at)
    hooks.billing().on_session_completed(session)
    # A follow-up visit due after N sessions (docs/visits.md#follow-up-after-n-sessions).
    visits.on_session_completed(session)
    return Discharged(record, changed=True)


@dataclass(frozen=True)
class SignOffGaps:
    """What the record does not show, by what it takes to sign anyway."""

    missing: list[str]  # a second member of staff co-signs, with their reason
    timing: str | None  # the nurse explains

    def __bool__(self) -> bool:
        return bool(self.missing or self.timing)


def sign_off_gaps(record: InfusionRecord, session: Session) -> SignOffGaps:
    """The record against the location's rules (charting.rules): readings at the set cadence
    from the infusion's start to discharge, every alert answered by an intervention or a note,
    and a check-in near the booked start."""
    location = session.location
    zone = location.zone
    missing: list[str] = []
    vitals = list(record.vitals.all())
    if record.infusion_started_at and record.discharged_at:
        missing += rules.vitals_gaps(
            [v.taken_at for v in vitals],
            record.infusion_started_at,
            record.discharged_at,
            location.vitals_every_minutes,
            zone,
        )
    if record.discharged_at:
        answers = [o.at for o in record.observations.filter(kind=Observation.Kind.INTERVENTION)]
        missing += rules.unanswered_alerts(
            [(v.taken_at, list(v.alerts)) for v in vitals], answers, record.discharged_at, zone
        )
    timing = rules.far_from_booking(
        record.checked_in_at, session.starts_at, location.chart_far_from_booking_minutes, zone
    )
    return SignOffGaps(missing, timing)


@transaction.atomic
def sign(
    record: InfusionRecord,
    nurse: User,
    *,
    timing_reason: str = "",
    cosigner: User | None = None,
    cosigner_reason: str = "",
) -> bool:
    """The nurse signs the completed chart; from then on it cannot change. False when it was
    already signed (nothing changes).

    The record is checked first (`sign_off_gaps`) and each gap named: a check-in far from the
    booking needs the nurse's reason, a missing reading or an unanswered alert a second member
    of staff who co-signs with a reason. What was missing is kept on the signed record.
    """
    session = (
        Session.objects.select_for_update().select_related("location").get(pk=record.session_id)
    )
    record = InfusionRecord.objects.select_for_update().get(pk=record.pk)
    if record.is_signed:
        return False
    if record.discharged_at is None:
        raise ChartingError("Discharge the patient before signing the chart.")
    gaps = sign_off_gaps(record, session)
    problems = []
    if gaps.timing and not timing_reason.strip():
        problems.append(gaps.timing)
    if gaps.missing and (cosigner is None or not cosigner_reason.strip()):
        problems += gaps.missing
        problems.append(
            "To sign the chart as it is, a co-signer from the staff gives the reason; "
            "otherwise chart what is missing first."
        )
    if cosigner is not None and cosigner.pk == nurse.pk:
        problems.append("The co-signer is someone other than the nurse who signs.")
    if problems:
        raise ChartingError("Not signed yet. " + " ".join(problems))
    record.signed_at = timezone.now()
    record.signed_by = nurse
    record.cosign_required = session.location.chart_cosign_required
    record.signed_gaps = gaps.missing
    record.timing_reason = timing_reason.strip() if gaps.timing else ""
    if gaps.missing:
        record.incomplete_cosigner = cosigner
        record.incomplete_reason = cosigner_reason.strip()
    record.save(
        update_fields=[
            "signed_at",
            "signed_by",
            "cosign_required",
            "signed_gaps",
            "timing_reason",
            "incomplete_cosigner",
            "incomplete_reason",
        ]
    )
    return True


@transaction.atomic
def cosign(record: InfusionRecord, clinician: User) -> InfusionRecord:
    record = InfusionRecord.objects.select_for_update().get(pk=record.pk)
    if not record.waiting_for_cosign:
        raise ChartingError("This chart is not waiting for a co-signature.")
    record.cosigned_at = timezone.now()
    record.cosigned_by = clinician
    record.save(update_fields=["cosigned_at", "cosigned_by"])
    return record


def add_addendum(record: InfusionRecord, author: User, *, reason: str, text: str) -> Addendum:
    """A correction or late entry: kept in order with who wrote it, when and why."""
    if not record.is_signed:
        raise ChartingError("Chart it directly until the chart is signed; addenda come after.")
    return Addendum.objects.create(
        record=record, written_by=author, reason=reason.strip(), text=text.strip()
    )


def mark_work_up_done(intake: Intake, code: str, user: User, note: str) -> WorkUp:
    prompts = {flag["code"] for flag in intake.flags if flag.get("kind") == "work_up"}
    if code not in prompts:
        raise ChartingError("That work-up is not asked for by the intake.")
    work_up, _created = WorkUp.objects.get_or_create(
        intake=intake, code=code, defaults={"done_by": user, "note": note.strip()}
    )
    return work_up
