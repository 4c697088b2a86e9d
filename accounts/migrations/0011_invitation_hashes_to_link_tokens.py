"""Invitations sent before link tokens keep working: each one's stored hash becomes its token."""

from django.db import migrations


def move(apps, schema_editor):
    Invitation = apps.get_model("accounts", "Invitation")
    LinkToken = apps.get_model("accounts", "LinkToken")
    LinkToken.objects.bulk_create(
        LinkToken(
            purpose="invitation",
            token_hash=invitation.token_hash,
            invitation=invitation,
            expires_at=invitation.expires_at,
            used_at=invitation.used_at,
        )
        for invitation in Invitation.objects.all().iterator()
    )


def back(apps, schema_editor):
    Invitation = apps.get_model("accounts", "Invitation")
    LinkToken = apps.get_model("accounts", "LinkToken")
    for invitation in Invitation.objects.all().iterator():
        token = LinkToken.objects.filter(invitation=invitation).order_by("created_at").first()
        if token is not None:
            Invitation.objects.filter(pk=invitation.pk).update(token_hash=token.token_hash)
    # The hashes live on the invitations again; `move` makes their link tokens anew.
    LinkToken.objects.filter(purpose="invitation").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_link_tokens"),
    ]

    operations = [
        migrations.RunPython(move, back),
    ]
