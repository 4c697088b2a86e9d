from __future__ import annotations

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    """The desk's patient search matches names without their accents (Fernández for
    Fernandez): PostgreSQL's unaccent, used by the `__unaccent__icontains` lookups."""

    dependencies = [("accounts", "0012_remove_invitation_token_hash")]

    operations = [UnaccentExtension()]
