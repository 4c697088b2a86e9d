"""Who opens which patient, plan, series, session or waitlist offer: each helper returns the
object or raises Http404.

The rule is `accounts.access.sees_patient`
(docs/security.md#which-locations-patients-each-role-sees):
a patient reaches their own objects only, the desk, nurses and clinicians those of the patients
they see, clinic admins all; anything else is simply not found. The role a page asks for stays
with `role_required` on the view (scheduling/views/roles.py). Each helper reads through the
queryset a view passes (its select_related), filtered by the rule, in one query.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.access import get_seen_or_404, works_at
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from locations.models import Location
from review.models import TreatmentPlan
from scheduling.models import Hold, Series, Session


def get_location_for(request: AuthenticatedRequest, slug: str) -> Location:
    """An active location whose calendar the user may open: the desk its own locations only,
    clinic admins every one (`accounts.access.works_at`)."""
    return get_object_or_404(
        Location.objects.filter(works_at(request.user), is_active=True), slug=slug
    )


def get_patient_for(
    request: AuthenticatedRequest, public_id: UUID, patients: QuerySet[User] | None = None
) -> User:
    """A patient (never a staff member's id) the user sees."""
    patients = User.objects.all() if patients is None else patients
    return get_seen_or_404(request, patients.filter(role=Role.PATIENT), "pk", public_id=public_id)


def get_plan_for(
    request: AuthenticatedRequest,
    public_id: UUID,
    plans: QuerySet[TreatmentPlan] | None = None,
) -> TreatmentPlan:
    """An active treatment plan of a patient the user sees."""
    plans = (
        TreatmentPlan.objects.active().select_related("patient", "intake__location")
        if plans is None
        else plans
    )
    return get_seen_or_404(request, plans, "patient", public_id=public_id)


def get_series_for(
    request: AuthenticatedRequest, public_id: UUID, series: QuerySet[Series] | None = None
) -> Series:
    """A series of a patient the user sees (for a patient: their own)."""
    series = (
        Series.objects.select_related("patient", "location", "plan__intake")
        if series is None
        else series
    )
    return get_seen_or_404(request, series, "patient", public_id=public_id)


def get_session_for(
    request: AuthenticatedRequest, public_id: UUID, sessions: QuerySet[Session] | None = None
) -> Session:
    """A session of a patient the user sees (for a patient: their own)."""
    sessions = (
        Session.objects.select_related("series__plan", "location", "patient")
        if sessions is None
        else sessions
    )
    return get_seen_or_404(request, sessions, "patient", public_id=public_id)


def get_offer_for(request: AuthenticatedRequest, **lookup: Any) -> Hold:
    """A hold offered from the waitlist (by its id for the desk, its public id for the patient)
    to a patient the user sees (for a patient: their own)."""
    holds = Hold.objects.filter(entry__isnull=False).select_related(
        "entry__session__series", "entry__session__location", "location"
    )
    return get_seen_or_404(request, holds, "entry__session__patient", **lookup)
