"""Urgent-flag notifications to the clinicians of a location
(docs/product-rules.md#the-urgent-safety-flag)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from intake.models import UrgentFlag


def clinicians_for(flag: UrgentFlag) -> list[User]:
    """The clinicians of the flag's location; every clinician when no one works there."""
    clinicians = User.objects.filter(role=Role.CLINICIAN, is_active=True)
    local = list(clinicians.filter(locations=flag.location)) if flag.location_id else []
    return local or list(clinicians)


def notify_urgent_flag(flag_id: int) -> bool:
    """Email the clinicians once; True if this call sent the notification.

    The row is locked (skipping one locked by another worker) and `notified_at` is set in the
    same transaction as the sending, so a duplicate task finds it done, and a failed send rolls
    back and is retried. The email names no patient: only the location, the time and a link.
    """
    with transaction.atomic():
        flag = (
            UrgentFlag.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("location", "intake")
            .filter(Q(pk=flag_id) & Q(notified_at__isnull=True))
            .first()
        )
        if flag is None:
            return False
        recipients = [user.email for user in clinicians_for(flag)]
        context = {
            "site_name": settings.SITE_NAME,
            "location": flag.location.name if flag.location else "an unassigned location",
            "raised_at": flag.raised_at,
            "link": settings.SITE_URL + reverse("review:summary", args=[flag.intake.public_id]),
        }
        subject = render_to_string("intake/email/urgent_flag_subject.txt", context).strip()
        messages = []
        for address in recipients:
            message = EmailMultiAlternatives(
                subject,
                render_to_string("intake/email/urgent_flag_body.txt", context),
                to=[address],
            )
            message.attach_alternative(
                render_to_string("intake/email/urgent_flag_body.html", context), "text/html"
            )
            messages.append(message)
        with get_connection() as connection:
            connection.send_messages(messages)
        flag.notified_at = timezone.now()
        flag.save(update_fields=["notified_at"])
    return True
