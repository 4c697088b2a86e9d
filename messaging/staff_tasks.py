"""What opens tasks in the staff worklist (a leaf app: the apps above it call in).

- a message that failed for good (`notifications.signals.message_failed`): a desk task;
- a text the provider could not deliver (`text_undelivered`): the same message by email where
  the patient agrees to email and it did not already go by email, and a desk task;
- a number that opted out at the provider (`recipient_opted_out`, Twilio's 21610): consent
  withdrawn and pending texts cancelled, no task (it is the patient's choice, not a failure);
- a series whose last session is past with no new plan or series since
  (`open_follow_up_tasks`, hourly from beat): a clinicians' task, once per series, for the
  follow-up visit where clinics adjust dose and frequency.
An urgent safety flag's task is opened by intake's submit (intake.services). Replies by text
(messaging/replies.py) open the unclear-reply and reschedule tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts import consent
from accounts.models import PatientProfile
from intake.models import UrgentFlag
from messaging import replies
from notifications import registry
from notifications import services as outbox
from notifications.models import Channel, Message, MessageStatus
from notifications.signals import message_failed, recipient_opted_out, text_undelivered
from notifications.tasks import dispatch_soon
from review.models import TreatmentPlan
from scheduling.models import ACTIVE_STATUSES, Series, Session
from worklist import services as worklist
from worklist.models import Cause

# A series that ended longer ago than this before the worklist existed is not brought up.
FOLLOW_UP_LOOKBACK = dt.timedelta(days=30)


def connect() -> None:
    """Called from MessagingConfig.ready."""
    message_failed.connect(on_message_failed, dispatch_uid="worklist-message-failed")
    text_undelivered.connect(on_text_undelivered, dispatch_uid="worklist-text-undelivered")
    recipient_opted_out.connect(on_recipient_opted_out, dispatch_uid="consent-opted-out")
    registry.register_replies(replies.handle)


class _About:
    """The series (and session) a message's group names, with the patient."""

    def __init__(self, series: Series, session: Session | None) -> None:
        self.series, self.session = series, session
        self.patient = series.patient

    @property
    def subject(self) -> str:
        name = self.patient.get_full_name()
        if self.session is None:
            return name
        local = self.session.local_start()
        return f"{name}, session {self.session.number} on {local:%a %-d %b %H:%M}"

    @property
    def link(self) -> str:
        return reverse("scheduling:series", args=[self.series.public_id])


def _about(group: str) -> _About | None:
    kind, _, pk = group.partition(":")
    if not pk.isdigit():
        return None
    if kind == "session":
        session = (
            Session.objects.select_related("series__patient__patient_profile", "location")
            .filter(pk=pk)
            .first()
        )
        return _About(session.series, session) if session else None
    if kind == "series":
        series = Series.objects.select_related("patient__patient_profile").filter(pk=pk).first()
        return _About(series, None) if series else None
    return None


def on_message_failed(
    sender: Any, message_id: int, kind: str, group: str, reason: str, **kwargs: Any
) -> None:
    message = Message.objects.filter(pk=message_id).first()
    flag = _flag(group)
    if flag is not None:
        _urgent_notice_failed(flag, f"{registry.label_for(kind)} by email: {reason}")
        return
    about = _about(group)
    channel = message.get_channel_display().lower() if message else "message"
    detail = f"{registry.label_for(kind)} by {channel}: {reason}"
    if message is not None and message.channel == Channel.SMS and about is not None:
        detail += f"; {fall_back_to_email(message, about)}"
    worklist.open_task(
        Cause.MESSAGE_FAILED,
        group or f"message:{message_id}",
        subject=about.subject if about else "",
        detail=detail,
        link=about.link if about else "",
        location_pk=about.series.location_id if about else None,
    )


def _flag(group: str) -> UrgentFlag | None:
    about, _, pk = group.partition(":")
    if about != "flag" or not pk.isdigit():
        return None
    return UrgentFlag.objects.select_related("intake", "patient", "location").filter(pk=pk).first()


def _urgent_notice_failed(flag: UrgentFlag, detail: str) -> None:
    """The clinicians were not told of an urgent flag: the desk's task is urgent (someone must
    reach a clinician another way; the desk cannot open the intake, so its task names the
    location and links the failed messages), and the flag's own clinical task says so too."""
    where = flag.location.name if flag.location else "no location yet"
    worklist.open_task(
        Cause.MESSAGE_FAILED,
        f"flag:{flag.pk}",
        subject=f"Urgent safety flag at {where}",
        detail=f"{detail}. Tell the location's clinicians by phone.",
        link=reverse("scheduling:failed_messages"),
        location_pk=flag.location_id,
        urgent=True,
    )
    worklist.open_task(
        Cause.URGENT_FLAG,
        f"flag:{flag.pk}",
        subject=flag.patient.get_full_name() or "A patient",
        detail="The email to the clinicians could not be sent; the desk was asked to call.",
        link=reverse("review:summary", args=[flag.intake.public_id]),
        location_pk=flag.location_id,
        urgent=True,
    )


