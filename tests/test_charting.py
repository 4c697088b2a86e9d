"""Infusion-day rules and the nurse's chart (PRODUCT.md 6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from charting import rules
from charting.models import InfusionRecord, VitalSign
from intake import scoring
from notifications.models import Message
from review.models import DosePreview
from scheduling.models import Status
from tests.charting_data import session_today

DEFAULT = rules.Thresholds()
CALM = rules.Vitals(130, 80, 75, 98, 14)


@pytest.mark.parametrize(
    ("weight", "mg_per_kg", "cap", "dose", "text"),
    [
        (Decimal("74.8"), Decimal("0.50"), None, Decimal("37.4"), "74.8 kg × 0.50 mg/kg = 37.4 mg"),
        (Decimal("81.3"), Decimal("0.50"), None, Decimal("40.7"), "81.3 kg × 0.50 mg/kg = 40.7 mg"),
        (Decimal("60.1"), Decimal("0.75"), None, Decimal("45.1"), "60.1 kg × 0.75 mg/kg = 45.1 mg"),
        (
            Decimal("120.0"),
            Decimal("0.50"),
            Decimal("50.0"),
            Decimal("50.0"),
            "120.0 kg × 0.50 mg/kg = 60.0 mg, capped at 50.0 mg",
        ),
        (Decimal("100.0"), Decimal("0.50"), Decimal("50.0"), Decimal("50.0"), "= 50.0 mg"),
    ],
)
def test_the_dose_is_weight_times_mg_per_kg_capped_and_rounded_with_its_arithmetic(
    weight, mg_per_kg, cap, dose, text
):
    preview = DosePreview.compute(weight, mg_per_kg, cap)

    assert preview.dose_mg == dose
    assert text in preview.arithmetic


def test_the_dose_from_pounds_uses_the_kilogram_conversion():
    kg = scoring.pounds_to_kg(Decimal("165"))

    assert DosePreview.compute(kg, Decimal("0.50"), None).dose_mg == Decimal("37.4")


@pytest.mark.parametrize(
    ("vitals", "expected"),
    [
        (rules.Vitals(180, 80, 75, 98), []),
        (rules.Vitals(181, 80, 75, 98), ["Systolic 181 above 180 mmHg"]),
        (rules.Vitals(150, 110, 75, 98), []),
        (rules.Vitals(150, 111, 75, 98), ["Diastolic 111 above 110 mmHg"]),
        (rules.Vitals(130, 80, 120, 98), []),
        (rules.Vitals(130, 80, 121, 98), ["Pulse 121 above 120/min"]),
        (rules.Vitals(130, 80, 50, 98), []),
        (rules.Vitals(130, 80, 49, 98), ["Pulse 49 below 50/min"]),
        (rules.Vitals(130, 80, 75, 92), []),
        (rules.Vitals(130, 80, 75, 91), ["Oxygen saturation 91% below 92%"]),
    ],
)
def test_each_alert_threshold_edge(vitals, expected):
    assert rules.alerts(vitals, DEFAULT) == expected


def test_thresholds_are_the_locations_own():
    strict = rules.Thresholds(systolic_above=160)

    assert rules.alerts(rules.Vitals(161, 80, 75, 98), strict) == ["Systolic 161 above 160 mmHg"]


ALL_DONE = rules.Discharge(True, True, True)


@pytest.mark.parametrize(
    ("checklist", "latest", "problem"),
    [
        (rules.Discharge(False, True, True), CALM, "alert and oriented"),
        (rules.Discharge(True, False, True), CALM, "escort must be present"),
        (rules.Discharge(True, True, False), CALM, "after-care instructions"),
        (ALL_DONE, None, "Record a set of vitals"),
        (ALL_DONE, rules.Vitals(151, 80, 75, 98), "Systolic 151 vs 130"),
        (ALL_DONE, rules.Vitals(130, 96, 75, 98), "Diastolic 96 vs 80"),
        (ALL_DONE, rules.Vitals(130, 80, 91, 98), "Pulse 91 vs 75"),
        (ALL_DONE, rules.Vitals(130, 80, 75, 95), "SpO2 95% vs 98%"),
    ],
)
def test_discharge_is_refused_until_every_rule_holds(checklist, latest, problem):
    problems = rules.discharge_problems(checklist, latest, CALM)

    assert any(problem in p for p in problems), problems


def test_discharge_allowed_within_the_margins_of_baseline():
    settled = rules.Vitals(150, 95, 90, 96)

    assert rules.discharge_problems(ALL_DONE, settled, CALM) == []


@pytest.mark.parametrize(
    ("before", "after", "category"),
    [
        (10, 7, "moderate"),
        (10, 8, "none"),
        (10, 5, "substantial"),
        (8, 3, "substantial"),
        (0, 0, "none"),
    ],
)
def test_responder_computation(before, after, category):
    assert scoring.pain_response(before, after).category == category


@pytest.mark.django_db
def test_a_nurse_charts_an_infusion_from_check_in_to_discharge(login):
    session, nurse = session_today()
    client = login(nurse)
    url = reverse("charting:chart", args=[session.public_id])
    start = session.local_start()
    early = (start - dt.timedelta(hours=7)).strftime("%H:%M")
    late_food = (start - dt.timedelta(hours=3)).strftime("%H:%M")
    clear = (start - dt.timedelta(hours=3)).strftime("%H:%M")
    check_in = {
        "action": "check_in",
        "last_solid_food": late_food,
        "last_clear_liquid": clear,
        "escort_name": "Jamie",
        "escort_phone": "203 555 0111",
        "escort_present": "on",
        "pregnancy_possible": "no",
        "weight_kg": "74.8",
        "systolic": "130",
        "diastolic": "80",
        "pulse": "75",
        "spo2": "98",
        "resp_rate": "14",
        "pain_before": "7",
    }

    refused = client.post(url, check_in)
    assert "Not fasted" in refused.content.decode()
    assert not InfusionRecord.objects.exists()

    client.post(url, {**check_in, "last_solid_food": early})
    record = InfusionRecord.objects.get(session=session)
    assert (record.weight_kg, record.dose_mg, record.pain_before) == (
        Decimal("74.8"),
        Decimal("37.4"),
        7,
    )
    session.refresh_from_db()
    assert session.status == Status.CHECKED_IN
    assert "74.8 kg × 0.50 mg/kg = 37.4 mg" in client.get(url).content.decode()

    client.post(url, {"action": "start"})
    record.refresh_from_db()
    assert record.dose_confirmed_at is not None and record.infusion_started_at is not None

    vitals = {
        "action": "vitals",
        "phase": "infusion",
        "diastolic": "85",
        "pulse": "80",
        "spo2": "97",
        "resp_rate": "14",
    }
    page = client.post(url, {**vitals, "systolic": "185"}, follow=True).content.decode()
    assert "Systolic 185 above 180 mmHg" in page
    assert VitalSign.objects.filter(record=record, phase="infusion").get().alerts == [
        "Systolic 185 above 180 mmHg"
    ]

    client.post(url, {"action": "end", "stopped_early_reason": ""})
    client.post(url, {**vitals, "systolic": "135", "phase": "recovery"})
    refused = client.post(url, {"action": "discharge", "pain_after": "3"}, follow=True)
    assert "escort must be present" in refused.content.decode()
    client.post(
        url,
        {
            "action": "discharge",
            "alert_and_oriented": "on",
            "escort_present": "on",
            "instructions_given": "on",
            "pain_after": "3",
        },
    )

    record.refresh_from_db()
    session.refresh_from_db()
    assert (session.status, record.pain_after) == (Status.COMPLETED, 3)
    followup = Message.objects.get(kind="followup", channel="email", status="pending")
    assert record.discharged_at is not None
    assert followup.send_at == record.discharged_at + dt.timedelta(hours=24)


@pytest.mark.django_db
def test_a_nurse_of_another_location_cannot_open_the_chart(login):
    session, _nurse = session_today()
    _other_session, other_nurse = session_today("irvine", "other.chart@example.org")

    response = login(other_nurse).get(reverse("charting:chart", args=[session.public_id]))

    assert response.status_code == 404
