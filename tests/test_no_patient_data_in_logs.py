"""A whole journey with every logger at DEBUG: no patient name, birth date, phone or email."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role, User
from notifications import services as outbox
from scheduling.models import Session
from tests.factories import UserFactory
from tests.intake_data import valid_steps
from tests.scheduling_data import make_location

pytestmark = pytest.mark.django_db

SECRETS = [
    "Avery",
    "Testperson",
    "1980-04-12",
    "04/12/1980",
    "2035550199",
    "555-0199",
    "avery.journey@example.org",
    "Jamie",
]


def test_a_full_journey_logs_no_patient_data(client, login, caplog, settings, tmp_path):
    settings.SMS_BACKEND = "notifications.backends.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    caplog.set_level(logging.DEBUG)
    location = make_location(shifts_from=dt.date.today())
    clinician = UserFactory.create(role=Role.CLINICIAN)
    clinician.locations.add(location)

    # Registration and email verification.
    client.post(
        "/register/",
        {
            "first_name": "Avery",
            "last_name": "Testperson",
            "email": "avery.journey@example.org",
            "date_of_birth": "1980-04-12",
        },
    )
    link = re.search(r"(/register/verify/\S+/)", str(mail.outbox[-1].body)).group(1)
    client.post(link, {"password1": "a-long-journey-pass-1", "password2": "a-long-journey-pass-1"})
    patient = User.objects.get(email="avery.journey@example.org")
    assert patient.is_active

    # The intake, with a mistake on the way and an urgent answer.
    client.post(reverse("intake:start"))
    intake = patient.intakes.get()
    steps = valid_steps()
    steps["about"]["email"] = "avery.journey@example.org"
    steps["mood"]["phq9_9"] = "1"
    client.post(
        reverse("intake:step", args=[intake.public_id, "about"]),
        {**steps["about"], "postal_code": "bad"},
    )
    for slug, data in steps.items():
        client.post(reverse("intake:step", args=[intake.public_id, slug]), data)
    client.post(reverse("intake:submit", args=[intake.public_id]))
    intake.refresh_from_db()
    assert intake.status == "submitted"

    # Review: acknowledge the urgent flag and approve with the default plan.
    doctor = login(clinician)
    doctor.get(reverse("review:summary", args=[intake.public_id]))
    doctor.post(reverse("review:acknowledge", args=[intake.public_id]), {"ack-note": "Called."})
    from review.models import ProtocolTemplate
    from review.services import PLAN_FIELDS

    template = ProtocolTemplate.objects.get(is_default=True)
    plan_data = {f"plan-{f}": getattr(template, f) or "" for f in PLAN_FIELDS}
    doctor.post(reverse("review:approve", args=[intake.public_id]), plan_data)
    plan = patient.treatment_plans.get()

    # Booking the series through the front desk's pages.
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    first = dt.date.today() + dt.timedelta(days=3)
    query = {
        "location": location.pk,
        "first_date": first.isoformat(),
        "weekdays": ["0", "1", "2", "3", "4"],
        "window_starts": "09:00",
        "window_ends": "12:00",
    }
    url = reverse("scheduling:plan", args=[plan.public_id])
    proposal = desk.get(url, query).context["proposal"]
    from urllib.parse import urlencode

    desk.post(
        f"{url}?{urlencode(query, doseq=True)}",
        {
            f"session_{s.number}": f"{s.slot.date.isoformat()}T{s.slot.local_time:%H:%M}"
            for s in proposal.sessions
        },
    )
    assert Session.objects.filter(patient=patient).count() == plan.infusions

    # Reminders: every message, due or not, goes through the senders.
    from notifications.models import Message

    Message.objects.update(send_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    for message_id in outbox.claim_due(100_000):
        outbox.send(message_id)
    assert Message.objects.filter(status="sent").count() > 10

    # A cancellation, and the patient's pages.
    session = Session.objects.filter(patient=patient).order_by("starts_at").last()
    desk.post(reverse("scheduling:cancel", args=[session.public_id]), {})
    client.get(reverse("scheduling:my_sessions"))

    logged = caplog.text
    assert len(caplog.records) > 0
    for secret in SECRETS:
        assert secret not in logged, secret
