from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_move_second_factor_to_django_otp"),
    ]

    operations = [
        migrations.DeleteModel(name="RecoveryCode"),
        migrations.DeleteModel(name="StaffDevice"),
    ]
