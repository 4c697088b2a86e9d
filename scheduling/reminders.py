"""The message plan of a series (PRODUCT.md 5), written to the outbox with the booking change.

For a booked series: a confirmation now (email with an .ics of every session), the baseline
questionnaire now, and per session a preparation message 72 h before, a reminder with a signed
confirm/cancel link 24 h before, a fasting reminder on the morning, a follow-up check-in 24 h
after; the mid-series and end questionnaires follow the middle and the last session. Each
location may switch a kind off, change its hours and its texts (ReminderRule). Texts carry a
first name, the clinic, the time and links, never clinical detail. Text messages respect the
patient's consent and are deferred out of quiet hours (21:00-08:00 local).

Every function here runs inside the caller's transaction, so messages exist exactly when the
booking change does.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import PatientProfile
from clinic.redaction import token_prefix
from notifications import services as outbox
from notifications.models import Channel
from notifications.tasks import dispatch_soon
from scheduling import ics
from scheduling.models import ReminderKind, ReminderRule, Series, Session

logger = logging.getLogger(__name__)

# Defaults of the configurable rules: hours before/after, local time for the fasting reminder.
DEFAULT_HOURS = {
    ReminderKind.PREPARATION: 72,
    ReminderKind.REMINDER: 24,
    ReminderKind.FOLLOWUP: 24,
}
DEFAULT_FASTING_TIME = dt.time(8)
# Sessions starting before this local time get their fasting reminder the evening before.
EARLY_SESSION = dt.time(10)
EVENING_BEFORE = dt.time(19)

ACTION_SALT = "scheduling.session-action"
CHECKIN_SALT = "outcomes.check-in"
QUESTIONNAIRE_SALT = "outcomes.questionnaire"
LINK_MAX_AGE = dt.timedelta(days=14)


def signed(salt: str, value: str) -> str:
    return signing.TimestampSigner(salt=salt).sign(value)


def unsign(salt: str, token: str) -> str:
    """The value of a link's token; BadSignature/SignatureExpired when forged or too old.

    A refusal is logged with the token's first characters only (clinic.redaction)."""
    try:
        return signing.TimestampSigner(salt=salt).unsign(token, max_age=LINK_MAX_AGE)
    except signing.BadSignature as error:
        reason = "expired" if isinstance(error, signing.SignatureExpired) else "bad signature"
        logger.info("refused a %s link %s: %s", salt, token_prefix(token), reason)
        raise


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


def _profile(patient: Any) -> PatientProfile | None:
    """The patient's profile through the cached reverse accessor: one query per patient
    instance at most, none when it was loaded with select_related."""
    try:
        return patient.patient_profile
    except PatientProfile.DoesNotExist:
        return None


def _recipients(session_or_series: Session | Series) -> list[tuple[str, str]]:
    patient = session_or_series.patient
    profile = _profile(patient)
    if profile is None:
        return [(Channel.EMAIL.value, patient.email)]
    return outbox.channels_for(
        email=patient.email,
        email_ok=profile.email_reminders,
        phone=profile.mobile_phone,
        sms_ok=profile.sms_reminders and profile.sms_consent_at is not None,
    )


def _first_name(patient: Any) -> str:
    profile = _profile(patient)
    return (profile.preferred_name if profile and profile.preferred_name else "") or (
        patient.first_name or "there"
    )


def _when(session: Session) -> str:
    local = session.local_start()
    return f"{local:%A %-d %B at %-I:%M %p} {local.tzname()}"


def _link(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])


