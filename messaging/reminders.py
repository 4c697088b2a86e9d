"""The message plan of a series (docs/product-rules.md#reminders), and what each message says when
it is sent.

Planning (inside the booking change's transaction): a confirmation now with a calendar
invitation per session, the baseline questionnaire now, and per session a preparation message
72 h before, a confirm/cancel reminder 48 h before (REMINDER_HOURS_BEFORE), a "see you tomorrow"
with the fasting rule 24 h before, a fasting reminder on the morning (the evening before for
sessions before 10:00), a follow-up check-in 24 h after; the mid-series and end questionnaires
follow the middle and the last session. Each location may switch a kind off and change its hours
and texts (ReminderRule). A row is planned per channel the patient has an address for.

Sending (`resolve`, registered with notifications for every kind): the current address and
consent, the session's current time and status, the location's texts, quiet hours and the
cancellation policy are read when the message goes out, and its links are signed then, valid
until what they act on is over: the confirm/cancel link until the session starts, the check-in
and questionnaire links CHECK_IN_LINK_DAYS and QUESTIONNAIRE_LINK_DAYS after sending. A cancelled
session's messages are skipped; a withdrawn consent skips the channel; a changed phone or email
is used at once. Texts carry a first name, the clinic, the time and links, never clinical detail,
and never arrive 21:00-08:00 local.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext, gettext_noop

from notifications import registry
from notifications import services as outbox
from notifications.models import Channel, Message
from notifications.registry import Resolved, Skip
from notifications.tasks import dispatch_soon
from scheduling import ics
from scheduling.links import (
    ACTION_SALT,
    CHECKIN_SALT,
    QUESTIONNAIRE_SALT,
    patient_language,
    profile_of,
    signed,
)
from scheduling.models import (
    UPCOMING_STATUSES,
    Hold,
    ReminderKind,
    ReminderRule,
    Series,
    Session,
    Status,
)

logger = logging.getLogger(__name__)

# Defaults of the configurable rules: hours before/after, local time for the fasting reminder.
DEFAULT_HOURS: dict[str, int] = {
    ReminderKind.PREPARATION: 72,
    ReminderKind.REMINDER: settings.REMINDER_HOURS_BEFORE,
    ReminderKind.TOMORROW: 24,
    ReminderKind.FOLLOWUP: 24,
    ReminderKind.VISIT_REMINDER: 24,
}
DEFAULT_FASTING_TIME = dt.time(8)
# Sessions starting before this local time get their fasting reminder the evening before.
EARLY_SESSION = dt.time(10)
EVENING_BEFORE = dt.time(19)
BEFORE_KINDS = (
    ReminderKind.PREPARATION,
    ReminderKind.REMINDER,
    ReminderKind.TOMORROW,
    ReminderKind.FASTING,
)
ENDED = (Status.CANCELLED, Status.LATE_CANCELLED, Status.NO_SHOW)
# Messages that would speak of a booked appointment, and what they open with while the desk
# has still to confirm a series booked online (Series.awaiting_desk_since).
NOTED_WHILE_AWAITING = (*BEFORE_KINDS, ReminderKind.CHANGED)
# Translated when used (gettext), in the patient's language.
AWAITING_SUBJECT = gettext_noop("Not confirmed yet:")
AWAITING_NOTE = gettext_noop(
    "The clinic has not confirmed this appointment yet; we will write to you when it does."
)


def _link(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])


# --- Rules and texts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    kind: str
    enabled: bool
    hours: int | None
    local_time: dt.time | None
    email_subject: str
    email_text: str
    email_html: str
    sms_text: str


def rules_for(location_id: int) -> dict[str, Rule]:
    configured = {r.kind: r for r in ReminderRule.objects.filter(location_id=location_id)}
    rules = {}
    for kind in ReminderKind.values:
        row = configured.get(kind)
        rules[kind] = Rule(
            kind=kind,
            enabled=row.enabled if row else True,
            hours=(row.hours if row and row.hours is not None else DEFAULT_HOURS.get(kind)),
            local_time=(row.local_time if row and row.local_time else DEFAULT_FASTING_TIME),
            email_subject=row.email_subject if row else "",
            email_text=row.email_text if row else "",
            email_html=row.email_html if row else "",
            sms_text=row.sms_text if row else "",
        )
    return rules


def _render(custom: str, default_template: str, context: dict[str, Any]) -> str:
    if custom:
        return Template(custom).render(Context(context)).strip()
    return render_to_string(default_template, context).strip()


def _first_name(patient: Any) -> str:
    if patient is None:
        return "there"
    profile = profile_of(patient)
    return (profile.preferred_name if profile and profile.preferred_name else "") or (
        patient.first_name or "there"
    )


def _when(session: Session) -> str:
    return _moment(session.local_start())


def _moment(local: dt.datetime) -> str:
    """The day and time with the location's zone, in the active language: "Monday 7 December at
    11:00 AM EST", "lunes 7 de diciembre a las 11:00 EST"."""
    # Translators: Django date format of an appointment's day and time; the zone follows.
    day_and_time = format_date(local, gettext("l j F \\a\\t g:i A"))
    return f"{day_and_time} {local.tzname()}"


