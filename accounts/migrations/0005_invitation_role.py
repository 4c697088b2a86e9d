from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_second_factor_and_login_failures"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="role",
            field=models.CharField(
                choices=[
                    ("patient", "Patient"),
                    ("front_desk", "Front desk"),
                    ("nurse", "Nurse"),
                    ("clinician", "Clinician"),
                    ("clinic_admin", "Clinic administrator"),
                ],
                default="patient",
                max_length=20,
            ),
        ),
    ]
