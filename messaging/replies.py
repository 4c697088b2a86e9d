"""Replies by text to the reminders (docs/reminders.md#two-way-texts-twilio), registered with
notifications' inbound webhook.

The words, as the reminder names them ("Reply C to confirm, R to reschedule"):

- C or 1 confirms the session of the latest text reminder sent to the number; R or 2 asks to
  reschedule it, as the reminder says: it never cancels anything (a patient who answered C and
  then R still has a confirmed appointment). The front desk gets a "reschedule" task; the answer
  links to moving it online where the location lets patients do that and the session is not
  yet inside the location's notice, and otherwise says the clinic will call.
- STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT are carriers' opt-out words (and
  Twilio's): consent to texts is withdrawn for every patient with the number, with the time and
  the word, and their pending texts are cancelled. CANCEL never cancels an appointment, which is
  why no text of ours says "reply CANCEL".
- START, UNSTOP and YES are opt-in words: consent comes back for the patients of the number who
  had withdrawn it, and the texts the opt-out cancelled that are still to come are planned again.
  YES is also how some patients confirm: **YES confirms when the latest reminder awaits an answer
  (its session is booked, not yet confirmed), and otherwise opts in**. (Twilio answers YES with its
  own opt-in message unless the number uses Advanced Opt-Out; our texts ask for C, not YES.)
- HELP or INFO: the provider answers them (Twilio does, with or without Advanced Opt-Out) unless
  SMS_PROVIDER_ANSWERS_HELP is false; then we answer with the clinic's phone.
- Anything else, and C or R when no reminder awaits or the number is shared by patients none of
  whose reminders went to it, is an "unclear reply" task for the front desk.

A number shared by two patients (a household) goes to the patient whose reminder was sent to it
last. The answers carry no clinical detail: the clinic, a first name, a time, a phone number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext, gettext_noop

from accounts import consent
from accounts.models import PatientProfile, User
from locations.models import Location
from messaging import reminders, visit_messages
from notifications import services as outbox
from notifications.models import Channel, InboundText, Message, MessageStatus
from notifications.registry import Answer
from scheduling import links, visits
from scheduling.models import (
    UPCOMING_STATUSES,
    ReminderKind,
    Series,
    Session,
    Status,
    Visit,
)
from scheduling.models import ReplyOutcome as Outcome
from worklist import services as worklist
from worklist.models import Cause

CONFIRM = frozenset({"C", "1"})
RESCHEDULE = frozenset({"R", "2"})
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})


def word_of(body: str) -> str:
    """The reply as one word: case, surrounding spaces, quotes and end punctuation do not
    matter ("c.", " Stop! "); anything longer stays as it is and matches no word."""
    return body.strip().strip("\"'.!").strip().upper()


@dataclass(frozen=True)
class Awaiting:
    """The latest text reminder sent to the number, about a session still ahead."""

    session: Session
    message: Message

    @property
    def group(self) -> str:
        return self.message.group


def latest_reminder(number: str, patient_ids: list[int]) -> Awaiting | None:
    sessions = {
        session.pk: session
        for session in Session.objects.filter(
            patient_id__in=patient_ids,
            status__in=UPCOMING_STATUSES,
            starts_at__gt=timezone.now(),
        ).select_related("location", "series", "patient__patient_profile")
    }
    if not sessions:
        return None
    message = (
        Message.objects.filter(
            group__in=[f"session:{pk}" for pk in sessions],
            kind=ReminderKind.REMINDER,
            channel=Channel.SMS,
            status=MessageStatus.SENT,
            recipient=number,
        )
        .order_by("-sent_at")
        .first()
    )
    if message is None:
        return None
    return Awaiting(sessions[int(message.group.partition(":")[2])], message)


@dataclass(frozen=True)
class VisitAwaiting:
    """The latest text reminder of a visit sent to the number, about a visit still ahead."""

    visit: Visit
    message: Message

    @property
    def group(self) -> str:
        return self.message.group


def latest_visit_reminder(number: str, patient_ids: list[int]) -> VisitAwaiting | None:
    """As `latest_reminder`, for visits with a clinician (docs/visits.md#messages)."""
    visits = {
        visit.pk: visit
        for visit in Visit.objects.upcoming()
        .filter(patient_id__in=patient_ids)
        .select_related("location", "patient__patient_profile")
    }
    if not visits:
        return None
    message = (
        Message.objects.filter(
            group__in=[f"visit:{pk}" for pk in visits],
            kind=visit_messages.REMINDER,
            channel=Channel.SMS,
            status=MessageStatus.SENT,
            recipient=number,
        )
        .order_by("-sent_at")
        .first()
    )
    if message is None:
        return None
    return VisitAwaiting(visits[int(message.group.partition(":")[2])], message)


def _about_visit(
    awaiting: Awaiting | None, visit_awaiting: VisitAwaiting | None
) -> VisitAwaiting | None:
    """The visit's reminder when it is the latest text that awaits an answer."""
    if visit_awaiting is None:
        return None
    if awaiting is None:
        return visit_awaiting
    later = visit_awaiting.message.sent_at or timezone.now()
    return visit_awaiting if later > (awaiting.message.sent_at or later) else None


def _confirm_visit(awaiting: VisitAwaiting) -> Answer:
    visit = awaiting.visit
    changed = visits.confirm_visit(visit)
    with translation.override(links.patient_language(visit.patient)):
        words = {"clinic": settings.SITE_NAME, "when": _when(visit)}
        if not changed:
            reply = (
                gettext("%(clinic)s: your appointment %(when)s is already confirmed. See you then.")
                % words
            )
            return Answer(reply, awaiting.group, Outcome.ALREADY_CONFIRMED)
        reply = gettext(
            "%(clinic)s: thank you, %(name)s. Your appointment %(when)s is confirmed."
        ) % {**words, "name": _first_name(visit.patient)}
    return Answer(reply, awaiting.group, Outcome.CONFIRMED)


def _reschedule_visit(awaiting: VisitAwaiting) -> Answer:
    """R about a visit: the desk calls back (a task linking to the visit); nothing cancelled."""
    visit = awaiting.visit
    local = timezone.now().astimezone(visit.location.zone)
    worklist.open_task(
        Cause.RESCHEDULE_REQUEST,
        f"visit:{visit.pk}",
        subject=f"{visit.patient.get_full_name()}, visit {_when(visit)}",
        detail=f"{local:%-d %b %H:%M}: asked by text (reply R) to reschedule a visit. "
        "Nothing was cancelled. Call the patient back to find a new time.",
        link=reverse("scheduling:visit", args=[visit.public_id]),
        location_pk=visit.location_id,
    )
    words = gettext_noop(
        "%(clinic)s: the clinic will call you to find a new time for your appointment "
        "%(when)s. Nothing is cancelled; to reach us now call %(phone)s."
    )
    return Answer(_in_patients_language(visit, words), awaiting.group, Outcome.RESCHEDULE)


def handle(text: InboundText) -> Answer:
    """Understand one inbound text (see the module's docstring); what to answer."""
    number, word = text.sender, word_of(text.body)
    profiles = consent.profiles_of(number)
    patient_ids = [profile.user_id for profile in profiles]
    if word in OPT_OUT:
        consent.withdraw_sms_consent(number, f"replied {word} by text")
        outbox.cancel_texts(groups_of(patient_ids))
        return Answer(outcome=Outcome.OPTED_OUT)  # the provider confirms the opt-out itself
    awaiting = latest_reminder(number, patient_ids)
    if word in HELP:
        if settings.SMS_PROVIDER_ANSWERS_HELP:
            return Answer(outcome=Outcome.HELP)
        return Answer(_help_text(awaiting, profiles), outcome=Outcome.HELP)
    visit_awaiting = _about_visit(awaiting, latest_visit_reminder(number, patient_ids))
    if visit_awaiting is not None:
        if word in CONFIRM or (word == "YES" and visit_awaiting.visit.status == "booked"):
            return _confirm_visit(visit_awaiting)
        if word in RESCHEDULE:
            return _reschedule_visit(visit_awaiting)
    confirms = word in CONFIRM or (
        word == "YES" and awaiting is not None and awaiting.session.status == Status.BOOKED
    )
    if confirms and awaiting is not None:
        return _confirm(awaiting)
    if word in OPT_IN:
        consent.restore_sms_consent(number, f"replied {word} by text")
        outbox.restore_texts(groups_of(patient_ids))
        return Answer(outcome=Outcome.OPTED_IN)
    if word in RESCHEDULE and awaiting is not None:
        return _reschedule(awaiting)
    return _unclear(text, profiles, awaiting)


def groups_of(patient_ids: list[int]) -> list[str]:
    sessions = Session.objects.filter(patient_id__in=patient_ids).values_list("pk", flat=True)
    series = Series.objects.filter(patient_id__in=patient_ids).values_list("pk", flat=True)
    visits = Visit.objects.filter(patient_id__in=patient_ids).values_list("pk", flat=True)
    return (
        [f"session:{pk}" for pk in sessions]
        + [f"series:{pk}" for pk in series]
        + [f"visit:{pk}" for pk in visits]
    )


def _when(session: Session | Visit) -> str:
    """ "Mon 7 Dec at 11:00 AM" in the active language (the patient's, for a reply)."""
    # Translators: Django date format of an appointment in a text message.
    return format_date(session.local_start(), gettext("D j M \\a\\t g:i A"))


def _first_name(patient: User) -> str:
    profile: PatientProfile | None = getattr(patient, "patient_profile", None)
    return (profile.preferred_name if profile else "") or patient.first_name or "there"


def _phone(session: Session | Visit | None, profiles: list[PatientProfile]) -> str:
    location = session.location if session is not None else None
    if location is None:
        location = next((p.preferred_location for p in profiles if p.preferred_location), None)
    return (location.phone if location is not None else "") or gettext("the clinic")


def _series_link(series_id: int | None) -> str:
    if series_id is None:
        return ""
    series = Series.objects.filter(pk=series_id).values_list("public_id", flat=True).first()
    return reverse("scheduling:series", args=[series]) if series else ""


def _confirm(awaiting: Awaiting) -> Answer:
    session = awaiting.session
    changed = Session.objects.filter(pk=session.pk, status=Status.BOOKED).update(
        status=Status.CONFIRMED, status_changed_at=timezone.now()
    )
    with translation.override(links.patient_language(session.patient)):
        words = {"clinic": settings.SITE_NAME, "when": _when(session)}
        if not changed:
            reply = (
                gettext("%(clinic)s: your appointment %(when)s is already confirmed. See you then.")
                % words
            )
            return Answer(reply, awaiting.group, Outcome.ALREADY_CONFIRMED)
        reply = gettext(
            "%(clinic)s: thank you, %(name)s. Your appointment %(when)s is confirmed."
        ) % {**words, "name": _first_name(session.patient)}
    return Answer(reply, awaiting.group, Outcome.CONFIRMED)


def _reschedule(awaiting: Awaiting) -> Answer:
    """A request to reschedule: a task for the desk, and the way to do it online if any."""
    session = awaiting.session
    when = _when(session)  # for the staff task, in English
    now = timezone.now()
    location = session.location
    notice = now + dt.timedelta(hours=location.self_booking_notice_hours)
    online = reminders.change_url(location) if session.starts_at > notice else ""
    local = now.astimezone(location.zone)
    detail = (
        f"{local:%-d %b %H:%M}: asked by text (reply R) to reschedule session "
        f"{session.number}. Nothing was cancelled. "
        + (
            "The patient was sent the link to move it online; call if it is not moved."
            if online
            else "Call the patient back to find a new time."
        )
    )
    worklist.open_task(
        Cause.RESCHEDULE_REQUEST,
        f"session:{session.pk}",
        subject=f"{session.patient.get_full_name()}, session {session.number} {when}",
        detail=detail,
        link=_series_link(session.series_id),
        location_pk=session.location_id,
    )
    if online:
        words = gettext_noop(
            "%(clinic)s: to move your appointment %(when)s, choose a new time at %(link)s. "
            "Nothing is cancelled; if you do not, the clinic will call you."
        )
    else:
        words = gettext_noop(
            "%(clinic)s: the clinic will call you to find a new time for your appointment "
            "%(when)s. Nothing is cancelled; to reach us now call %(phone)s."
        )
    return Answer(
        _in_patients_language(session, words, link=online), awaiting.group, Outcome.RESCHEDULE
    )


def _in_patients_language(session: Session | Visit, words: str, *, link: str = "") -> str:
    """A reply about the session, in its patient's language, with the clinic, when and phone."""
    with translation.override(links.patient_language(session.patient)):
        return gettext(words) % {
            "clinic": settings.SITE_NAME,
            "when": _when(session),
            "phone": _phone(session, []),
            "link": link,
        }


def _help_text(awaiting: Awaiting | None, profiles: list[PatientProfile]) -> str:
    patient = awaiting.session.patient if awaiting else None
    if patient is None and len(profiles) == 1:
        patient = profiles[0].user
    with translation.override(links.patient_language(patient)):
        phone = _phone(awaiting.session if awaiting else None, profiles)
        return gettext(
            "%(clinic)s: for help with your appointments call %(phone)s. Reply C to confirm, R to "
            "reschedule, STOP to stop texts."
        ) % {"clinic": settings.SITE_NAME, "phone": phone}


def _unclear(
    text: InboundText, profiles: list[PatientProfile], awaiting: Awaiting | None
) -> Answer:
    """A staff task: the words as sent, who it may be from, where to act."""
    if awaiting is not None:
        patient = awaiting.session.patient
        series_id: int | None = awaiting.session.series_id
        location_pk: int | None = awaiting.session.location_id
    elif len(profiles) == 1:
        patient = profiles[0].user
        series_id = (
            Series.objects.filter(patient=patient)
            .order_by("-created_at")
            .values_list("pk", flat=True)
            .first()
        )
        location_pk = profiles[0].preferred_location_id
    else:
        patient, series_id, location_pk = None, None, None
    if patient is not None:
        about, subject = f"patient:{patient.pk}", patient.get_full_name()
    else:
        # A number is not an id for a URL or a log: the task is keyed by its digest.
        about = "number:" + hashlib.sha256(text.sender.encode()).hexdigest()[:24]
        names = ", ".join(p.user.get_full_name() for p in profiles)
        subject = f"Shared number: {names}" if names else "A number no patient has"
    # Said in the clinic's time, as the desk reads every other time.
    location = Location.objects.filter(pk=location_pk).first() if location_pk else None
    zone = location.zone if location else Location.default_zone()
    received = text.received_at.astimezone(zone)
    when = f"{received:%-d %b %H:%M} {received.tzname()}"
    worklist.open_task(
        Cause.UNCLEAR_REPLY,
        about,
        subject=subject,
        detail=f"{when} from {text.sender}: “{text.body[:500]}”",
        link=_series_link(series_id),
        location_pk=location_pk,
    )
    with translation.override(links.patient_language(patient)):
        reply = gettext(
            "%(clinic)s: thank you, the clinic team will read your message. Reply C to confirm "
            "or R to reschedule. In an emergency call 911, or call or text 988."
        ) % {"clinic": settings.SITE_NAME}
    return Answer(reply, awaiting.group if awaiting else "", Outcome.UNCLEAR)