def _clock(local: dt.datetime) -> str:
    # Translators: Django time format, "2:30 PM".
    return format_date(local, gettext("g:i A"))


def _default_texts(rule: Rule) -> Rule:
    """The rule with the app's own (translated) texts in place of a location's English ones."""
    return dataclasses.replace(rule, email_subject="", email_text="", email_html="", sms_text="")


# The default preparation words; a location changes them with its own texts (ReminderRule).
# They say what to do, never why: messages may be read by others.
INSTRUCTIONS = gettext_noop(
    "Before your appointment: no solid food for 6 hours; clear liquids (water, clear juice, "
    "black coffee or tea) are fine until 2 hours before. Take your usual medicines unless the "
    "clinic told you otherwise."
)


def change_url(location: Any) -> str:
    """Where the patient changes an appointment online, when the location lets them; else ""
    (the messages give the phone)."""
    if not location.takes_changes_online:
        return ""
    return settings.SITE_URL + reverse("scheduling:self_home")


def _base_context(patient: Any, location: Any) -> dict[str, Any]:
    return {
        "first_name": _first_name(patient),
        "clinic": settings.SITE_NAME,
        "location": location,
        "instructions": gettext(INSTRUCTIONS),
        "change_url": change_url(location),
    }


# --- Planning ------------------------------------------------------------------------------------


def _channels(patient: Any) -> list[str]:
    """The channels the patient has an address for; consent is checked when sending."""
    profile = profile_of(patient)
    channels = [Channel.EMAIL.value] if patient.email else []
    if profile is not None and profile.mobile_phone:
        channels.append(Channel.SMS.value)
    return channels


def _plan(
    kind: str,
    *,
    group: str,
    send_at: dt.datetime,
    channels: list[str],
    zone: Any,
    latest: dt.datetime | None = None,
    context: dict[str, Any] | None = None,
) -> int:
    """One row per channel; texts moved out of quiet hours (and dropped when that would be
    after the appointment)."""
    written = 0
    for channel in channels:
        at = send_at
        if channel == Channel.SMS:
            at = outbox.defer_out_of_quiet_hours(send_at, zone)
            if latest is not None and at >= latest:
                continue
        outbox.enqueue(channel=channel, kind=kind, group=group, send_at=at, context=context or {})
        written += 1
    return written


def _fasting_time(session: Session, rule: Rule) -> dt.datetime:
    local = session.local_start()
    morning = dt.datetime.combine(
        local.date(), rule.local_time or DEFAULT_FASTING_TIME, local.tzinfo
    )
    if local.time() < EARLY_SESSION or morning >= local:
        evening = dt.datetime.combine(
            local.date() - dt.timedelta(days=1), EVENING_BEFORE, local.tzinfo
        )
        return evening.astimezone(dt.UTC)
    return morning.astimezone(dt.UTC)


def _before(session: Session, rule: Rule) -> dt.datetime:
    if rule.kind == ReminderKind.FASTING:
        return _fasting_time(session, rule)
    return session.starts_at - dt.timedelta(hours=rule.hours or 0)


