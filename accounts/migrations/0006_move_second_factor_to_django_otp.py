"""Existing authenticators and recovery codes move to django-otp, so nobody enrols again.

A StaffDevice's base32 secret becomes a TOTPDevice's hex key (the same bytes: the authenticator
app keeps working), its last used time step the device's `last_t` (codes still cannot be
replayed). Unused recovery codes were stored as SHA-256 hex digests; their first 16 digits are
exactly what a StaticToken holds for that code (accounts.security.recovery_token), so they keep
working too. Used codes are not carried over.
"""

import base64

from django.db import migrations


def _hex(secret: str) -> str:
    secret = "".join(secret.split()).upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()


def _base32(key: str) -> str:
    return base64.b32encode(bytes.fromhex(key)).decode().rstrip("=")


def forwards(apps, schema_editor):
    StaffDevice = apps.get_model("accounts", "StaffDevice")
    RecoveryCode = apps.get_model("accounts", "RecoveryCode")
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    StaticToken = apps.get_model("otp_static", "StaticToken")

    for old in StaffDevice.objects.all():
        TOTPDevice.objects.create(
            user_id=old.user_id,
            name="Authenticator",
            confirmed=old.confirmed_at is not None,
            key=_hex(old.secret),
            last_t=old.last_step,
        )
    user_ids = RecoveryCode.objects.filter(used_at__isnull=True).values_list("user_id", flat=True)
    for user_id in sorted(set(user_ids)):
        device = StaticDevice.objects.create(user_id=user_id, name="Recovery codes", confirmed=True)
        StaticToken.objects.bulk_create(
            StaticToken(device=device, token=code.code_hash[:16])
            for code in RecoveryCode.objects.filter(user_id=user_id, used_at__isnull=True)
        )


def backwards(apps, schema_editor):
    """Authenticators go back; recovery codes cannot (only 16 digits of their hash are kept)."""
    StaffDevice = apps.get_model("accounts", "StaffDevice")
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.order_by("user_id", "-confirmed", "pk"):
        StaffDevice.objects.get_or_create(
            user_id=device.user_id,
            defaults={
                "secret": _base32(device.key),
                "last_step": device.last_t,
                "confirmed_at": device.created_at if device.confirmed else None,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_invitation_role"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
