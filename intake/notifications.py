"""Urgent-flag notices to the clinicians of a location: outbox rows written with the flag.

The notice is the most safety-critical message the clinic sends, so it goes the way every
message goes (notifications.models): one email per clinician, written complete in the
transaction that raises the flag, then claimed, sent outside any transaction and recorded by
the outbox, with a Message-ID, retries on transient errors, and the failed-messages page and a
staff task when it is given up (messaging.staff_tasks). It names no patient
(docs/product-rules.md#the-urgent-safety-flag): only the location
and a link to the intake summary, whose address carries an opaque id.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Role, User
from intake.models import UrgentFlag
from notifications import services as outbox
from notifications.models import Channel, Message
from notifications.tasks import dispatch_soon

URGENT_NOTICE = "urgent_flag"
LABEL = "Urgent flag notice to clinicians"


def group_of(flag: UrgentFlag) -> str:
    return f"flag:{flag.pk}"


def clinicians_for(flag: UrgentFlag) -> list[User]:
    """The clinicians of the flag's location; every clinician when no one works there."""
    clinicians = User.objects.filter(role=Role.CLINICIAN, is_active=True)
    local = list(clinicians.filter(locations=flag.location)) if flag.location_id else []
    return local or list(clinicians)


def plan_notice(flag: UrgentFlag) -> int:
    """Write the notice to each clinician; call in the transaction that raises the flag. The
    dispatcher is told on commit, so it goes out at once rather than at the next minute."""
    context = {
        "site_name": settings.SITE_NAME,
        "location": flag.location.name if flag.location else "an unassigned location",
        "raised_at": flag.raised_at,
        "link": settings.SITE_URL + reverse("review:summary", args=[flag.intake.public_id]),
    }
    # Staff emails are in English, whatever language the patient submitted in.
    with translation.override("en"):
        subject = render_to_string("intake/email/urgent_flag_subject.txt", context).strip()
        body_text = render_to_string("intake/email/urgent_flag_body.txt", context)
        body_html = render_to_string("intake/email/urgent_flag_body.html", context)
    now = timezone.now()
    recipients = [user.email for user in clinicians_for(flag) if user.email]
    for address in recipients:
        outbox.enqueue(
            channel=Channel.EMAIL,
            kind=URGENT_NOTICE,
            group=group_of(flag),
            send_at=now,
            recipient=address,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
        )
    if recipients:
        dispatch_soon()
    return len(recipients)


def plan_missing_notice(flag_id: int) -> int:
    """Write the notice of a flag that has none (raised before notices were outbox rows, or
    created another way); safe to run twice: the flag's row is locked and the check repeated.
    Nothing is sent here: no lock is held across the network."""
    with transaction.atomic():
        flag = (
            UrgentFlag.objects.select_for_update(of=("self",))
            .select_related("location", "intake")
            .filter(pk=flag_id, notified_at__isnull=True)
            .first()
        )
        if flag is None or Message.objects.in_group(group_of(flag)).exists():
            return 0
        return plan_notice(flag)


def record_notified(sender: Any, message_id: int, kind: str, group: str, **kwargs: Any) -> None:
    """A notice went out (`notifications.signals.message_sent`): the flag is notified, once."""
    about, _, pk = group.partition(":")
    if kind != URGENT_NOTICE or about != "flag" or not pk.isdigit():
        return
    UrgentFlag.objects.filter(pk=int(pk), notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
