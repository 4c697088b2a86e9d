from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role, User
from tests.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _plain_http_in_tests(settings: object) -> None:
    # Production settings redirect to HTTPS; the test client and live server speak plain HTTP.
    settings.SECURE_SSL_REDIRECT = False  # type: ignore[attr-defined]
    # Production serves hashed files made by collectstatic; tests serve the sources directly.
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def make_user(db: None):
    def make(role: Role = Role.PATIENT, **fields: object) -> User:
        return UserFactory(role=role, **fields)

    return make


@pytest.fixture
def login(client: Client):
    """Sign a user in through the real login form, as a person would."""

    def sign_in(user: User) -> Client:
        response = client.post(
            "/login/", {"username": user.email, "password": PASSWORD}, follow=False
        )
        assert response.status_code == 302, "the login form refused the test user"
        return client

    return sign_in
