"""The read-only FHIR API (`/fhir/`) and the clinic admins' page of integration clients."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from clinic.querystrings import query_form
from fhir import mapping as r
from fhir import queries, search, services
from fhir.access import audit_reads, fhir_api, refuse, respond, scoped
from fhir.forms import ClientForm
from fhir.models import IntegrationClient

# The date of this CapabilityStatement's content: changed when the API changes.
CAPABILITY_DATE = "2026-01-01"

SEARCHES: dict[str, Callable[[search.Search], queries.Page]] = {
    "Patient": queries.patients,
    "Observation": queries.observations,
    "QuestionnaireResponse": queries.questionnaire_responses,
    "Appointment": queries.appointments,
    "Location": queries.locations,
    "Questionnaire": queries.questionnaires,
}
DATE_PARAMETER = {"Observation": "date", "Appointment": "date", "QuestionnaireResponse": "authored"}


def _uuid_read(read: Callable[[uuid.UUID], queries.Entry | None]) -> Callable[[str], Any]:
    def by_text(resource_id: str) -> queries.Entry | None:
        try:
            return read(uuid.UUID(resource_id))
        except ValueError:
            return None

    return by_text


READS: dict[str, Callable[[str], queries.Entry | None]] = {
    "Patient": _uuid_read(queries.patient),
    "Observation": queries.observation,
    "QuestionnaireResponse": queries.questionnaire_response,
    "Appointment": _uuid_read(queries.appointment),
    "Location": _uuid_read(queries.location),
    "Questionnaire": queries.questionnaire,
}


def _unknown_type(resource_type: str) -> HttpResponse:
    return refuse(404, "not-found", f"This server has no resource type {resource_type[:60]!r}.")


def _not_found(resource_type: str, resource_id: str) -> HttpResponse:
    return refuse(404, "not-found", f"{resource_type}/{resource_id[:80]} was not found.")


def _screened(
    request: HttpRequest, names: frozenset[str]
) -> tuple[QueryDict, list[search.Issue]] | HttpResponse:
    """The query's supported parameters and what was left out, or 400 naming what is not
    supported under strict handling (the default): a filter left out widens the answer."""
    kept, ignored = search.screen(request.GET, names)
    if ignored and not search.lenient(request):
        return respond(r.outcome(ignored), 400)
    return kept, ignored


@fhir_api
def metadata(request: HttpRequest, client: IntegrationClient) -> HttpResponse:
    """The CapabilityStatement: any live client may read it, whatever its scopes."""
    return respond(r.capability_statement(CAPABILITY_DATE))


@query_form(search.SearchForm)
@fhir_api
def search_type(
    request: HttpRequest, client: IntegrationClient, resource_type: str
) -> HttpResponse:
    if resource_type not in SEARCHES:
        return _unknown_type(resource_type)
    refused = scoped(client, resource_type)
    if refused:
        return refused
    screened = _screened(request, search.accepted(resource_type))
    if isinstance(screened, HttpResponse):
        return screened
    query, ignored = screened
    form = search.SearchForm(query)
    if not form.is_valid():
        return refuse(400, "invalid", search.errors(form))
    date_name = DATE_PARAMETER.get(resource_type)
    wanted = search.read(form, date_name)
    page = SEARCHES[resource_type](wanted)
    audit_reads(request, client, ((entry.resource, entry.patient) for entry in page.entries))
    base = f"{r.base_url()}/{resource_type}"
    params = wanted.params(date_name or "date")

    def link(offset: int) -> str:
        return f"{base}?{urlencode([*params, ('_count', wanted.count), ('_offset', offset)])}"

    links = [("self", link(wanted.offset))]
    if wanted.count and wanted.offset + wanted.count < page.total:
        links.append(("next", link(wanted.offset + wanted.count)))
    if wanted.count and wanted.offset > 0:
        links.append(("previous", link(max(0, wanted.offset - wanted.count))))
    bundle = r.bundle(
        [(entry.resource, entry.mode) for entry in page.entries],
        page.total,
        links,
        timezone.now(),
        ignored,
    )
    return respond(bundle)


@fhir_api
def read(
    request: HttpRequest, client: IntegrationClient, resource_type: str, resource_id: str
) -> HttpResponse:
    if resource_type not in READS:
        return _unknown_type(resource_type)
    refused = scoped(client, resource_type)
    if refused:
        return refused
    entry = READS[resource_type](resource_id)
    if entry is None:
        return _not_found(resource_type, resource_id)
    audit_reads(request, client, [(entry.resource, entry.patient)])
    return respond(entry.resource)


@fhir_api
def everything(request: HttpRequest, client: IntegrationClient, resource_id: str) -> HttpResponse:
    """Patient/<id>/$everything: a searchset Bundle of what the client's scopes allow."""
    refused = scoped(client, "Patient")
    if refused:
        return refused
    try:
        public_id = uuid.UUID(resource_id)
    except ValueError:
        return _not_found("Patient", resource_id)
    names = frozenset(name for name, _, _ in search.EVERYTHING_PARAMETERS)
    screened = _screened(request, names)
    if isinstance(screened, HttpResponse):
        return screened
    query, ignored = screened
    form = search.SearchForm(query)
    if not form.is_valid():
        return refuse(400, "invalid", search.errors(form))
    page = queries.everything(public_id, client.may_read)
    if page is None:
        return _not_found("Patient", resource_id)
    audit_reads(request, client, ((entry.resource, entry.patient) for entry in page.entries))
    self_link = f"{r.base_url()}/Patient/{public_id}/$everything"
    bundle = r.bundle(
        [(entry.resource, entry.mode) for entry in page.entries],
        page.total,
        [("self", self_link)],
        timezone.now(),
        ignored,
    )
    return respond(bundle)