def on_text_undelivered(
    sender: Any, message_id: int, kind: str, group: str, error_code: str, **kwargs: Any
) -> None:
    message = Message.objects.get(pk=message_id)
    about = _about(group)
    code = f" (error {error_code})" if error_code else ""
    detail = f"{registry.label_for(kind)} by text not delivered{code}"
    if about is None:
        worklist.open_task(Cause.UNDELIVERED_TEXT, group, detail=detail)
        return
    detail += f"; {fall_back_to_email(message, about)}. Check the mobile number."
    worklist.open_task(
        Cause.UNDELIVERED_TEXT,
        f"patient:{about.patient.pk}",
        subject=about.subject,
        detail=detail,
        link=about.link,
        location_pk=about.series.location_id,
    )


# An email copy in these states went, or will go, out: no second one.
_GOING = [MessageStatus.PENDING, MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT]


def fall_back_to_email(message: Message, about: _About) -> str:
    """The text's message by email, where the patient agrees to email and the same message has
    not gone (nor is going) by email already; what happened, in words, for the task."""
    profile: PatientProfile | None = getattr(about.patient, "patient_profile", None)
    if not about.patient.email or (profile is not None and not profile.email_reminders):
        return "no consent to email: call the patient"
    copies = Message.objects.filter(
        group=message.group, kind=message.kind, channel=Channel.EMAIL, status__in=_GOING
    ).filter(Q(context=message.context) | Q(context__fallback_for=str(message.public_id)))
    if copies.exists():
        return "the same message already went by email"
    outbox.enqueue(
        channel=Channel.EMAIL,
        kind=message.kind,
        group=message.group,
        send_at=timezone.now(),
        context={**message.context, "fallback_for": str(message.public_id)},
    )
    dispatch_soon()
    return "sent by email instead"


def on_recipient_opted_out(
    sender: Any, recipient: str, source: str, message_id: int | None = None, **kwargs: Any
) -> None:
    patients = [profile.user_id for profile in consent.profiles_of(recipient)]
    consent.withdraw_sms_consent(recipient, source)
    outbox.cancel_texts(replies.groups_of(patients))


def open_follow_up_tasks() -> int:
    """Clinicians' tasks for series whose last active session is over, with no newer series or
    treatment plan for the patient; once per series (a done task is not opened again)."""
    now = timezone.now()
    newer_series = Series.objects.filter(
        patient=OuterRef("patient"), created_at__gt=OuterRef("created_at")
    ).exclude(status=Series.SeriesStatus.CANCELLED)
    newer_plan = TreatmentPlan.objects.filter(
        patient=OuterRef("patient"), approved_at__gt=OuterRef("created_at")
    ).exclude(pk=OuterRef("plan_id"))
    ended = (
        Series.objects.exclude(status=Series.SeriesStatus.CANCELLED)
        .annotate(last_end=Max("sessions__ends_at", filter=_active_sessions()))
        .filter(last_end__lt=now, last_end__gte=now - FOLLOW_UP_LOOKBACK)
        .exclude(Exists(newer_series))
        .exclude(Exists(newer_plan))
        .select_related("patient", "location")
    )
    opened = 0
    for series in ended:
        about = f"series:{series.pk}"
        if worklist.ever_opened(Cause.SERIES_ENDED, about):
            continue
        local = series.last_end.astimezone(series.location.zone)
        worklist.open_task(
            Cause.SERIES_ENDED,
            about,
            subject=f"{series.patient.get_full_name()}, series at {series.location.name}",
            detail=(
                f"The last session ended {local:%-d %b}; no new plan or series since. "
                "Book the follow-up visit (dose and frequency)."
            ),
            # Straight to booking the follow-up visit (docs/visits.md#follow-up-visits).
            link=reverse("scheduling:book_visit", args=[series.patient.public_id])
            + f"?kind=follow_up&series={series.public_id}",
            location_pk=series.location_id,
        )
        opened += 1
    return opened


def _active_sessions() -> Q:
    """ACTIVE_STATUSES, seen from a series through its sessions."""
    return Q(sessions__status__in=[status.value for status in ACTIVE_STATUSES])
