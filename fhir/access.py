"""Who may read the FHIR API: a live integration client's bearer token, within its scopes and
its rate; and the audit of what it read.

Sessions and cookies count for nothing here: a signed-in member of staff without a token gets
401 like anyone. Every refusal is an OperationOutcome.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from audit.models import AuditEvent
from clinic.middleware import checks_its_own_input
from fhir import mapping as r
from fhir.models import IntegrationClient

logger = logging.getLogger("fhir")

# The audit log's role column for reads by a client (no person is signed in).
CLIENT_ROLE = "fhir_client"

FhirView = Callable[..., HttpResponse]
# How long a client is asked to wait while the rate cannot be counted (Redis down).
RETRY_AFTER_SECONDS = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def respond(resource: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(resource, ensure_ascii=False), status=status, content_type=r.CONTENT_TYPE
    )
    # Patient data: never kept by a proxy or a browser; the answer depends on the token.
    response["Cache-Control"] = "no-store"
    response["Vary"] = "Authorization"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def refuse(status: int, code: str, diagnostics: str, **headers: str) -> HttpResponse:
    return respond(r.operation_outcome(code, diagnostics), status, **headers)


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _over_rate(client: IntegrationClient) -> int | None:
    """Seconds until the client may ask again, or None while it is within its rate.

    A fixed window per client per minute, counted in Redis through Django's cache, so every web
    process shares one count. The first request of each window also records the client's last
    use, so the table is written at most once a minute per client.
    """
    now = time.time()
    window = int(now // 60)
    key = f"fhir:rate:{client.public_id}:{window}"
    if cache.add(key, 0, timeout=120):
        IntegrationClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    if cache.incr(key) > settings.FHIR_REQUESTS_PER_MINUTE:
        return max(1, int((window + 1) * 60 - now) + 1)
    return None


def fhir_api(view: FhirView) -> FhirView:
    """GET only, with a live client's bearer token, within its rate: the view gets the client.

    The scope is checked by the view (`scoped`), which knows the resource type asked for.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return refuse(405, "not-supported", "This FHIR API is read only.", Allow="GET, HEAD")
        token = _bearer(request)
        if token is None:
            return refuse(
                401,
                "login",
                "A bearer token is required (Authorization: Bearer <token>).",
                WWW_Authenticate='Bearer realm="fhir"',
            )
        client = IntegrationClient.objects.live().filter(token_hash=token_hash(token)).first()
        if client is None:
            logger.warning("FHIR request refused: unknown or revoked token %s…", token[:8])
            return refuse(
                401,
                "login",
                "The bearer token is not valid, or it has been revoked.",
                WWW_Authenticate='Bearer realm="fhir", error="invalid_token"',
            )
        try:
            wait = _over_rate(client)
        except redis.RedisError:
            # A rate that cannot be counted is not a rate that holds: refuse until Redis is back.
            logger.warning("FHIR request refused: Redis is unreachable, the rate cannot be counted")
            return refuse(
                503,
                "transient",
                "The service is briefly unavailable; try again in a minute.",
                Retry_After=str(RETRY_AFTER_SECONDS),
            )
        if wait is not None:
            return refuse(
                429,
                "throttled",
                f"Over {settings.FHIR_REQUESTS_PER_MINUTE} requests per minute; "
                f"try again in {wait} seconds.",
                Retry_After=str(wait),
            )
        return view(request, client, *args, **kwargs)

    # A bearer-token API that writes nothing: a POST gets 405 from the view, not CSRF's page; a
    # control character in a parameter gets a 400 OperationOutcome from the search's form.
    return checks_its_own_input(csrf_exempt(wrapped))


def scoped(client: IntegrationClient, resource_type: str) -> HttpResponse | None:
    """403 unless the client's scopes cover reading this type."""
    if client.may_read(resource_type):
        return None
    scope = f"system/{resource_type}.read"
    return refuse(
        403,
        "forbidden",
        f"The client's scopes do not include {scope}.",
        WWW_Authenticate=f'Bearer realm="fhir", error="insufficient_scope", scope="{scope}"',
    )


def audit_reads(
    request: HttpRequest,
    client: IntegrationClient,
    read: Iterable[tuple[dict[str, Any], User | None]],
) -> None:
    """One audit event per patient and resource type returned, as a staff page records one per
    record it shows; the client is named in the detail, since no person is the actor. One
    query, whatever the number of resources."""
    groups: dict[tuple[int | None, str], list[str]] = defaultdict(list)
    patients: dict[int | None, User | None] = {None: None}
    for resource, patient in read:
        key = patient.pk if patient else None
        patients[key] = patient
        groups[(key, resource["resourceType"])].append(resource["id"])
    address = request.META.get("REMOTE_ADDR")
    events = []
    for (patient_pk, resource_type), ids in groups.items():
        patient = patients[patient_pk]
        # One resource is named; several are named by their patient (or as a search).
        many = str(patient.public_id) if patient else "search"
        record_id = ids[0] if len(ids) == 1 else many
        detail = (
            f"FHIR client {client.name} (token {client.token_prefix}…): "
            f"{len(ids)} {resource_type} by {request.get_full_path()}"
        )
        events.append(
            AuditEvent(
                actor=None,
                actor_role=CLIENT_ROLE,
                action=AuditEvent.Action.READ,
                record_type=f"fhir.{resource_type}",
                record_id=record_id[:64],
                patient_id=patient_pk,
                detail=detail[:200],
                ip=address,
            )
        )
    AuditEvent.objects.bulk_create(events)
