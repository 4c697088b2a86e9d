"""Consent to texts, withdrawn and given again from outside the intake: a reply by text (STOP,
START) or the provider's refusal of an opted-out number (Twilio's error 21610).

Each change keeps its time and its source on the profile (`sms_withdrawn_at`, `sms_consent_at`,
`sms_consent_source`). Opting out is per number, as carriers do it: every patient with that
mobile number stops getting texts.
"""

from __future__ import annotations

from django.db.models import Count, Q
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


def texts_refused(number: str) -> str:
    """Why `number` must not get a text now, or "" if it may; asked by the outbox right before
    each text goes to the provider (notifications.registry.register_text_gate).

    A number no patient has (not ours to judge) may; a patient's number may while one of its
    patients consents to texts. Once none does (a STOP withdraws them all, as carriers do), no
    text goes to it, whichever batch it was resolved in.
    """
    counts = PatientProfile.objects.filter(mobile_phone=number).aggregate(
        patients=Count("pk"),
        consenting=Count("pk", filter=Q(sms_reminders=True, sms_consent_at__isnull=False)),
    )
    if counts["patients"] and not counts["consenting"]:
        return "the number opted out of texts"
    return ""
