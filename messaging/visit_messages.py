"""The messages of a visit with a clinician (docs/visits.md#messages): a confirmation when it is
booked, a reminder before it (the location's visit reminder rule, 24 hours by default; reply C
to confirm by text), a notice when it is moved or
cancelled; planned in the change's transaction through `scheduling.hooks`, composed when sent.

The video room's link goes by email only, never in a text (texts are read over shoulders and
kept by carriers): the text says the link is in the email and on the patient's appointments
page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from messaging.reminders import (
    _base_context,
    _channels,
    _moment,
    _plan,
    _recipient,
    _render,
    rules_for,
)
from notifications import registry
from notifications import services as outbox
from notifications.models import Channel, Message
from notifications.registry import Resolved, Skip
from notifications.tasks import dispatch_soon
from scheduling import ics
from scheduling.links import VISIT_ACTION_SALT, patient_language, signed
from scheduling.models import (
    VISIT_UPCOMING_STATUSES,
    ReminderKind,
    Visit,
    VisitMode,
    VisitStatus,
)

BOOKED = "visit_booked"
REMINDER = ReminderKind.VISIT_REMINDER.value
MOVED = "visit_moved"
CANCELLED = "visit_cancelled"
KINDS = {
    BOOKED: "Visit booked (with .ics)",
    REMINDER: "Visit reminder with confirm/cancel link",
    MOVED: "Visit moved",
    CANCELLED: "Visit cancelled",
}


def group_of(visit: Visit) -> str:
    return f"visit:{visit.pk}"


def _plan_visit(visit: Visit, notice: str) -> int:
    channels = _channels(visit.patient)
    zone = visit.location.zone
    now = timezone.now()
    written = _plan(notice, group=group_of(visit), send_at=now, channels=channels, zone=zone)
    # Its switch and hours are the location's reminder rule (docs/visits.md#messages).
    rule = rules_for(visit.location_id)[REMINDER]
    remind_at = visit.starts_at - dt.timedelta(hours=rule.hours or 24)
    if rule.enabled and remind_at > now:
        written += _plan(
            REMINDER,
            group=group_of(visit),
            send_at=remind_at,
            channels=channels,
            zone=zone,
            latest=visit.starts_at,
        )
    dispatch_soon()
    return written


def on_visit_booked(visit: Visit) -> int:
    return _plan_visit(visit, BOOKED)


def on_visit_moved(visit: Visit) -> int:
    outbox.cancel_group(group_of(visit))
    return _plan_visit(visit, MOVED)


def on_visit_cancelled(visit: Visit) -> int:
    outbox.cancel_group(group_of(visit))
    written = _plan(
        CANCELLED,
        group=group_of(visit),
        send_at=timezone.now(),
        channels=_channels(visit.patient),
        zone=visit.location.zone,
    )
    dispatch_soon()
    return written


def resolve(message: Message) -> Resolved:
    """What a visit's message says now; Skip when the visit is gone or no longer ahead."""
    _, _, pk = message.group.partition(":")
    visit = (
        Visit.objects.select_related("location", "patient__patient_profile")
        .filter(pk=pk if pk.isdigit() else 0)
        .first()
    )
    if visit is None:
        raise Skip("the visit no longer exists")
    now = timezone.now()
    ahead = visit.status in VISIT_UPCOMING_STATUSES and visit.starts_at > now
    if message.kind != CANCELLED and not ahead:
        raise Skip("the visit is no longer ahead")
    recipient = _recipient(message.channel, visit.patient)
    if message.channel == Channel.SMS:
        morning = outbox.defer_out_of_quiet_hours(now, visit.location.zone)
        if morning > now:
            if morning >= visit.starts_at:
                raise Skip("quiet hours last until after the visit")
            raise registry.Defer(morning)
    with translation.override(patient_language(visit.patient)):
        return _compose(message, visit, recipient, now)


def _compose(message: Message, visit: Visit, recipient: str, now: dt.datetime) -> Resolved:
    location = visit.location
    context: dict[str, Any] = {
        **_base_context(visit.patient, location),
        "kind": message.kind,
        "when": _moment(visit.local_start()),
        "video": visit.mode == VisitMode.VIDEO,
        "where": visit.where(),
        "page": settings.SITE_URL + reverse("scheduling:my_visit", args=[visit.public_id]),
        "opens_minutes": location.video_opens_minutes,
    }
    if message.kind == REMINDER:
        # Confirm or cancel without signing in (docs/visits.md#patients-change-their-visits).
        context["link"] = settings.SITE_URL + reverse(
            "scheduling:visit_action",
            args=[signed(VISIT_ACTION_SALT, str(visit.public_id), visit.starts_at)],
        )
    prefix = "notifications/visit/"
    # The reminder's own texts, when the location wrote them on its reminder rules page.
    # They are in English, so for English readers only, as sessions' are.
    custom = rules_for(location.pk)[REMINDER] if message.kind == REMINDER else None
    if custom and patient_language(visit.patient) != settings.LANGUAGE_CODE:
        custom = None
    if message.channel == Channel.SMS:
        # Never the room's link in a text (docs/visits.md#video-visits).
        sms = custom.sms_text if custom else ""
        return Resolved(recipient=recipient, body_text=_render(sms, prefix + "sms.txt", context))
    context["video_url"] = visit.video_url()
    attachments = []
    if message.kind != REMINDER:
        method = ics.CANCEL if visit.status == VisitStatus.CANCELLED else ics.REQUEST
        attachments = [
            (
                "visit.ics",
                ics.visit_invitation(visit, recipient, now),
                f"text/calendar; method={method}",
            )
        ]
    return Resolved(
        recipient=recipient,
        subject=_render(custom.email_subject if custom else "", prefix + "subject.txt", context),
        body_text=_render(custom.email_text if custom else "", prefix + "email.txt", context),
        body_html=_render(custom.email_html if custom else "", prefix + "email.html", context),
        attachments=attachments,
        # The room's token is delivered but never stored in the outbox's record.
        secrets=(visit.video_token,) if context["video_url"] else (),
    )


def register() -> None:
    """Called from MessagingConfig.ready: this module resolves the visits' messages."""
    for kind, label in KINDS.items():
        registry.register(kind, resolve, label)
