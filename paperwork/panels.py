"""The paperwork's section of the patient page: estimates (with what is still owed) and the
superbills, for the desk and clinicians (docs/paperwork.md#on-the-patient-page)."""

from __future__ import annotations

from typing import Any

from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from paperwork import superbills
from paperwork.models import Estimate, EstimateDue
from review.models import TreatmentPlan
from scheduling.models import Series
from worklist.models import Cause, Task


def context(request: AuthenticatedRequest, patient: User) -> dict[str, Any] | None:
    role = request.user.role
    if role not in (Role.FRONT_DESK, Role.CLINIC_ADMIN, Role.CLINICIAN):
        return None
    return {
        "patient": patient,
        "desk": role in (Role.FRONT_DESK, Role.CLINIC_ADMIN),
        "clinician": role == Role.CLINICIAN,
        "estimates": list(Estimate.objects.filter(patient=patient).select_related("location")),
        "owed": list(EstimateDue.objects.open().filter(patient=patient)),
        "plan": TreatmentPlan.objects.active().filter(patient=patient).first(),
        "periods": superbills.choices(patient),
        # docs/paperwork.md#bills-above-the-estimate: open until the desk deals with it.
        "over_estimate": list(
            Task.objects.open()
            .filter(cause=Cause.OVER_ESTIMATE, about__in=_abouts(patient))
            .values_list("subject", flat=True)
        ),
    }


def _abouts(patient: User) -> list[str]:
    series = Series.objects.filter(patient=patient).values_list("pk", flat=True)
    return [f"patient:{patient.pk}", *(f"series:{pk}" for pk in series)]
