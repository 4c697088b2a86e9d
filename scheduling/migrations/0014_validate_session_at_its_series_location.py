"""Validate session_at_its_series_location (0012) for the sessions written before it: VALIDATE
CONSTRAINT reads them under a SHARE UPDATE EXCLUSIVE lock, so bookings go on meanwhile."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0013_session_indexes_for_the_dropouts"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE scheduling_session VALIDATE CONSTRAINT session_at_its_series_location;",
            migrations.RunSQL.noop,
        ),
    ]
