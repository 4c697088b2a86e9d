"""An invitation's tokens are LinkTokens now (minted when its email is sent)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_invitation_hashes_to_link_tokens"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="invitation",
            name="token_hash",
        ),
    ]
