"""Settings → Integrations: clinic admins create FHIR API clients with scopes, see each token
once, and revoke them; every change is audited."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from fhir.models import IntegrationClient
from tests.fhir_data import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(login, make_user):
    user = make_user(Role.CLINIC_ADMIN)
    return user, login(user)


def _token(page: str) -> str:
    match = re.search(r'id="new-token"[^>]*value="([^"]+)"', page)
    assert match, "the token is not on the page"
    return match.group(1)


def test_a_clinic_admin_creates_a_client_and_sees_its_token_once(admin):
    user, browser = admin
    url = reverse("fhir:clients")

    response = browser.post(
        url,
        {
            "name": "  Riverside   EHR ",
            "scopes": ["system/Patient.read", "system/Observation.read"],
        },
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = _token(response.content.decode())
    client = IntegrationClient.objects.get()
    assert (client.name, client.created_by) == ("Riverside EHR", user)
    assert client.scopes == ["system/Observation.read", "system/Patient.read"]
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert client.token_prefix == token[:8]
    assert token not in browser.get(url).content.decode()
    assert AuditEvent.objects.filter(
        actor=user, action="admin", record_type="fhir_client", record_id=str(client.public_id)
    ).exists()
    assert bearer(token).get("/fhir/Patient").status_code == 200
    assert bearer(token).get("/fhir/Appointment").status_code == 403


def test_a_client_needs_a_name_of_its_own_and_a_scope(admin):
    _user, browser = admin
    url = reverse("fhir:clients")
    browser.post(url, {"name": "EHR", "scopes": ["system/*.read"]})

    again = browser.post(url, {"name": "ehr", "scopes": ["system/*.read"]})
    no_scope = browser.post(url, {"name": "Other"})
    bad_scope = browser.post(url, {"name": "Other", "scopes": ["system/*.write"]})

    assert "exists already" in again.content.decode()
    assert "Choose at least one scope" in no_scope.content.decode()
    assert bad_scope.context["form"].errors["scopes"]
    assert IntegrationClient.objects.count() == 1


def test_revoking_a_client_stops_its_token_at_once(admin):
    user, browser = admin
    page = browser.post(reverse("fhir:clients"), {"name": "EHR", "scopes": ["system/*.read"]})
    token = _token(page.content.decode())
    client = IntegrationClient.objects.get()
    assert bearer(token).get("/fhir/metadata").status_code == 200

    response = browser.post(reverse("fhir:revoke_client", args=[client.public_id]))

    assert response.status_code == 302
    client.refresh_from_db()
    assert client.revoked_at is not None and client.revoked_by == user
    assert bearer(token).get("/fhir/metadata").status_code == 401
    again = browser.post(reverse("fhir:revoke_client", args=[client.public_id]), follow=True)
    assert "already revoked" in again.content.decode()
    assert AuditEvent.objects.filter(record_type="fhir_client", detail="revoked").count() == 1


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN, Role.PATIENT])
def test_nobody_else_creates_or_revokes_clients(login, make_user, role):
    browser = login(make_user(role))
    existing = make_user(Role.CLINIC_ADMIN)
    from fhir import services

    client, _token = services.create_client("EHR", ["system/*.read"], existing)

    created = browser.post(reverse("fhir:clients"), {"name": "Mine", "scopes": ["system/*.read"]})
    revoked = browser.post(reverse("fhir:revoke_client", args=[client.public_id]))

    assert (created.status_code, revoked.status_code) == (403, 403)
    assert IntegrationClient.objects.live().count() == 1