def plan_session(
    session: Session, rules: dict[str, Rule], total: int, *, moved: bool = False
) -> int:
    """Every per-session message still to come. A fasting reminder whose time has passed (a
    session booked or moved late) goes out at once: it matters until the session starts. So does
    the confirm-or-cancel reminder of a session moved inside its window: the patient is asked
    about the new time (a new booking has its confirmation instead)."""
    now = timezone.now()
    channels = _channels(session.patient)
    group = f"session:{session.pk}"
    written = 0
    for kind in BEFORE_KINDS:
        rule = rules[kind]
        if not rule.enabled:
            continue
        send_at = _before(session, rule)
        if send_at <= now:
            at_once = kind == ReminderKind.FASTING or (moved and kind == ReminderKind.REMINDER)
            if not at_once or session.starts_at <= now:
                continue  # past; the confirmation or the moved notice covers it
            send_at = now
        written += _plan(
            kind,
            group=group,
            send_at=send_at,
            channels=channels,
            zone=session.location.zone,
            latest=session.starts_at,
        )
    written += _plan_after(session, rules, total, session.ends_at, channels)
    return written


def _plan_after(
    session: Session, rules: dict[str, Rule], total: int, end: dt.datetime, channels: list[str]
) -> int:
    """The follow-up check-in and any milestone questionnaire, counted from the end."""
    written = 0
    group = f"session:{session.pk}"
    zone = session.location.zone
    rule = rules[ReminderKind.FOLLOWUP]
    if rule.enabled:
        written += _plan(
            ReminderKind.FOLLOWUP,
            group=group,
            send_at=end + dt.timedelta(hours=rule.hours or 24),
            channels=channels,
            zone=zone,
        )
    middle = math.ceil(total / 2)
    milestone = "end" if session.number == total else "mid" if session.number == middle else None
    if rules[ReminderKind.QUESTIONNAIRE].enabled and milestone is not None:
        written += _plan(
            ReminderKind.QUESTIONNAIRE,
            group=group,
            send_at=end + dt.timedelta(hours=2 if milestone == "mid" else 24),
            channels=channels,
            zone=zone,
            context={"milestone": milestone},
        )
    return written


def on_session_completed(session: Session, ended_at: dt.datetime) -> int:
    """The follow-up counts from the real discharge, not the booked end."""
    outbox.cancel_group(f"session:{session.pk}")
    rules = rules_for(session.location_id)
    total = session.series.sessions.count()
    return _plan_after(session, rules, total, ended_at, _channels(session.patient))


def _notice(series: Series, kind: str, sessions: list[Session]) -> int:
    rule = rules_for(series.location_id)[kind]
    if not rule.enabled:
        return 0
    return _plan(
        kind,
        group=f"series:{series.pk}",
        send_at=timezone.now(),
        channels=_channels(series.patient),
        zone=series.location.zone,
        context={"sessions": [s.pk for s in sessions]},
    )


def _booked_kind(series: Series) -> str:
    """The first message of a booking: a confirmation, or, for a series booked online that
    the desk has still to confirm, a "requested" message without calendar invitations."""
    return ReminderKind.REQUESTED if series.is_awaiting_desk else ReminderKind.CONFIRMATION


def on_series_confirmed(series: Series) -> int:
    """The desk confirmed a series booked online: the confirmation with its invitations now,
    for the sessions still ahead. The per-session messages were planned at booking; what
    they say is decided when they are sent, so from now on they promise the appointment."""
    sessions = list(
        series.sessions.filter(status__in=UPCOMING_STATUSES, starts_at__gt=timezone.now())
        .select_related("location")
        .order_by("number")
    )
    if not sessions:
        return 0
    written = _notice(series, ReminderKind.CONFIRMATION, sessions)
    dispatch_soon()
    return written


def on_series_declined(series: Series, sessions: list[Session]) -> int:
    """The desk declined a series booked online: nothing more is sent for it (its "requested"
    message and questionnaire included, if still pending), and the patient is told why."""
    _next_sequence(sessions)
    for session in sessions:
        outbox.cancel_group(f"session:{session.pk}")
    outbox.cancel_group(f"series:{series.pk}")
    written = _notice(series, ReminderKind.DECLINED, sessions)
    dispatch_soon()
    return written


