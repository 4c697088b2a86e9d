"""Who opens which estimate, superbill and plan codes: the one location rule
(docs/security.md#which-locations-patients-each-role-sees), as in every app's access module."""

from __future__ import annotations

from uuid import UUID

from django.shortcuts import get_object_or_404

from accounts.access import sees_patient
from accounts.requests import AuthenticatedRequest
from paperwork.models import Estimate
from review.models import TreatmentPlan


def get_estimate_for(request: AuthenticatedRequest, public_id: UUID) -> Estimate:
    """An estimate of a patient the user sees (for a patient: their own)."""
    return get_object_or_404(
        Estimate.objects.filter(sees_patient(request.user)).select_related(
            "patient", "location", "supersedes"
        ),
        public_id=public_id,
    )


def get_plan_for(request: AuthenticatedRequest, public_id: UUID) -> TreatmentPlan:
    """A treatment plan, current or not, of a patient the user sees."""
    return get_object_or_404(
        TreatmentPlan.objects.filter(sees_patient(request.user)).select_related("patient"),
        public_id=public_id,
    )
