"""Consent to texts, withdrawn and given again from outside the intake: a reply by text (STOP,
START) or the provider's refusal of an opted-out number (Twilio's error 21610).

Each change keeps its time and its source on the profile (`sms_withdrawn_at`, `sms_consent_at`,
`sms_consent_source`). Opting out is per number, as carriers do it: every patient with that
mobile number stops getting texts.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.models import PatientProfile


def profiles_of(number: str) -> list[PatientProfile]:
    """The patients whose mobile number this is (a number may be shared in a household)."""
    if not number:
        return []
    return list(
        PatientProfile.objects.filter(mobile_phone=number)
        .select_related("user", "preferred_location")
        .order_by("pk")
    )


def withdraw_sms_consent(number: str, source: str) -> list[int]:
    """No more texts to `number`; the ids of the patients whose consent this withdrew."""
    now = timezone.now()
    profiles = PatientProfile.objects.filter(mobile_phone=number, sms_reminders=True)
    users = list(profiles.values_list("user_id", flat=True))
    profiles.update(sms_reminders=False, sms_withdrawn_at=now, sms_consent_source=source[:100])
    return users


def restore_sms_consent(number: str, source: str) -> list[int]:
    """Texts again to `number` for the patients who had withdrawn (an opt-in word undoes an
    opt-out; it does not override a "no" given at the intake); their ids."""
    now = timezone.now()
    profiles = PatientProfile.objects.filter(
        mobile_phone=number, sms_reminders=False, sms_withdrawn_at__isnull=False
    )
    users = list(profiles.values_list("user_id", flat=True))
    profiles.update(sms_reminders=True, sms_consent_at=now, sms_consent_source=source[:100])
    return users
