"""Access helpers: the one place that decides who may open what.

Two rules live here: the role a page asks for (`role_required`) and which patients each staff
role sees (`sees_patient`, `patients_visible_to`). Each app's own `access.py` holds its
`get_<thing>_for(request, id)` helpers, which fetch one object through both and otherwise raise
Http404 (docs/architecture.md#access-helpers).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import reduce, wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest

M = TypeVar("M", bound=models.Model)

View = Callable[..., HttpResponse]


def role_required(*roles: Role) -> Callable[[View], View]:
    """Signed-in users of the given roles only; anyone else signed in gets the friendly 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


# --- Which patients each staff role sees (docs/security.md#which-locations-patients-each-role-sees)
#
# A patient is *placed* at a location by a record that names both: their preferred location
# (the profile, here), an intake version's location, a series' (whose sessions are at its
# location). The apps above this one register their records at start-up (AppConfig.ready), as
# scheduling's hooks are filled, so that this module names no model above it. Every get_*_for
# helper of every app filters through `sees_patient`; nothing else spells the rule out.

Records = Callable[[], QuerySet[Any]]
"""A queryset of records with a `patient` and a `location` foreign key (built at query time)."""

_records: dict[str, list[Records]] = {"places": [], "bookings": [], "reviews": []}


def register_places(rows: Records) -> None:
    """Records that place a patient at their `location` (intake versions, series)."""
    _records["places"].append(rows)


def register_bookings(rows: Records) -> None:
    """Records that mean the patient has been booked somewhere (a series)."""
    _records["bookings"].append(rows)


def register_reviews(rows: Records) -> None:
    """Records that mean the patient has an intake for clinicians to read (a submitted version)."""
    _records["reviews"].append(rows)


def _registered(kind: str) -> list[Records]:
    """A rule read before intake and scheduling registered would hide patients silently."""
    if not _records[kind]:
        raise ImproperlyConfigured(
            f"No patient records of kind {kind!r} are registered: intake and scheduling register "
            "theirs in their AppConfig.ready."
        )
    return _records[kind]


def _any(kind: str, ref: OuterRef, **filters: Any) -> Q:
    """Whether any registered record of this kind is the referenced patient's (and matches)."""
    return reduce(
        operator.or_,
        (Q(Exists(rows().filter(patient=ref, **filters))) for rows in _registered(kind)),
    )


def locations_of(user: User) -> QuerySet[Any]:
    """The ids of the locations where `user` works, as a subquery of the membership table alone:
    used in a filter, it costs no query of its own."""
    return User.locations.through.objects.filter(user_id=user.pk).values("location_id")


def works_at(user: User, location: str = "pk") -> Q:
    """The condition, on a queryset whose `location` field (or the location row itself when
    `location` is "pk") is a location, that `user` works there: clinic admins everywhere, other
    staff at their own locations only (docs/security.md#which-locations-patients-each-role-sees).
    The desk's calendars and the worklists are listed by it."""
    if user.role == Role.CLINIC_ADMIN:
        return Q()
    return Q(**{f"{location}__in": locations_of(user)})


def sees_patient(user: User, patient: str = "patient") -> Q:
    """The condition, on a queryset whose `patient` field (or the patient row itself when
    `patient` is "pk") is a patient, that `user` sees that patient.

    Clinic admins see every patient. The front desk, nurses and clinicians see the patients
    placed at one of their locations. The front desk also sees the patients placed nowhere yet
    (signed up, no location chosen), whom any desk may help; clinicians also see every patient
    with a submitted intake who has never been booked: review comes before a location is chosen
    for the treatment. Patients see themselves only.
    """
    if user.role == Role.PATIENT:
        return Q(**{patient: user.pk})
    if user.role == Role.CLINIC_ADMIN:
        return Q()
    if user.role not in (Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN):
        return Q(pk__in=[])
    mine = locations_of(user)
    ref = OuterRef("pk" if patient == "pk" else patient)
    profile = "patient_profile" if patient == "pk" else f"{patient}__patient_profile"
    seen = Q(**{f"{profile}__preferred_location__in": mine}) | _any(
        "places", ref, location__in=mine
    )
    if user.role == Role.FRONT_DESK:
        placed_nowhere = Q(**{f"{profile}__preferred_location__isnull": True}) & ~_any(
            "places", ref, location__isnull=False
        )
        seen |= placed_nowhere
    if user.role == Role.CLINICIAN:
        seen |= _any("reviews", ref) & ~_any("bookings", ref)
    return seen


def get_seen_or_404(
    request: AuthenticatedRequest, objects: QuerySet[M], patient: str = "patient", **lookup: Any
) -> M:
    """The object of `objects` that `lookup` names, when its patient (the field `patient`, "pk"
    for a patient row) is one the reader sees; 404 otherwise, as for a record that does not
    exist (docs/security.md#which-locations-patients-each-role-sees). Every app's
    `get_<thing>_for` reads through this."""
    return get_object_or_404(objects.filter(sees_patient(request.user, patient)), **lookup)


def patients_visible_to(user: User) -> QuerySet[User]:
    """The patients `user` sees, by the rule of `sees_patient`."""
    return User.objects.filter(sees_patient(user, "pk"), role=Role.PATIENT)
