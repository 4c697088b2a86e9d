"""Invitations emailed before link tokens keep working after the upgrade (accounts 0011)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

BEFORE = [("accounts", "0010_link_tokens")]


@pytest.mark.django_db(transaction=True)
def test_an_invitation_link_sent_before_the_upgrade_still_opens_the_invitation():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    inviter = old.get_model("accounts", "User").objects.create(
        email="desk@example.org", role="front_desk", password="!"
    )
    token = "an-invitation-token-emailed-before-the-upgrade-0123"
    old.get_model("accounts", "Invitation").objects.create(
        email="robin.ames@example.org",
        first_name="Robin",
        invited_by=inviter,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=timezone.now() + dt.timedelta(days=3),
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest, as deployed

    from accounts.models import Invitation, LinkToken

    invitation = Invitation.objects.get()
    stored = LinkToken.objects.get()
    assert (stored.purpose, stored.invitation, stored.used_at) == ("invitation", invitation, None)
    assert stored.expires_at == invitation.expires_at
    page = Client().get(f"/register/invite/{token}/")
    assert page.status_code == 200
    assert 'value="robin.ames@example.org"' in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_can_be_rolled_back_with_invitations_in_the_database():
    """A deploy rolled back past accounts 0012 gives every invitation its hash column back."""
    from accounts.models import Invitation, LinkToken, TokenPurpose, User

    inviter = User.objects.create(email="desk@example.org", role="front_desk", password="!")
    expires = timezone.now() + dt.timedelta(days=3)
    emailed = Invitation.objects.create(
        email="a@example.org", first_name="A", invited_by=inviter, expires_at=expires
    )
    Invitation.objects.create(
        email="b@example.org", first_name="B", invited_by=inviter, expires_at=expires
    )
    LinkToken.objects.create(
        purpose=TokenPurpose.INVITATION,
        token_hash="f" * 64,
        invitation=emailed,
        expires_at=expires,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    hashes = dict(
        old.get_model("accounts", "Invitation").objects.values_list("email", "token_hash")
    )
    assert hashes["a@example.org"] == "f" * 64  # the emailed link's hash is back
    assert len(hashes["b@example.org"]) == 64  # never emailed: a random, unusable hash

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
