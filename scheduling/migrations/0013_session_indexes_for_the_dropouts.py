from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0012_a_session_is_at_its_series_location"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="session",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["booked", "confirmed", "checked_in", "in_chair"])
                ),
                fields=["location", "series"],
                name="session_open_by_series",
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(
                condition=models.Q(("status", "completed")),
                fields=["location", "series"],
                name="session_completed_by_series",
            ),
        ),
    ]
