"""The "requested" and "declined" messages of a series booked online are message kinds."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0008_series_awaiting_desk_since"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reminderrule",
            name="kind",
            field=models.CharField(
                choices=[
                    ("confirmation", "Booking confirmation (with .ics)"),
                    ("preparation", "Preparation, 72 hours before"),
                    ("reminder", "Reminder with confirm/cancel link, 48 hours before"),
                    ("tomorrow", "See you tomorrow, with the fasting rule, 24 hours before"),
                    ("fasting", "Fasting reminder on the morning"),
                    ("followup", "Follow-up check-in, 24 hours after"),
                    ("questionnaire", "PHQ-9 and PEG at baseline, mid-series and end"),
                    ("changed", "Appointment moved"),
                    ("cancelled", "Appointment cancelled"),
                    ("offer", "Earlier slot offered from the waitlist, with a link"),
                    ("requested", "Series booked online, awaiting the clinic's confirmation"),
                    ("declined", "Series booked online, declined by the clinic"),
                ],
                max_length=20,
            ),
        ),
    ]