def on_series_booked(series: Series) -> int:
    sessions = list(
        series.sessions.select_related("location", "patient__patient_profile", "series").order_by(
            "number"
        )
    )
    rules = rules_for(series.location_id)
    channels = _channels(series.patient)
    # A series booked in part (the first sessions now, the rest later) still has the plan's
    # number of infusions: the mid-series and end questionnaires follow those sessions.
    total = max(len(sessions), series.plan.infusions)
    written = _notice(series, _booked_kind(series), sessions)
    if rules[ReminderKind.QUESTIONNAIRE].enabled:
        written += _plan(
            ReminderKind.QUESTIONNAIRE,
            group=f"series:{series.pk}",
            send_at=timezone.now(),
            channels=channels,
            zone=series.location.zone,
            context={"milestone": "baseline"},
        )
    for session in sessions:
        written += plan_session(session, rules, total)
    dispatch_soon()
    return written


def on_sessions_added(series: Series, sessions: list[Session]) -> int:
    """The rest of a series booked later: a confirmation of the new sessions and their own
    messages, as on_series_booked plans them (no second baseline questionnaire)."""
    if not sessions:
        return 0
    rules = rules_for(series.location_id)
    total = max(series.sessions.count(), series.plan.infusions)
    written = _notice(series, _booked_kind(series), sessions)
    for session in sessions:
        written += plan_session(session, rules, total)
    dispatch_soon()
    return written


def on_slot_offered(hold: Any, session: Session) -> int:
    """An earlier slot from the waitlist, held for the patient: email and text now with a link
    to accept it (valid while the hold is; the patient signs in to accept)."""
    rule = rules_for(session.location_id)[ReminderKind.OFFER]
    if not rule.enabled:
        return 0
    written = _plan(
        ReminderKind.OFFER,
        group=f"session:{session.pk}",
        send_at=timezone.now(),
        channels=_channels(session.patient),
        zone=session.location.zone,
        latest=hold.expires_at,
        context={"hold": str(hold.public_id)},
    )
    dispatch_soon()
    return written


def _next_sequence(sessions: list[Session]) -> None:
    """A move or a cancellation is a new revision of each calendar event (RFC 5545 SEQUENCE)."""
    Session.objects.filter(pk__in=[s.pk for s in sessions]).update(
        calendar_sequence=F("calendar_sequence") + 1
    )


def on_sessions_moved(sessions: list[Session]) -> int:
    """Re-plan every message of each moved session for its new time; tell the patient."""
    if not sessions:
        return 0
    _next_sequence(sessions)
    series = sessions[0].series
    rules = rules_for(series.location_id)
    total = series.sessions.count()
    written = 0
    for session in sessions:
        outbox.cancel_group(f"session:{session.pk}")
        written += plan_session(session, rules, total, moved=True)
    written += _notice(series, ReminderKind.CHANGED, sessions)
    dispatch_soon()
    return written


def on_sessions_cancelled(sessions: list[Session]) -> int:
    """Nothing more is sent for cancelled sessions; the patient gets one notice (with a
    calendar cancellation per session)."""
    if not sessions:
        return 0
    _next_sequence(sessions)
    for session in sessions:
        outbox.cancel_group(f"session:{session.pk}")
    written = _notice(sessions[0].series, ReminderKind.CANCELLED, sessions)
    dispatch_soon()
    return written


# --- Sending -------------------------------------------------------------------------------------


def _recipient(channel: str, patient: Any) -> str:
    """The patient's current address on the channel, if they still agree to it."""
    profile = profile_of(patient)
    if channel == Channel.EMAIL:
        if profile is not None and not profile.email_reminders:
            raise Skip("the patient declined email reminders")
        if not patient.email:
            raise Skip("no email address")
        return str(patient.email)
    if profile is None or not (profile.sms_reminders and profile.sms_consent_at):
        raise Skip("no consent to text messages")
    if not profile.mobile_phone:
        raise Skip("no mobile number")
    return str(profile.mobile_phone)


def _sessions(ids: list[int]) -> list[Session]:
    return list(
        Session.objects.filter(pk__in=ids).select_related("location", "series").order_by("number")
    )


