"""Telling patients a booster is due (docs/visits.md#boosters): once per booster, from a week
before it is due, by email and text through the outbox, with the link to book it online (the
patient signs in; the link carries nothing about them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext

from locations.models import Location
from messaging.reminders import _base_context, _channels, _plan, _recipient, _render
from notifications import registry
from notifications.models import Channel, Message
from notifications.registry import Resolved, Skip
from notifications.tasks import dispatch_soon
from review.models import TreatmentPlan
from scheduling import boosters
from scheduling.links import patient_language

KIND = "booster_due"


def group_of(plan: TreatmentPlan, number: int) -> str:
    return f"booster:{plan.pk}:{number}"


def remind_due_boosters() -> int:
    """Daily: one message per channel for each booster that may now be booked and is not; a
    booster already told is not told again (its group has rows)."""
    written = 0
    for location in Location.objects.filter(is_active=True):
        today = location.local_today()
        for due in boosters.due_boosters(location, today):
            if due.booked or today < due.earliest:
                continue
            group = group_of(due.plan, due.number)
            if Message.objects.filter(group=group).exists():
                continue
            written += _plan(
                KIND,
                group=group,
                send_at=timezone.now(),
                channels=_channels(due.patient),
                zone=location.zone,
                context={"location": location.pk},
            )
    if written:
        dispatch_soon()
    return written


def resolve(message: Message) -> Resolved:
    """The booster's message now; Skip when the plan changed or the booster is booked."""
    _, plan_pk, number = [*message.group.split(":"), "", ""][:3]
    plan = (
        TreatmentPlan.objects.select_related("patient__patient_profile")
        .filter(pk=plan_pk if plan_pk.isdigit() else 0)
        .first()
    )
    location = Location.objects.filter(pk=message.context.get("location") or 0).first()
    if plan is None or location is None or plan.status != TreatmentPlan.Status.ACTIVE:
        raise Skip("the plan is no longer in force")
    due = boosters.booster_for(plan, location)
    if due is None or due.booked or str(due.number) != number:
        raise Skip("the booster is booked or no longer due")
    recipient = _recipient(message.channel, plan.patient)
    with translation.override(patient_language(plan.patient)):
        context: dict[str, Any] = {
            **_base_context(plan.patient, location),
            "due": format_date(due.due, gettext("l j F")),
            "link": settings.SITE_URL + reverse("scheduling:self_book_booster")
            if location.self_booking
            else "",
        }
        prefix = f"notifications/{KIND}/"
        if message.channel == Channel.SMS:
            return Resolved(recipient=recipient, body_text=_render("", prefix + "sms.txt", context))
        return Resolved(
            recipient=recipient,
            subject=_render("", prefix + "subject.txt", context),
            body_text=_render("", prefix + "email.txt", context),
            body_html=_render("", prefix + "email.html", context),
        )


def register() -> None:
    registry.register(KIND, resolve, "Booster due, with a link to book it")
