"""Who opens which estimate, superbill and plan codes: the one location rule
(docs/security.md#which-locations-patients-each-role-sees), as in every app's access module."""

from __future__ import annotations

from uuid import UUID

from accounts.access import get_seen_or_404
from accounts.requests import AuthenticatedRequest
from paperwork.models import Estimate
from review.models import TreatmentPlan


def get_estimate_for(request: AuthenticatedRequest, public_id: UUID) -> Estimate:
    """An estimate of a patient the user sees (for a patient: their own)."""
    return get_seen_or_404(
        request,
        Estimate.objects.select_related("patient", "location", "supersedes"),
        public_id=public_id,
    )


def get_plan_for(request: AuthenticatedRequest, public_id: UUID) -> TreatmentPlan:
    """A treatment plan, current or not, of a patient the user sees."""
    return get_seen_or_404(
        request, TreatmentPlan.objects.select_related("patient"), public_id=public_id
    )
