"""Integration clients of the read-only FHIR API, and the opaque ids of places it names.

A client is an EHR or a practice system the clinic reports to. It holds a bearer token, of which
only the SHA-256 is stored (the token is shown once, when the client is created), and SMART-style
system scopes that say which resource types it may read.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

# The resource types a client may be allowed to read, by SMART v1 system scope.
RESOURCE_TYPES = (
    "Patient",
    "Observation",
    "Appointment",
    "Questionnaire",
    "QuestionnaireResponse",
    "Location",
)
ALL_TYPES_SCOPE = "system/*.read"
SCOPES = [(f"system/{name}.read", f"Read {name}") for name in RESOURCE_TYPES] + [
    (ALL_TYPES_SCOPE, "Read every resource type")
]


def scope_for(resource_type: str) -> str:
    return f"system/{resource_type}.read"


class IntegrationClientQuerySet(models.QuerySet["IntegrationClient"]):
    def live(self) -> IntegrationClientQuerySet:
        """Clients whose token still works: not revoked."""
        return self.filter(revoked_at__isnull=True)


class IntegrationClient(models.Model):
    """A system that reads the FHIR API with a bearer token, within its scopes."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    name = models.CharField(max_length=100, unique=True)
    scopes = ArrayField(models.CharField(max_length=40, choices=SCOPES))
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the token, to tell tokens apart on the page and in the audit log
    # without showing one whole (as link tokens are logged, clinic/redaction.py).
    token_prefix = models.CharField(max_length=8)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = IntegrationClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(scopes=[]), name="integration_client_has_a_scope"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="integration_client_revoked_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def may_read(self, resource_type: str) -> bool:
        """SMART v1 system scopes: the type's own read scope, or every type's."""
        return ALL_TYPES_SCOPE in self.scopes or scope_for(resource_type) in self.scopes


class PlaceKey(models.Model):
    """The opaque FHIR id of a location or of one of its chairs (each a FHIR `Location`).

    Locations and chairs have no public id of their own, and the API names nothing by its
    database id; the keys are made the first time the API needs them (`fhir.places`).
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    location = models.OneToOneField(
        "locations.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    chair = models.OneToOneField(
        "locations.Chair", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(location__isnull=False, chair__isnull=True)
                | Q(location__isnull=True, chair__isnull=False),
                name="place_key_of_one_place",
            ),
        ]

    def __str__(self) -> str:
        return f"FHIR Location {self.public_id}"
