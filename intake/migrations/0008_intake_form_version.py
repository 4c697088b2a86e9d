"""Each intake records the form version it asks; intakes from before are on form 1."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0007_answers_written_only_to_a_shared_locked_draft"),
    ]

    operations = [
        # Existing rows (drafts included) were started on form 1 and finish on it.
        migrations.AddField(
            model_name="intake",
            name="form_version",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text="The version of the questionnaire this intake asks (intake.steps.FORMS).",
            ),
        ),
        # New intakes start on the current form.
        migrations.AlterField(
            model_name="intake",
            name="form_version",
            field=models.PositiveSmallIntegerField(
                default=2,
                help_text="The version of the questionnaire this intake asks (intake.steps.FORMS).",
            ),
        ),
    ]
