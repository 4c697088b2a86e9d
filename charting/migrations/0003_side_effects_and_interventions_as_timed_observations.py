"""Side effects and interventions kept on the record become timed observations.

Their real time was never recorded; the start of the infusion (or the check-in) is the best
bound there is, and is also used as the charting time.
"""

from django.db import migrations


def forward(apps, schema_editor):
    InfusionRecord = apps.get_model("charting", "InfusionRecord")
    Observation = apps.get_model("charting", "Observation")
    rows = []
    for record in InfusionRecord.objects.exclude(side_effects=[], interventions=""):
        at = record.infusion_started_at or record.checked_in_at
        for code in record.side_effects:
            rows.append(
                Observation(
                    record=record,
                    kind="side_effect",
                    side_effect=code,
                    at=at,
                    charted_at=at,
                    charted_by_id=record.nurse_id,
                )
            )
        if record.interventions.strip():
            rows.append(
                Observation(
                    record=record,
                    kind="intervention",
                    text=record.interventions.strip()[:300],
                    at=at,
                    charted_at=at,
                    charted_by_id=record.nurse_id,
                )
            )
    Observation.objects.bulk_create(rows)


def backward(apps, schema_editor):
    InfusionRecord = apps.get_model("charting", "InfusionRecord")
    Observation = apps.get_model("charting", "Observation")
    for record in InfusionRecord.objects.filter(pk__in=Observation.objects.values("record")):
        notes = Observation.objects.filter(record=record)
        record.side_effects = [n.side_effect for n in notes if n.kind == "side_effect"]
        record.interventions = "; ".join(n.text for n in notes if n.kind == "intervention")
        record.save(update_fields=["side_effects", "interventions"])
    Observation.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("charting", "0002_timeline_charted_times_signing_observations_addenda")]

    operations = [migrations.RunPython(forward, backward)]
