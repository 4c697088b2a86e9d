"""iCalendar for sessions, on the icalendar library: invitations by email as RFC 5546 (iTIP)
asks, and the patient's subscription feed.

By email each session is its own iCalendar object (iTIP allows one UID per object): METHOD:REQUEST
with the clinic's mailbox as ORGANIZER and the patient as ATTENDEE when it is booked or moved (the
same UID, a higher SEQUENCE, so calendar apps update the event they have), METHOD:CANCEL when it is
cancelled. The feed publishes every session of the patient with its status, cancelled and
completed ones included. UIDs are the session's public id at the host of SITE_URL.

Events carry the clinic, the address and practical instructions, never clinical detail: a
calendar is often shared or synced to devices others can see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext
from icalendar import Calendar, Event, vCalAddress, vText

from scheduling.models import Session, Status, Visit, VisitMode, VisitStatus

PRODUCT_ID = "-//Clearwater Infusion Clinics//Scheduling//EN"

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"


def uid(session: Session) -> str:
    return f"{session.public_id}@{urlsplit(settings.SITE_URL).hostname}"


def _status(session: Session) -> str:
    if session.status in (Status.CANCELLED, Status.LATE_CANCELLED, Status.NO_SHOW):
        return "CANCELLED"
    if session.series.is_awaiting_desk:
        # Booked online, the desk has still to confirm it (RFC 5545: "tentative").
        return "TENTATIVE"
    return "CONFIRMED"


def _event(session: Session, now: dt.datetime, attendee: str | None) -> Event:
    location = session.location
    event = Event()
    event.add("uid", uid(session))
    event.add("dtstamp", now)
    event.add("sequence", session.calendar_sequence)
    event.add("dtstart", session.starts_at.astimezone(dt.UTC))
    event.add("dtend", session.ends_at.astimezone(dt.UTC))
    # In the active language: the patient's, when a message is resolved (messaging.reminders)
    # or their calendar is downloaded.
    event.add(
        "summary",
        gettext("Appointment at %(clinic)s, %(location)s")
        % {"clinic": settings.SITE_NAME, "location": location.name},
    )
    event.add("location", location.address.replace("\n", ", "))
    if location.takes_changes_online:
        change = gettext("To change this appointment, go to %(link)s.") % {
            "link": settings.SITE_URL + reverse("scheduling:self_home")
        }
    else:
        change = gettext("To change this appointment call %(phone)s.") % {
            "phone": location.phone or gettext("the clinic")
        }
    event.add(
        "description",
        gettext(
            "Please arrive 10 minutes early with the adult who will drive you home. "
            "Follow the fasting instructions you were given."
        )
        + " "
        + change,
    )
    event.add("status", _status(session))
    if session.status == Status.COMPLETED:
        event.add("x-clinic-state", "completed")
    if attendee is not None:
        organizer = vCalAddress(f"mailto:{settings.CLINIC_MAILBOX}")
        organizer.params["cn"] = vText(settings.SITE_NAME)
        event.add("organizer", organizer)
        person = vCalAddress(f"mailto:{attendee}")
        person.params["role"] = vText("REQ-PARTICIPANT")
        person.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", person)
    return event


def _calendar(method: str, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def invitation(session: Session, attendee: str, now: dt.datetime | None = None) -> str:
    """The iTIP object for one session as it is now: REQUEST while it stands, CANCEL once
    cancelled."""
    method = CANCEL if _status(session) == "CANCELLED" else REQUEST
    calendar = _calendar(method)
    calendar.add_component(_event(session, now or dt.datetime.now(dt.UTC), attendee))
    return str(calendar.to_ical().decode())


def calendar(
    sessions: Iterable[Session],
    *,
    name: str | None = None,
    visits: Iterable[Visit] = (),
) -> str:
    """A published calendar of sessions and visits (downloads and the subscription feed)."""
    now = dt.datetime.now(dt.UTC)
    published = _calendar(PUBLISH, name or gettext("Clinic appointments"))
    for session in sessions:
        published.add_component(_event(session, now, None))
    for visit in visits:
        published.add_component(_visit_event(visit, now, None))
    return str(published.to_ical().decode())


def _visit_event(visit: Visit, now: dt.datetime, attendee: str | None) -> Event:
    """A visit with a clinician as an event: by video, its location is the join page (never the
    room's address itself, which calendars share; docs/visits.md#video-visits)."""
    location = visit.location
    event = Event()
    event.add("uid", f"{visit.public_id}@{urlsplit(settings.SITE_URL).hostname}")
    event.add("dtstamp", now)
    event.add("sequence", visit.calendar_sequence)
    event.add("dtstart", visit.starts_at.astimezone(dt.UTC))
    event.add("dtend", visit.ends_at.astimezone(dt.UTC))
    event.add(
        "summary",
        gettext("Visit with a clinician, %(clinic)s") % {"clinic": settings.SITE_NAME},
    )
    if visit.mode == VisitMode.VIDEO:
        page = settings.SITE_URL + reverse("scheduling:my_visit", args=[visit.public_id])
        event.add("location", page)
        event.add(
            "description",
            gettext("A video visit: sign in and join from %(link)s.") % {"link": page},
        )
    else:
        event.add("location", location.address.replace("\n", ", "))
    cancelled = visit.status in (VisitStatus.CANCELLED, VisitStatus.NO_SHOW)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if attendee is not None:
        organizer = vCalAddress(f"mailto:{settings.CLINIC_MAILBOX}")
        organizer.params["cn"] = vText(settings.SITE_NAME)
        event.add("organizer", organizer)
        person = vCalAddress(f"mailto:{attendee}")
        person.params["role"] = vText("REQ-PARTICIPANT")
        person.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", person)
    return event


def visit_invitation(visit: Visit, attendee: str, now: dt.datetime | None = None) -> str:
    """The iTIP object for one visit: REQUEST while it stands, CANCEL once cancelled."""
    cancelled = visit.status in (VisitStatus.CANCELLED, VisitStatus.NO_SHOW)
    calendar = _calendar(CANCEL if cancelled else REQUEST)
    calendar.add_component(_visit_event(visit, now or dt.datetime.now(dt.UTC), attendee))
    return str(calendar.to_ical().decode())
