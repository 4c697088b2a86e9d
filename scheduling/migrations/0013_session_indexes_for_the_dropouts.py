"""The two partial indexes the dashboard's drop-outs read (outcomes.reports._dropouts), built
concurrently: bookings go on writing sessions while a large table is indexed."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("scheduling", "0012_a_session_is_at_its_series_location"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["booked", "confirmed", "checked_in", "in_chair"])
                ),
                fields=["location", "series"],
                name="session_open_by_series",
            ),
        ),
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(
                condition=models.Q(("status", "completed")),
                fields=["location", "series"],
                name="session_completed_by_series",
            ),
        ),
    ]