@fhir_api
def unknown(request: HttpRequest, client: IntegrationClient, rest: str = "") -> HttpResponse:
    """Any other address under /fhir/: an OperationOutcome, not the site's HTML page."""
    return refuse(404, "not-found", "This FHIR API has no such address.")


# --- Integration clients (clinic admins) ----------------------------------------------------------


def _clients_page(
    request: AuthenticatedRequest, form: ClientForm, created: tuple[IntegrationClient, str] | None
) -> HttpResponse:
    context = {
        "form": form,
        "clients": IntegrationClient.objects.select_related("created_by", "revoked_by"),
        "created": created[0] if created else None,
        "token": created[1] if created else None,
        "api_url": r.base_url(),
        "rate": settings.FHIR_REQUESTS_PER_MINUTE,
        "zone": request.user.time_zone(),
    }
    response = render(request, "fhir/clients.html", context)
    # The page may show a token: never kept by a browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.CLINIC_ADMIN)
def clients(request: AuthenticatedRequest) -> HttpResponse:
    """Settings → Integrations: create a client with scopes (its token is shown once), revoke."""
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client, token = services.create_client(
            form.cleaned_data["name"], form.cleaned_data["scopes"], request.user
        )
        audit.record(request, "admin", "fhir_client", client.public_id, detail=client.name)
        # Shown on this response only: a redirect would have to carry the token somewhere.
        return _clients_page(request, ClientForm(), (client, token))
    return _clients_page(request, form, None)


@role_required(Role.CLINIC_ADMIN)
@require_POST
def revoke_client(request: AuthenticatedRequest, public_id: uuid.UUID) -> HttpResponse:
    client = get_object_or_404(IntegrationClient, public_id=public_id)
    if services.revoke_client(client, request.user):
        audit.record(request, "admin", "fhir_client", client.public_id, detail="revoked")
        messages.success(request, f"Revoked: {client.name}. Its token no longer works.")
    else:
        messages.info(request, f"{client.name} was already revoked.")
    return redirect("fhir:clients")
