"""Who opens which intake: each helper returns the object or raises Http404.

The rule is `accounts.access.sees_patient`
(docs/security.md#which-locations-patients-each-role-sees):
a patient reaches only their own intakes, staff the intakes of the patients they see; anything
else is simply not found. The role a page asks for stays with `role_required` on the view.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from accounts.access import get_seen_or_404, sees_patient
from accounts.requests import AuthenticatedRequest
from intake import services
from intake.models import Intake, IntakeAttachment


def get_intake_for(
    request: AuthenticatedRequest, public_id: UUID, intakes: QuerySet[Intake] | None = None
) -> Intake:
    """The intake version, read through `intakes` (all versions by default), when its patient
    is one the user sees."""
    intakes = Intake.objects.all() if intakes is None else intakes
    return get_seen_or_404(request, intakes, public_id=public_id)


def get_insurance_card_for(request: AuthenticatedRequest, public_id: UUID) -> IntakeAttachment:
    """The insurance card on file with a submitted version (`services.insurance_card`), when
    its patient is one the user sees; a draft's card or none at all is not found."""
    card = services.insurance_card(public_id, sees_patient(request.user, "intake__patient"))
    if card is None:
        raise Http404
    return card
