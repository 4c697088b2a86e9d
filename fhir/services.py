"""Integration clients: created with a token shown once, revoked for good."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from fhir.access import token_hash
from fhir.models import IntegrationClient


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_client(name: str, scopes: list[str], created_by: User) -> tuple[IntegrationClient, str]:
    """The client and its token. Only the token's SHA-256 is stored: a leaked database does not
    leak working tokens, and a lost token is replaced by a new client, never shown again."""
    token = new_token()
    client = IntegrationClient.objects.create(
        name=name,
        scopes=sorted(set(scopes)),
        token_hash=token_hash(token),
        token_prefix=token[:8],
        created_by=created_by,
    )
    return client, token


@transaction.atomic
def revoke_client(client: IntegrationClient, by: User) -> bool:
    """Revoke once (a conditional UPDATE): True when this call revoked it."""
    changed = IntegrationClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    return changed == 1
