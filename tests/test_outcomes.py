"""The response to treatment (docs/product-rules.md#pain-change-and-response) as patients and
clinicians see it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from charting.models import InfusionRecord
from outcomes.models import CheckIn
from scheduling.models import Status
from tests.charting_data import next_session, session_today

pytestmark = pytest.mark.django_db


def _charted(session, nurse, before: int, after: int) -> InfusionRecord:
    start = session.starts_at
    record = InfusionRecord.objects.create(
        session=session,
        nurse=nurse,
        checked_in_at=start - dt.timedelta(minutes=10),
        checked_in_charted_at=start - dt.timedelta(minutes=10),
        fasting_confirmed=True,
        escort_name="Escort",
        escort_phone="+12035550111",
        weight_kg=Decimal("70.0"),
        pain_before=before,
        pain_after=after,
        dose_mg_per_kg=Decimal("0.50"),
        dose_mg=Decimal("35.0"),
        dose_confirmed_at=start,
        infusion_started_at=start,
        infusion_ended_at=start + dt.timedelta(minutes=40),
        discharged_at=start + dt.timedelta(minutes=80),
    )
    type(session).objects.filter(pk=session.pk).update(status=Status.COMPLETED)
    return record


def test_a_single_infusion_with_great_relief_is_not_called_a_response(login):
    session, nurse = session_today(starts_in=-120)
    _charted(session, nurse, before=7, after=1)

    page = login(session.patient).get(reverse("outcomes:mine")).content.decode()

    assert "Too early to judge a response: 2 completed infusions are needed (1 so far)" in page
    assert "responder" not in page.split('data-testid="responder-status"')[1].split("</p>")[0]
    assert "<td>6</td>" in page  # the session's relief, shown apart


def test_the_response_is_judged_on_later_pain_against_the_intakes_average(login):
    session, nurse = session_today(starts_in=-3 * 24 * 60)
    _charted(session, nurse, before=7, after=0)
    second = next_session(session, days=2)
    _charted(second, nurse, before=3, after=0)
    client = login(session.patient)

    judged = client.get(reverse("outcomes:mine")).content.decode()
    assert "Baseline pain 7 (intake, 7-day average); latest pain 3, before infusion 2" in judged
    assert "57.1% less" in judged and "Substantial response" in judged

    CheckIn.objects.create(session=second, pain=5)
    later = client.get(reverse("outcomes:mine")).content.decode()
    assert "latest pain 5, follow-up after infusion 2" in later
    assert "28.5% less" in later and "No meaningful response" in later
