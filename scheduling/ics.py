"""iCalendar (RFC 5545) for sessions: one event per session, times in UTC.

Events carry the clinic, the address and practical instructions, never clinical detail: a
calendar is often shared or synced to devices others can see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings

from scheduling.models import Session, Status

PRODUCT_ID = "-//Clearwater Infusion Clinics//Scheduling//EN"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def event_lines(session: Session, now: dt.datetime) -> list[str]:
    location = session.location
    cancelled = session.status not in (
        Status.BOOKED,
        Status.CONFIRMED,
        Status.CHECKED_IN,
        Status.IN_CHAIR,
        Status.COMPLETED,
    )
    return [
        "BEGIN:VEVENT",
        f"UID:{session.public_id}@{settings.SITE_URL.split('//')[-1].split('/')[0]}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(session.starts_at)}",
        f"DTEND:{_stamp(session.ends_at)}",
        f"SUMMARY:{_escape(f'Appointment at {settings.SITE_NAME}, {location.name}')}",
        f"LOCATION:{_escape(location.address.replace(chr(10), ', '))}",
        "DESCRIPTION:"
        + _escape(
            "Please arrive 10 minutes early with the adult who will drive you home. "
            "Follow the fasting instructions you were given. "
            f"To change this appointment call {location.phone or 'the clinic'}."
        ),
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
    ]


def calendar(sessions: Iterable[Session], *, name: str = "Clinic appointments") -> str:
    now = dt.datetime.now(dt.UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for session in sessions:
        lines.extend(event_lines(session, now))
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
