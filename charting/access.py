"""Which session's chart a nurse or clinician opens: the helper returns it or raises Http404.

A chart is the record of one infusion at one location: besides the rule of the patients each
role sees (docs/security.md#which-locations-patients-each-role-sees), the session must be at one
of the reader's own locations, where she gives or co-signs it. Anything else is not found.
"""

from __future__ import annotations

from uuid import UUID

from accounts.access import locations_of
from accounts.requests import AuthenticatedRequest
from scheduling.access import get_session_for
from scheduling.models import Session


def get_charted_session_for(request: AuthenticatedRequest, public_id: UUID) -> Session:
    """The session, with what the chart shows of it, at one of the reader's locations."""
    return get_session_for(
        request,
        public_id,
        Session.objects.filter(location__in=locations_of(request.user)).select_related(
            "location", "patient", "series__plan__intake", "chair", "nurse"
        ),
    )
