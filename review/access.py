"""Which intake a clinician reviews: the helper returns it or raises Http404.

The rule is `accounts.access.sees_patient`
(docs/security.md#which-locations-patients-each-role-sees):
clinicians review the submitted versions of the patients of their locations, and of every
patient not yet booked anywhere. A draft is the patient's own until submitted.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from accounts.requests import AuthenticatedRequest
from intake.access import get_intake_for
from intake.models import Intake


def get_submitted_intake_for(
    request: AuthenticatedRequest, public_id: UUID, intakes: QuerySet[Intake] | None = None
) -> Intake:
    """A submitted (or decided) version, read through `intakes`, of a patient the user sees."""
    intakes = Intake.objects.all() if intakes is None else intakes
    return get_intake_for(request, public_id, intakes.exclude(status=Intake.Status.DRAFT))
