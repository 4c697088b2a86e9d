"""A patient with a whole course so far, for the FHIR API tests: a submitted intake, an approved
plan, a booked series, one session charted from check-in to discharge, the check-in after it,
the baseline questionnaire, and a second session booked."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User
from charting import services as charting
from charting.models import InfusionRecord
from charting.rules import Discharge, Vitals
from fhir import services
from fhir.models import IntegrationClient
from intake import scoring
from outcomes.models import CheckIn, Milestone
from outcomes.models import QuestionnaireResponse as MilestoneResponse
from scheduling.models import Session
from tests.charting_data import session_today
from tests.factories import UserFactory

# The baseline questionnaire's answers (outcomes.forms.QuestionnaireForm's names).
BASELINE_ANSWERS = {**{f"phq9_{n}": 2 for n in range(1, 9)}, "phq9_9": 1, "peg_1": 6}
BASELINE_ANSWERS.update({"peg_2": 5, "peg_3": 4})


@dataclass
class Course:
    patient: User
    first: Session
    second: Session
    record: InfusionRecord
    times: dict[str, dt.datetime]


def charted_course(email: str = "fhir@example.org", slug: str = "stamford") -> Course:
    """The first session charted in order through its morning (the chart refuses steps out of
    order or in the future, so the clock walks with the nurse), earlier today in New York."""
    morning = dt.datetime.combine(
        timezone.localdate(), dt.time(10), tzinfo=zoneinfo.ZoneInfo("America/New_York")
    )
    with time_machine.travel(morning, tick=False) as clock:
        first, nurse = session_today(slug=slug, email=email)
        start = first.starts_at
        clock.move_to(start - dt.timedelta(minutes=5))
        record = charting.check_in(
            first,
            nurse,
            escort_name="Jamie Testperson",
            escort_phone="+12035550111",
            weight_kg=Decimal("74.8"),
            pain_before=7,
            pregnancy_possible=False,
            vitals=Vitals(130, 80, 75, 98, 14),
        )
        clock.move_to(start)
        charting.confirm_dose_and_start(record)
        times = {
            "infusion": start + dt.timedelta(minutes=30),
            "recovery": start + dt.timedelta(minutes=75),
        }
        # Charted without a respiratory rate: that reading gives three observations, not four.
        clock.move_to(times["infusion"])
        charting.record_vitals(record, nurse, Vitals(135, 85, 80, 97), "infusion")
        clock.move_to(start + dt.timedelta(minutes=40))
        charting.end_infusion(record)
        clock.move_to(times["recovery"])
        charting.record_vitals(record, nurse, Vitals(128, 82, 72, 98, 16), "recovery")
        clock.move_to(start + dt.timedelta(minutes=85))
        charting.discharge(record, Discharge(True, True, True), pain_after=3)
    CheckIn.objects.create(session=first, pain=4, side_effects=["nausea"])
    phq9 = scoring.phq9([BASELINE_ANSWERS[f"phq9_{n}"] for n in range(1, 10)])
    MilestoneResponse.objects.create(
        patient=first.patient,
        series=first.series,
        milestone=Milestone.BASELINE,
        answers=BASELINE_ANSWERS,
        phq9_total=phq9.total,
        phq9_band=phq9.band.value,
        peg=scoring.peg(6, 5, 4),
    )
    later = start + dt.timedelta(days=3)
    second = Session.objects.create(
        series=first.series,
        number=2,
        patient=first.patient,
        location=first.location,
        chair=first.location.chairs.get(position=2),
        nurse=nurse,
        starts_at=later,
        setup_ends_at=later + dt.timedelta(minutes=15),
        ends_at=later + dt.timedelta(minutes=100),
    )
    record.refresh_from_db()
    first.refresh_from_db()
    return Course(first.patient, first, second, record, times)


def integration_client(*scopes: str, name: str = "Practice EHR") -> tuple[IntegrationClient, str]:
    admin = UserFactory.create(role=Role.CLINIC_ADMIN)
    return services.create_client(name, list(scopes or ["system/*.read"]), admin)


def bearer(token: str) -> Client:
    """A client that sends the token on every request, and no cookie."""
    return Client(headers={"Authorization": f"Bearer {token}"})
