"""Who made a session's last move when it was the patient online (the desk's series page says so)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0005_holds_for_patients_choosing_online"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="moved_by",
            field=models.ForeignKey(
                blank=True,
                help_text="Who made the last move, when a person online did (the patient); blank "
                "for the desk's moves, so the desk sees which moves the patient made.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
