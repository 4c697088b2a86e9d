"""An invitation's tokens are LinkTokens now (minted when its email is sent).

Reversible: going back re-adds the column nullable, gives every invitation a random hash (0011's
reverse then puts back the hash of its first link token; one with none stays unusable, as an
unsent invitation is), and only then makes the column required again.
"""

import secrets

from django.db import migrations, models


def random_hashes(apps, schema_editor):
    Invitation = apps.get_model("accounts", "Invitation")
    for pk in Invitation.objects.filter(token_hash__isnull=True).values_list("pk", flat=True):
        Invitation.objects.filter(pk=pk).update(token_hash=secrets.token_hex(32))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_invitation_hashes_to_link_tokens"),
    ]

    operations = [
        migrations.AlterField(
            model_name="invitation",
            name="token_hash",
            field=models.CharField(max_length=64, unique=True, null=True),
        ),
        migrations.RunPython(migrations.RunPython.noop, random_hashes),
        migrations.RemoveField(
            model_name="invitation",
            name="token_hash",
        ),
    ]