def resolve(message: Message) -> Resolved:
    """What `message` says now, to whom; Skip when it must not go out, Defer when not yet."""
    now = timezone.now()
    about, _, pk = message.group.partition(":")
    if not pk.isdigit():
        raise Skip("not about a session or a series")
    session: Session | None = None
    if about == "session":
        session = (
            Session.objects.select_related("location", "series", "patient__patient_profile")
            .filter(pk=pk)
            .first()
        )
        if session is None:
            raise Skip("the appointment no longer exists")
        series = session.series
    else:
        found = (
            Series.objects.select_related("location", "patient__patient_profile")
            .filter(pk=pk)
            .first()
        )
        if found is None:
            raise Skip("the series no longer exists")
        series = found
    patient = series.patient
    location = session.location if session else series.location
    recipient = _recipient(message.channel, patient)
    kind = message.kind
    ahead = session is not None and session.status in UPCOMING_STATUSES and session.starts_at > now
    if session is not None and kind in BEFORE_KINDS and not ahead:
        raise Skip("the appointment is no longer ahead")
    if session is not None and kind not in BEFORE_KINDS and session.status in ENDED:
        raise Skip("the appointment was cancelled")
    if message.channel == Channel.SMS:
        morning = outbox.defer_out_of_quiet_hours(now, location.zone)
        if morning > now:
            if session is not None and kind in BEFORE_KINDS and morning >= session.starts_at:
                raise Skip("quiet hours last until after the appointment")
            raise registry.Defer(morning)
    # Written in the patient's language as it is now (their profile), whatever it was when the
    # message was planned; a location's own texts are in English, so they are for English only.
    language = patient_language(patient)
    with translation.override(language):
        return _compose(message, session, series, location, recipient, now, language)


def _compose(
    message: Message,
    session: Session | None,
    series: Series,
    location: Any,
    recipient: str,
    now: dt.datetime,
    language: str,
) -> Resolved:
    """The message's subject, texts and attachments, in the active language (`resolve`)."""
    patient = series.patient
    kind = message.kind
    context = _base_context(patient, location)
    attachments: list[tuple[str, str, str]] = []
    awaiting = series.is_awaiting_desk
    if session is not None:
        context.update(when=_when(session), number=session.number)
    if kind == ReminderKind.REMINDER:
        assert session is not None
        context["can_cancel_online"] = session.cancellation_policy().online_open(now)
        context["link"] = _link(
            "scheduling:session_action",
            signed(ACTION_SALT, str(session.public_id), session.starts_at),
        )
    elif kind == ReminderKind.FOLLOWUP:
        assert session is not None
        until = now + dt.timedelta(days=settings.CHECK_IN_LINK_DAYS)
        context["link"] = _link(
            "outcomes:check_in", signed(CHECKIN_SALT, str(session.public_id), until)
        )
        context["link_days"] = settings.CHECK_IN_LINK_DAYS
    elif kind == ReminderKind.QUESTIONNAIRE:
        if series.status == Series.SeriesStatus.CANCELLED:
            raise Skip("the series was cancelled")
        milestone = message.context.get("milestone", "baseline")
        until = now + dt.timedelta(days=settings.QUESTIONNAIRE_LINK_DAYS)
        token = signed(QUESTIONNAIRE_SALT, f"{series.public_id}:{milestone}", until)
        context.update(
            milestone=milestone,
            link=_link("outcomes:questionnaire", token),
            link_days=settings.QUESTIONNAIRE_LINK_DAYS,
        )
    elif kind == ReminderKind.OFFER:
        assert session is not None
        hold_id = message.context.get("hold")
        hold = Hold.objects.live().filter(public_id=str(hold_id)).first() if hold_id else None
        if hold is None or hold.entry is None:
            raise Skip("the offer is over")
        local = hold.starts_at.astimezone(location.zone)
        context.update(
            offered=_moment(local),
            expires=_clock(hold.expires_at.astimezone(location.zone)),
            link=settings.SITE_URL + reverse("scheduling:self_offer", args=[hold.public_id]),
        )
    elif kind == ReminderKind.REQUESTED and not series.is_awaiting_desk:
        raise Skip("the clinic has confirmed or declined the booking since")
    elif kind == ReminderKind.DECLINED:
        sessions = _sessions(message.context.get("sessions", []))
        if not sessions:
            raise Skip("the booking had no appointments")
        context.update(
            sessions=[_when(s) for s in sessions],
            when=_when(sessions[0]),
            reason=sessions[0].cancel_reason,
        )
    if kind in (
        ReminderKind.CONFIRMATION,
        ReminderKind.REQUESTED,
        ReminderKind.CHANGED,
        ReminderKind.CANCELLED,
    ):
        sessions = _sessions(message.context.get("sessions", []))
        if kind != ReminderKind.CANCELLED:
            sessions = [s for s in sessions if s.status in UPCOMING_STATUSES]
            if not sessions:
                raise Skip("none of its appointments is still ahead")
        context.update(sessions=[_when(s) for s in sessions], when=_when(sessions[0]))
        # No calendar invitation for what the clinic has not confirmed: it comes with the
        # confirmation once the desk confirms.
        if message.channel == Channel.EMAIL and not (
            kind == ReminderKind.REQUESTED or (awaiting and kind == ReminderKind.CHANGED)
        ):
            attachments = [
                (
                    f"appointment-{s.number}.ics",
                    ics.invitation(s, recipient, now),
                    f"text/calendar; method={ics.CANCEL if s.status in ENDED else ics.REQUEST}",
                )
                for s in sessions
            ]
    rule = rules_for(location.pk)[kind]
    if language != settings.LANGUAGE_CODE:
        rule = _default_texts(rule)
    prefix = f"notifications/{kind}/"
    # A reminder or a "moved" notice while the desk has still to confirm the series does not
    # promise the appointment, whatever the location's own texts say: it opens with the note.
    note = awaiting and kind in NOTED_WHILE_AWAITING
    if message.channel == Channel.SMS:
        body = _render(rule.sms_text, prefix + "sms.txt", context)
        return Resolved(
            recipient=recipient, body_text=f"{gettext(AWAITING_NOTE)} {body}" if note else body
        )
    subject = _render(rule.email_subject, prefix + "subject.txt", context)
    text = _render(rule.email_text, prefix + "email.txt", context)
    html = _render(rule.email_html, prefix + "email.html", context)
    if note:
        subject = f"{gettext(AWAITING_SUBJECT)} {subject}"
        text = f"{gettext(AWAITING_NOTE)}\n\n{text}"
        html = f"<p><strong>{gettext(AWAITING_NOTE)}</strong></p>\n{html}"
    return Resolved(
        recipient=recipient,
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=attachments,
    )


