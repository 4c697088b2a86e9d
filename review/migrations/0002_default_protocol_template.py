"""The default protocol (docs/product-rules.md#treatment-plan-and-dosing): 8 infusions, 0.5 mg/kg
over 40 minutes, 2-3 a week within 4 weeks. Clinic admins change it, or add others, in the admin."""

from decimal import Decimal

from django.db import migrations


def create(apps, schema_editor):
    ProtocolTemplate = apps.get_model("review", "ProtocolTemplate")
    ProtocolTemplate.objects.get_or_create(
        name="Standard series: 8 infusions",
        defaults={
            "is_default": True,
            "indication": "Chronic pain",
            "infusions": 8,
            "min_days_between": 2,
            "max_days_between": 7,
            "span_days": 28,
            "dose_mg_per_kg": Decimal("0.50"),
            "infusion_minutes": 40,
            "chair_minutes_before": 15,
            "chair_minutes_after": 45,
            "notes": "2-3 infusions a week within 4 weeks.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("review", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
