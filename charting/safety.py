"""What a nurse must know before touching the patient, read for the top of every chart.

Allergies and medicines as the patient gave them at intake, the intake's derived flags
(intake.flags) with the urgent-flag state, the clinician's plan notes, the previous infusion's
dose, vitals and side effects, and the work-up prompts not yet marked done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from charting.models import InfusionRecord, WorkUp
from intake import scoring
from intake.flags import Kind
from intake.models import UrgentFlag
from review.models import Decision
from scheduling.models import Session


@dataclass
class SafetyContext:
    allergies: list[dict[str, Any]] = field(default_factory=list)
    medicines: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, str]] = field(default_factory=list)
    urgent_open: list[UrgentFlag] = field(default_factory=list)
    urgent_acknowledged: list[UrgentFlag] = field(default_factory=list)
    plan_notes: str = ""
    approval_note: str = ""
    height: str = ""
    previous: InfusionRecord | None = None
    open_work_ups: list[dict[str, str]] = field(default_factory=list)
    done_work_ups: list[WorkUp] = field(default_factory=list)


def _height(scores: dict[str, Any]) -> str:
    """The intake's height in both systems, as nurses in US clinics are asked for either."""
    cm = scores.get("measurements", {}).get("height_cm")
    if not cm:
        return ""
    feet, inches = scoring.cm_to_feet_inches(Decimal(cm))
    return f"{Decimal(cm)} cm ({feet} ft {inches} in)"


def for_session(session: Session) -> SafetyContext:
    plan = session.series.plan
    intake = plan.intake
    answers = {a.step: a.data for a in intake.answers.filter(step="safety")}
    safety = answers.get("safety", {})
    kinds = list(Kind)
    flags = sorted(
        ({**f, "kind_label": Kind(f["kind"]).label} for f in intake.flags),
        key=lambda f: kinds.index(Kind(f["kind"])),
    )
    # The ACR screening result is for the clinician's decision, not for the chair side.
    flags = [f for f in flags if f["kind"] != Kind.SCREENING]
    done = list(WorkUp.objects.filter(intake=intake).select_related("done_by").order_by("done_at"))
    done_codes = {w.code for w in done}
    urgent = list(
        UrgentFlag.objects.filter(patient=session.patient).select_related("acknowledged_by")
    )
    approval = (
        Decision.objects.filter(plan=plan).values_list("internal_note", flat=True).first() or ""
    )
    previous = (
        InfusionRecord.objects.filter(
            session__patient=session.patient, session__starts_at__lt=session.starts_at
        )
        .select_related("session")
        .prefetch_related("vitals", "observations")
        .order_by("-session__starts_at")
        .first()
    )
    return SafetyContext(
        allergies=[a for a in safety.get("allergies") or [] if a.get("substance")],
        medicines=[m for m in safety.get("medications") or [] if m.get("name")],
        flags=[f for f in flags if f.get("kind") != Kind.WORK_UP],
        urgent_open=[f for f in urgent if f.acknowledged_at is None],
        urgent_acknowledged=[f for f in urgent if f.acknowledged_at is not None],
        plan_notes=plan.notes,
        approval_note=approval,
        height=_height(intake.scores),
        previous=previous,
        open_work_ups=[
            f for f in flags if f.get("kind") == Kind.WORK_UP and f["code"] not in done_codes
        ],
        done_work_ups=done,
    )
