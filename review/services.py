"""Clinical decisions on intakes, urgent-flag acknowledgement, and whether a patient is bookable."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from intake.models import Intake, UrgentFlag
from intake.services import flag_task_about
from intake.steps import STEP_BY_SLUG
from review import evaluations
from review.models import Decision, ProtocolTemplate, TreatmentPlan
from worklist import services as worklist
from worklist.models import Cause

PLAN_FIELDS = (
    "indication",
    "infusions",
    "min_days_between",
    "max_days_between",
    "span_days",
    "dose_mg_per_kg",
    "infusion_minutes",
    "chair_minutes_before",
    "chair_minutes_after",
    "dose_cap_mg",
    "notes",
)


class ReviewError(Exception):
    pass


class NotReviewable(ReviewError):
    """Only a submitted intake that is still waiting can be decided; anything else was handled."""


class EvaluationMissing(ReviewError):
    """The location requires an evaluation visit held before approval
    (docs/visits.md#evaluation-and-approval)."""


class NotBookable(Exception):
    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


def active_templates() -> list[ProtocolTemplate]:
    """The protocol templates a plan may start from, the default first (then by name): the
    first, if any, is the one a new plan is prefilled from."""
    return list(ProtocolTemplate.objects.filter(is_active=True).order_by("-is_default", "name"))


def _locked_waiting(intake: Intake) -> Intake:
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    if locked.status != Intake.Status.SUBMITTED:
        raise NotReviewable
    return locked


@transaction.atomic
def approve(
    intake: Intake,
    clinician: User,
    parameters: dict[str, Any],
    *,
    template: ProtocolTemplate | None = None,
    patient_message: str = "",
    internal_note: str = "",
) -> TreatmentPlan:
    """Approve a waiting intake with a treatment plan; an earlier active plan is completed.

    Where the intake's location requires it, an evaluation visit must have been held
    (EvaluationMissing says what is missing)."""
    intake = _locked_waiting(intake)
    location = intake.location
    if location is not None and location.evaluation_required:
        state = evaluations.states([intake.patient_id])[intake.patient_id]
        if state != evaluations.HELD:
            raise EvaluationMissing(
                "This location requires an evaluation visit before approval: "
                + (
                    "it is booked but not yet held."
                    if state == evaluations.BOOKED
                    else "none is booked. Book one from the patient page."
                )
            )
    TreatmentPlan.objects.active().filter(patient=intake.patient).update(
        status=TreatmentPlan.Status.COMPLETED
    )
    plan = TreatmentPlan.objects.create(
        patient=intake.patient,
        intake=intake,
        template=template,
        approved_by=clinician,
        # The drug as the protocol states it, for the printed infusion record.
        **({"drug": template.drug} if template is not None else {}),
        **{field: parameters[field] for field in PLAN_FIELDS if field in parameters},
    )
    Decision.objects.create(
        intake=intake,
        kind=Decision.Kind.APPROVE,
        decided_by=clinician,
        plan=plan,
        patient_message=patient_message,
        internal_note=internal_note,
    )
    intake.status = Intake.Status.APPROVED
    intake.status_message = patient_message
    intake.save(update_fields=["status", "status_message", "updated_at"])
    return plan


@transaction.atomic
def decline(
    intake: Intake, clinician: User, *, patient_message: str, internal_note: str = ""
) -> Decision:
    intake = _locked_waiting(intake)
    decision = Decision.objects.create(
        intake=intake,
        kind=Decision.Kind.DECLINE,
        decided_by=clinician,
        patient_message=patient_message,
        internal_note=internal_note,
    )
    intake.status = Intake.Status.DECLINED
    intake.status_message = patient_message
    intake.save(update_fields=["status", "status_message", "updated_at"])
    return decision


@transaction.atomic
def request_more_information(
    intake: Intake,
    clinician: User,
    *,
    steps: list[str],
    patient_message: str,
    internal_note: str = "",
) -> Decision:
    """Send the intake back: the named steps reopen in the patient's next version."""
    unknown = [slug for slug in steps if slug not in STEP_BY_SLUG]
    if not steps or unknown:
        raise ValueError(f"Name at least one known step to reopen (unknown: {unknown}).")
    intake = _locked_waiting(intake)
    decision = Decision.objects.create(
        intake=intake,
        kind=Decision.Kind.MORE_INFO,
        decided_by=clinician,
        patient_message=patient_message,
        internal_note=internal_note,
        reopened_steps=steps,
    )
    intake.status = Intake.Status.MORE_INFO
    intake.status_message = patient_message
    intake.reopened_steps = steps
    intake.save(update_fields=["status", "status_message", "reopened_steps", "updated_at"])
    return decision


@transaction.atomic
def acknowledge(flag: UrgentFlag, clinician: User, note: str) -> bool:
    """Record that a clinician has dealt with an urgent flag; True if this call acknowledged it."""
    if not note.strip():
        raise ValueError("A note is required to acknowledge an urgent flag.")
    done = UrgentFlag.objects.filter(pk=flag.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=clinician, note=note.strip()
    )
    if done:
        # The flag's worklist task is dealt with too, with the same note; closing the task
        # alone never acknowledges the flag.
        worklist.close_open_task(Cause.URGENT_FLAG, flag_task_about(flag.pk), clinician, note)
    return bool(done)


def booking_blockers(patient: User) -> list[str]:
    """Why this patient cannot be booked now; empty when they can.

    docs/product-rules.md#eligibility-and-bookability
    """
    reasons = []
    if UrgentFlag.objects.open().filter(patient=patient).exists():
        reasons.append(
            gettext("An urgent safety flag is waiting for a clinician's acknowledgement.")
        )
    if not TreatmentPlan.objects.active().filter(patient=patient).exists():
        reasons.append(gettext("There is no approved treatment plan."))
    return reasons


def assert_bookable(patient: User) -> TreatmentPlan:
    """The patient's active plan, or NotBookable with every reason; call under the booking lock."""
    reasons = booking_blockers(patient)
    if reasons:
        raise NotBookable(reasons)
    return TreatmentPlan.objects.active().get(patient=patient)


class RevisionRefused(ReviewError):
    """A revision that breaks the plan's own rules, or of a plan no longer in force; the message
    says why (docs/visits.md#plan-revisions)."""


REVISABLE_FIELDS = (
    "infusions",
    "min_days_between",
    "max_days_between",
    "span_days",
    "dose_mg_per_kg",
    "dose_cap_mg",
    "infusion_minutes",
    "booster_every_weeks",
    "booster_count",
    "booster_until",
)


def revision_problems(values: dict[str, Any]) -> list[str]:
    """The plan's own rules, in words, for a revision's values (all of REVISABLE_FIELDS)."""
    problems = []
    low, high = values["min_days_between"], values["max_days_between"]
    infusions, span = values["infusions"], values["span_days"]
    if not 1 <= infusions <= 30:
        problems.append("A plan has 1 to 30 infusions.")
    if low < 1 or high < low:
        problems.append(
            "The days between infusions: at least 1, and the maximum at least the minimum."
        )
    if (infusions - 1) * low > span:
        problems.append(
            f"{infusions} infusions at least {low} days apart need at least "
            f"{(infusions - 1) * low} days; the plan allows {span}."
        )
    if not 0 < values["dose_mg_per_kg"] <= 2:
        problems.append("The dose is more than 0 and at most 2 mg/kg.")
    every, count, until = (
        values.get("booster_every_weeks"),
        values.get("booster_count"),
        values.get("booster_until"),
    )
    if every is None and (count is not None or until is not None):
        problems.append("Say how often the boosters come (every 4 to 12 weeks).")
    if every is not None:
        if not 4 <= every <= 12:
            problems.append("Boosters come every 4 to 12 weeks.")
        if (count is None) == (until is None):
            problems.append("Give the boosters either a number or an end date, not both.")
        if count is not None and not 1 <= count <= 26:
            problems.append("A plan has 1 to 26 boosters.")
        if until is not None and until <= timezone.localdate():
            problems.append("The boosters' end date must be in the future.")
    return problems


@transaction.atomic
def revise_plan(
    plan: TreatmentPlan, author: User, values: dict[str, Any], *, reason: str
) -> TreatmentPlan:
    """A new version of the plan with its author and reason; the old version is kept, marked
    revised (the sessions already booked keep their dose until the nurse's check-in reads the
    version in force: `TreatmentPlan.in_force`). RevisionRefused says why not."""
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise RevisionRefused("Only the plan in force can be revised; open its latest version.")
    if not reason.strip():
        raise RevisionRefused("Say why the plan changes.")
    merged = {field: values.get(field, getattr(plan, field)) for field in REVISABLE_FIELDS}
    problems = revision_problems(merged)
    if problems:
        raise RevisionRefused(" ".join(problems))
    TreatmentPlan.objects.filter(pk=plan.pk).update(status=TreatmentPlan.Status.REVISED)
    copied = {
        field.name: getattr(plan, field.name)
        for field in TreatmentPlan._meta.concrete_fields
        if field.name
        not in (
            "id",
            "public_id",
            "status",
            "approved_by",
            "approved_at",
            "version",
            "root",
            "revises",
            "revision_reason",
        )
    }
    copied.update(merged)
    return TreatmentPlan.objects.create(
        **copied,
        approved_by=author,
        version=plan.version + 1,
        root_id=plan.root_id or plan.pk,
        revises=plan,
        revision_reason=reason.strip()[:2000],
    )