def preview(location: Any, rule: Rule) -> dict[str, str]:
    """The kind's texts as a fictional patient would get them at `location` (the settings
    page): a sample first name, an appointment a week ahead, placeholder links."""
    local = timezone.now().astimezone(location.zone) + dt.timedelta(days=7)
    start = local.replace(hour=11, minute=0, second=0, microsecond=0)
    when = f"{start:%A %-d %B at %-I:%M %p} {start.tzname()}"
    context = {
        **_base_context(None, location),
        "first_name": "Alex",
        "when": when,
        "number": 3,
        "sessions": [when],
        "milestone": "mid",
        "can_cancel_online": True,
        "link": settings.SITE_URL + "/example-link/",
        "offered": when,
        "expires": f"{start:%-I:%M %p}",
        "link_days": settings.QUESTIONNAIRE_LINK_DAYS,
        "reason": "These times do not suit the clinic; please call us to choose others.",
    }
    prefix = f"notifications/{rule.kind}/"
    if rule.kind == ReminderKind.VISIT_REMINDER:
        # A visit's messages share one set of templates (docs/visits.md#messages).
        prefix = "notifications/visit/"
        context.update(kind=rule.kind, video=False, where=location.name, page=context["link"])
    return {
        "subject": _render(rule.email_subject, prefix + "subject.txt", context),
        "email": _render(rule.email_text, prefix + "email.txt", context),
        "sms": _render(rule.sms_text, prefix + "sms.txt", context),
    }


def register() -> None:
    """Called from MessagingConfig.ready: this app resolves the kinds of scheduling's messages."""
    for kind, label in ReminderKind.choices:
        if kind != ReminderKind.VISIT_REMINDER:  # messaging.visit_messages resolves it
            registry.register(kind, resolve, str(label))


# --- Visits with a clinician (messaging.visit_messages plans and composes them) ----------------


def on_visit_booked(visit: Any) -> int:
    from messaging import visit_messages  # it builds on this module's helpers

    return visit_messages.on_visit_booked(visit)


def on_visit_moved(visit: Any) -> int:
    from messaging import visit_messages

    return visit_messages.on_visit_moved(visit)


def on_visit_cancelled(visit: Any) -> int:
    from messaging import visit_messages

    return visit_messages.on_visit_cancelled(visit)