def _write(
    rule: Rule,
    *,
    group: str,
    send_at: dt.datetime,
    recipients: list[tuple[str, str]],
    context: dict[str, Any],
    zone: Any,
    latest: dt.datetime | None = None,
    attachment: str = "",
) -> int:
    """One message per channel the patient agreed to; texts deferred out of quiet hours."""
    written = 0
    prefix = f"notifications/{rule.kind}/"
    for channel, recipient in recipients:
        at = send_at
        if channel == Channel.SMS:
            at = outbox.defer_out_of_quiet_hours(send_at, zone)
            if latest is not None and at >= latest:
                continue  # deferred past the appointment: pointless
            body = _render(rule.sms_text, prefix + "sms.txt", context)
            outbox.enqueue(
                channel=channel,
                kind=rule.kind,
                group=group,
                recipient=recipient,
                send_at=at,
                body_text=body,
            )
        else:
            outbox.enqueue(
                channel=channel,
                kind=rule.kind,
                group=group,
                recipient=recipient,
                send_at=at,
                subject=_render(rule.email_subject, prefix + "subject.txt", context),
                body_text=_render(rule.email_text, prefix + "email.txt", context),
                body_html=_render(rule.email_html, prefix + "email.html", context),
                attachment_name="appointments.ics" if attachment else "",
                attachment=attachment,
            )
        written += 1
    return written


# The default preparation words; a location changes them with its own texts (ReminderRule).
# They say what to do, never why: messages may be read by others.
INSTRUCTIONS = (
    "Before your appointment: no solid food for 6 hours; clear liquids (water, clear juice, "
    "black coffee or tea) are fine until 2 hours before. Take your usual medicines unless the "
    "clinic told you otherwise."
)


def _base_context(patient: Any, location: Any) -> dict[str, Any]:
    return {
        "first_name": _first_name(patient),
        "clinic": settings.SITE_NAME,
        "location": location,
        "instructions": INSTRUCTIONS,
    }


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


def plan_session(session: Session, rules: dict[str, Rule], total: int) -> int:
    """Write the per-session messages that are still in the future."""
    now = timezone.now()
    location = session.location
    recipients = _recipients(session)
    context = {
        **_base_context(session.patient, location),
        "when": _when(session),
        "number": session.number,
        "total": total,
    }
    group = f"session:{session.pk}"
    written = 0
    before = [
        (ReminderKind.PREPARATION, lambda r: session.starts_at - dt.timedelta(hours=r.hours)),
        (ReminderKind.REMINDER, lambda r: session.starts_at - dt.timedelta(hours=r.hours)),
        (ReminderKind.FASTING, lambda r: _fasting_time(session, r)),
    ]
    for kind, when in before:
        rule = rules[kind]
        send_at = when(rule)
        if not rule.enabled or send_at <= now:
            continue  # booked too late for this one
        extra = {}
        if kind == ReminderKind.REMINDER:
            extra["link"] = _link(
                "scheduling:session_action", signed(ACTION_SALT, str(session.public_id))
            )
        written += _write(
            rule,
            group=group,
            send_at=send_at,
            recipients=recipients,
            context={**context, **extra},
            zone=location.zone,
            latest=session.starts_at,
        )
    written += _plan_after(session, rules, total, session.ends_at, recipients, context)
    return written


def _plan_after(
    session: Session,
    rules: dict[str, Rule],
    total: int,
    end: dt.datetime,
    recipients: list[tuple[str, str]],
    context: dict[str, Any],
) -> int:
    """The follow-up check-in and any milestone questionnaire, counted from the end."""
    written = 0
    rule = rules[ReminderKind.FOLLOWUP]
    if rule.enabled:
        token = signed(CHECKIN_SALT, str(session.public_id))
        written += _write(
            rule,
            group=f"session:{session.pk}",
            send_at=end + dt.timedelta(hours=rule.hours or 24),
            recipients=recipients,
            context={**context, "link": _link("outcomes:check_in", token)},
            zone=session.location.zone,
        )
    written += _milestone_questionnaire(session, rules, total, recipients, context, end)
    return written


def on_session_completed(session: Session, ended_at: dt.datetime) -> int:
    """The follow-up counts from the real discharge, not the booked end."""
    outbox.cancel_group(f"session:{session.pk}")
    rules = rules_for(session.location_id)
    context = {
        **_base_context(session.patient, session.location),
        "when": _when(session),
        "number": session.number,
    }
    total = session.series.sessions.count()
    return _plan_after(session, rules, total, ended_at, _recipients(session), context)


