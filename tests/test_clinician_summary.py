"""The clinician's intake summary after a decision: the acknowledgement closes its task, the
approved dose is shown with its cap and arithmetic, and times are local with their zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from intake.models import UrgentFlag
from review import services
from review.models import ProtocolTemplate
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import submitted_intake
from worklist.models import Task

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)  # 09:30 in Stamford


@pytest.fixture
def clinician():
    stamford = LocationFactory.create(slug="stamford", name="Stamford")
    user = UserFactory.create(role=Role.CLINICIAN, email="doc@example.org", first_name="Dana")
    user.locations.set([stamford])
    return user


def test_acknowledging_an_urgent_flag_closes_its_task_with_the_note(clinician, login):
    patient = UserFactory.create(role=Role.PATIENT, email="p1@example.org")
    intake = submitted_intake(patient, changes={"mood": {"phq9_9": "1"}})
    task = Task.objects.get(cause="urgent_flag")
    assert task.status == "open"

    with time_machine.travel(NOW, tick=False):
        client = login(clinician)
        client.post(
            reverse("review:acknowledge", args=[intake.public_id]),
            {"ack-note": "Called; safe, plan agreed."},
        )
        page = client.get(reverse("review:summary", args=[intake.public_id])).content.decode()

    task.refresh_from_db()
    assert (task.status, task.note, task.closed_by) == (
        "done",
        "Called; safe, plan agreed.",
        clinician,
    )
    flag = UrgentFlag.objects.get(intake=intake)
    assert flag.note == "Called; safe, plan agreed."
    assert "on 2 Nov 2026 09:30 EST: Called; safe, plan agreed." in page
    assert "UTC" not in page.split('aria-labelledby="urgent-h"')[1].split("</section>")[0]


def test_closing_the_task_still_leaves_the_flag_to_acknowledge(clinician, login):
    patient = UserFactory.create(role=Role.PATIENT, email="p2@example.org")
    intake = submitted_intake(patient, changes={"mood": {"phq9_9": "1"}})
    task = Task.objects.get(cause="urgent_flag")
    client = login(clinician)
    client.post(f"/review/tasks/{task.public_id}/done/", {"note": "Phoned"})
    flag = UrgentFlag.objects.get(intake=intake)
    assert flag.acknowledged_at is None


def test_the_summary_shows_the_approved_dose_with_its_cap_beside_the_default(clinician, login):
    patient = UserFactory.create(role=Role.PATIENT, email="p3@example.org")
    intake = submitted_intake(patient)
    weight = Decimal(str(intake.scores["measurements"]["weight_kg"]))
    template = ProtocolTemplate.objects.get(is_default=True)
    values = {field: getattr(template, field) for field in services.PLAN_FIELDS}
    values["dose_cap_mg"] = Decimal("30.0")
    with time_machine.travel(NOW, tick=False):
        services.approve(intake, clinician, values)
        page = login(clinician).get(reverse("review:summary", args=[intake.public_id]))
    html = page.content.decode()

    uncapped = (weight * Decimal("0.50")).quantize(Decimal("0.1"))
    assert uncapped > 30
    approved = html.split('data-testid="approved-dose"')[1].split("</p>")[0]
    assert "Approved dose: <strong>30.0 mg</strong>" in approved
    assert f"{weight} kg × 0.50 mg/kg = {uncapped} mg, capped at 30.0 mg" in approved
    assert f"Dose at the default protocol: <strong>{uncapped} mg</strong>" in html
    decision = html.split('aria-labelledby="decisions-h"')[1].split("</li>")[0]
    assert "on 2 Nov 2026 09:30 EST" in decision
    assert "0.50 mg/kg, capped at 30.0 mg" in decision
    assert "UTC" not in decision
