"""Treatment plans get an opaque id for the front desk's URLs (existing rows get fresh ones)."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    TreatmentPlan = apps.get_model("review", "TreatmentPlan")
    for plan in TreatmentPlan.objects.filter(public_id__isnull=True):
        plan.public_id = uuid.uuid4()
        plan.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [("review", "0002_default_protocol_template")]

    operations = [
        migrations.AddField(
            model_name="treatmentplan",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="treatmentplan",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