def _milestone_questionnaire(
    session: Session,
    rules: dict[str, Rule],
    total: int,
    recipients: list[tuple[str, str]],
    context: dict[str, Any],
    end: dt.datetime,
) -> int:
    rule = rules[ReminderKind.QUESTIONNAIRE]
    middle = math.ceil(total / 2)
    milestone = "end" if session.number == total else "mid" if session.number == middle else None
    if not rule.enabled or milestone is None:
        return 0
    token = signed(QUESTIONNAIRE_SALT, f"{session.series.public_id}:{milestone}")
    return _write(
        rule,
        group=f"session:{session.pk}",
        send_at=end + dt.timedelta(hours=2 if milestone == "mid" else 24),
        recipients=recipients,
        context={**context, "milestone": milestone, "link": _link("outcomes:questionnaire", token)},
        zone=session.location.zone,
    )


def on_series_booked(series: Series) -> int:
    sessions = list(
        series.sessions.select_related("location", "patient__patient_profile", "series").order_by(
            "number"
        )
    )
    rules = rules_for(series.location_id)
    recipients = _recipients(series)
    now = timezone.now()
    context = {
        **_base_context(series.patient, series.location),
        "sessions": [_when(s) for s in sessions],
        "when": _when(sessions[0]) if sessions else "",
    }
    written = 0
    rule = rules[ReminderKind.CONFIRMATION]
    if rule.enabled:
        written += _write(
            rule,
            group=f"series:{series.pk}",
            send_at=now,
            recipients=recipients,
            context=context,
            zone=series.location.zone,
            attachment=ics.calendar(sessions),
        )
    rule = rules[ReminderKind.QUESTIONNAIRE]
    if rule.enabled:
        token = signed(QUESTIONNAIRE_SALT, f"{series.public_id}:baseline")
        written += _write(
            rule,
            group=f"series:{series.pk}",
            send_at=now,
            recipients=recipients,
            context={
                **context,
                "milestone": "baseline",
                "link": _link("outcomes:questionnaire", token),
            },
            zone=series.location.zone,
        )
    for session in sessions:
        written += plan_session(session, rules, len(sessions))
    dispatch_soon()
    return written


def on_sessions_moved(sessions: list[Session]) -> int:
    """Cancel what was planned for the old times and plan again; tell the patient."""
    if not sessions:
        return 0
    series = sessions[0].series
    rules = rules_for(series.location_id)
    total = series.sessions.count()
    written = 0
    for session in sessions:
        outbox.cancel_group(f"session:{session.pk}")
        written += plan_session(session, rules, total)
    rule = rules[ReminderKind.CHANGED]
    if rule.enabled:
        written += _write(
            rule,
            group=f"series:{series.pk}",
            send_at=timezone.now(),
            recipients=_recipients(series),
            context={
                **_base_context(series.patient, series.location),
                "sessions": [_when(s) for s in sessions],
                "when": _when(sessions[0]),
            },
            zone=series.location.zone,
            attachment=ics.calendar(sessions),
        )
    dispatch_soon()
    return written


def on_sessions_cancelled(sessions: list[Session]) -> int:
    """Nothing more is sent for cancelled sessions; the patient gets one notice."""
    if not sessions:
        return 0
    for session in sessions:
        outbox.cancel_group(f"session:{session.pk}")
    series = sessions[0].series
    rule = rules_for(series.location_id)[ReminderKind.CANCELLED]
    written = 0
    if rule.enabled:
        written = _write(
            rule,
            group=f"series:{series.pk}",
            send_at=timezone.now(),
            recipients=_recipients(series),
            context={
                **_base_context(series.patient, series.location),
                "sessions": [_when(s) for s in sessions],
                "when": _when(sessions[0]),
            },
            zone=series.location.zone,
            attachment=ics.calendar(sessions),
        )
    dispatch_soon()
    return written
