"""The first published versions of the consent texts; the clinic admin publishes newer ones."""

import datetime as dt
from typing import Any

from django.db import migrations

PUBLISHED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

TEXTS = [
    (
        "treatment",
        "Consent to treatment with intravenous ketamine",
        "I ask to be assessed for, and if a clinician approves, treated with low-dose ketamine "
        "given into a vein (an infusion), usually as a series of 8 to 12 infusions over 3 to 4 "
        "weeks.\n\n"
        "I understand that ketamine for chronic pain, depression or anxiety is used off-label; "
        "that during and after an infusion I may feel dreamy, dizzy, detached or sick, and that "
        "my blood pressure and heart rate may rise; and that a nurse will watch me, measure my "
        "blood pressure, pulse and oxygen throughout, and may slow or stop the infusion.\n\n"
        "I understand the benefit is not guaranteed, that I may stop at any time, and that I must "
        "tell the clinic about every medicine I take and any change in my health.",
    ),
    (
        "escort",
        "Driver and escort agreement",
        "After each infusion a responsible adult will take me home. I will not drive, operate "
        "machinery or make important decisions for 24 hours after an infusion. If no one is "
        "there to take me home, the infusion will not start.",
    ),
    (
        "fasting",
        "Fasting before an infusion",
        "Before each infusion: no solid food for 6 hours; clear liquids (water, clear juice, "
        "black coffee or tea) are fine until 2 hours before. Take your usual medicines unless the "
        "clinic tells you otherwise. The clinic may give you different instructions; theirs win.",
    ),
    (
        "sms",
        "Appointment text messages",
        "We will text your mobile number about your appointments: confirmations, reminders and "
        "preparation instructions. Texts never contain medical details. Message and data rates "
        "may apply. Reply STOP to stop at any time, or change your choice with the front desk.",
    ),
]


def _has_language(model: Any) -> bool:
    # The tests call this function again on the latest schema (tests/conftest.py), where a
    # version exists once per language (migration 0009).
    return any(field.name == "language" for field in model._meta.get_fields())


def publish(apps, schema_editor):
    ConsentText = apps.get_model("intake", "ConsentText")
    for kind, title, body in TEXTS:
        ConsentText.objects.update_or_create(
            kind=kind,
            version="2026-11",
            **({"language": "en"} if _has_language(ConsentText) else {}),
            defaults={"title": title, "body": body, "published_at": PUBLISHED},
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
