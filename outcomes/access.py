"""Whose outcomes a clinician or nurse reads: the helper returns the patient or raises Http404.

The rule is `accounts.access.sees_patient`
(docs/security.md#which-locations-patients-each-role-sees), the same as on the patient page.
"""

from __future__ import annotations

from uuid import UUID

from accounts.models import User
from accounts.requests import AuthenticatedRequest
from scheduling.access import get_patient_for


def get_patient_outcomes_for(request: AuthenticatedRequest, public_id: UUID) -> User:
    """A patient the user sees, whose outcomes the page then reads."""
    return get_patient_for(request, public_id)
