"""A hold belongs to a waitlist entry or to a patient choosing a series online
(docs/product-rules.md#booking-online).

Existing holds keep their entry; each gets its own public id (a new uuid per row, so the unique
column is filled before it is made unique)."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def give_each_hold_a_public_id(apps, schema_editor):
    Hold = apps.get_model("scheduling", "Hold")
    for hold in Hold.objects.filter(public_id__isnull=True).only("pk"):
        Hold.objects.filter(pk=hold.pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0004_calendar_sequence_and_tomorrow_reminder"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="hold",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_hold_a_public_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="hold",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="hold",
            name="patient",
            field=models.ForeignKey(
                blank=True,
                help_text="The patient choosing a series online, for whom the proposal is kept.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="self_booking_holds",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="hold",
            name="entry",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="holds",
                to="scheduling.waitlistentry",
            ),
        ),
        migrations.AddIndex(
            model_name="hold",
            index=models.Index(
                condition=models.Q(("patient__isnull", False), ("released_at__isnull", True)),
                fields=["patient"],
                name="hold_live_patient",
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("entry__isnull", False), ("patient__isnull", True)),
                    models.Q(("entry__isnull", True), ("patient__isnull", False)),
                    _connector="OR",
                ),
                name="hold_has_one_owner",
            ),
        ),
    ]
