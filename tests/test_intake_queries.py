"""Each step's page costs a fixed number of queries, whatever the answers hold."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from intake.models import Intake
from intake.steps import STEPS
from tests.factories import LocationFactory
from tests.intake_data import valid_steps

pytestmark = pytest.mark.django_db

# The session, user, intake, its answers, the audit event; plus what a step shows of its own
# (step 1: the location choices and the date of birth from registration).
BASE = 5
EXTRA = {"about": 2, "insurance": 1, "consents": 1}


@pytest.fixture
def intake_client(make_user, login):
    for slug in ("stamford", "irvine"):
        LocationFactory.create(slug=slug, name=slug.title())
    client = login(make_user(role=Role.PATIENT))
    client.post(reverse("intake:start"))
    return client, Intake.objects.get()


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.slug)
def test_each_step_page_uses_a_fixed_number_of_queries(intake_client, step):
    client, intake = intake_client
    url = reverse("intake:step", args=[intake.public_id, step.slug])
    empty = _count(client, url)

    data = valid_steps()[step.slug]
    if step.slug == "safety":
        # Many medicine rows must not cost more queries.
        data = {**data, "medications-TOTAL_FORMS": "12"}
        data.update({f"medications-{n}-name": f"Medicine {n}" for n in range(12)})
    client.post(url, data)
    filled = _count(client, url)

    assert empty == filled == BASE + EXTRA.get(step.slug, 0)


def test_the_review_page_uses_a_fixed_number_of_queries(intake_client):
    client, intake = intake_client
    for slug, data in valid_steps().items():
        client.post(reverse("intake:step", args=[intake.public_id, slug]), data)

    count = _count(client, reverse("intake:review", args=[intake.public_id]))

    # Session, user, intake, the audit event, answers, the card, and step 1's location choices.
    assert count == 7


@pytest.mark.django_db(transaction=True)
def test_saving_a_step_locks_the_intake_then_writes_its_answers(intake_client):
    """Session, user, intake, the audit event, then in one transaction the intake's lock and the
    answers: an INSERT the first time, an UPDATE after."""
    client, intake = intake_client
    url = reverse("intake:step", args=[intake.public_id, "pain"])
    expected = {
        "6": [*["SELECT"] * 3, "INSERT", "BEGIN", "SELECT", "UPDATE", "INSERT", "COMMIT"],
        "3": [*["SELECT"] * 3, "INSERT", "BEGIN", "SELECT", "UPDATE", "COMMIT"],
    }
    for pain_now, statements in expected.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url, {**valid_steps()["pain"], "pain_now": pain_now})
        assert response.status_code == 302
        assert [query["sql"].split()[0] for query in queries] == statements
        assert "FOR UPDATE" in queries[5]["sql"]
        assert intake.answers.get(step="pain").data["pain_now"] == int(pain_now)
