"""The waitlist's offer of an earlier slot, by email and text with a link, is a message kind."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0006_session_moved_by"),
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
                ],
                max_length=20,
            ),
        ),
    ]
