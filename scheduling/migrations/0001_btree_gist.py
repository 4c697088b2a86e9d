"""btree_gist lets one exclusion constraint mix equality (chair, patient) with range overlap."""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    operations = [BtreeGistExtension()]
