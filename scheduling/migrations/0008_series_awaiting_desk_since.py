"""A series booked online where the desk confirms waits for it: since when
(docs/roles/patient.md#patients-book-their-own-series)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0007_offer_reminder_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="series",
            name="awaiting_desk_since",
            field=models.DateTimeField(
                blank=True,
                help_text="Booked online at a location where the desk confirms such a series: since when it waits for the desk's Confirm or Decline. Its sessions hold their chairs and nurses meanwhile; blank once decided, and for every other series.",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="series",
            index=models.Index(
                condition=models.Q(("awaiting_desk_since__isnull", False)),
                fields=["awaiting_desk_since"],
                name="series_awaiting_desk",
            ),
        ),
    ]
