from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from audit.models import AuditEvent


def record(
    request: HttpRequest | None,
    action: str,
    record_type: str,
    record_id: object,
    patient: Any = None,
    detail: str = "",
) -> AuditEvent:
    """Write one event: who (and in which role), when, what record, what action, from where."""
    user = getattr(request, "user", None) if request is not None else None
    signed_in = user is not None and user.is_authenticated
    return AuditEvent.objects.create(
        actor=user if signed_in else None,
        actor_role=getattr(user, "role", "") if signed_in else "",
        action=action,
        record_type=record_type,
        record_id=str(record_id),
        patient_id=getattr(patient, "pk", patient),
        detail=detail[:200],
        ip=request.META.get("REMOTE_ADDR") if request is not None else None,
    )
