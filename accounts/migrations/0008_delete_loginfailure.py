"""Failed sign-ins are counted by django-axes now. Failures in progress are not carried over: a
lock that was running when this is deployed lifts (at most 15 minutes early)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_delete_staffdevice_recoverycode"),
    ]

    operations = [
        migrations.DeleteModel(name="LoginFailure"),
    ]
