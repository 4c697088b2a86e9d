"""The fictional demo clinic as plain data, importable before Django is set up (make run)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105  (fictional demo accounts, printed by make run)


@dataclass(frozen=True)
class DemoLocation:
    slug: str
    name: str
    time_zone: str
    address: str
    phone: str
    chairs: int
    hours: dict[int, tuple[dt.time, dt.time]]
    # Country and subdivision whose public holidays close it.
    holidays: tuple[str, str]


WEEKDAYS_8_TO_6 = {day: (dt.time(8), dt.time(18)) for day in range(5)}

LOCATIONS = [
    DemoLocation(
        slug="stamford",
        name="Stamford",
        time_zone="America/New_York",
        address="100 Harbor Point Road, Suite 2\nStamford, CT 06902",
        phone="+1 203 555 0142",
        chairs=6,
        hours={**WEEKDAYS_8_TO_6, 5: (dt.time(9), dt.time(13))},
        holidays=("US", "CT"),
    ),
    DemoLocation(
        slug="irvine",
        name="Irvine",
        time_zone="America/Los_Angeles",
        address="2400 Main Street, Suite 110\nIrvine, CA 92614",
        phone="+1 949 555 0178",
        chairs=4,
        hours={day: (dt.time(7), dt.time(17)) for day in range(5)},
        holidays=("US", "CA"),
    ),
]

# (email, first name, last name, role, location slugs)
STAFF = [
    ("admin@example.org", "Alex", "Morgan", "clinic_admin", ["stamford", "irvine"]),
    ("desk@example.org", "Dana", "Reyes", "front_desk", ["stamford", "irvine"]),
    ("clinician@example.org", "Casey", "Lindqvist", "clinician", ["stamford", "irvine"]),
    ("nurse@example.org", "Noor", "Haddad", "nurse", ["stamford"]),
    ("nurse2@example.org", "Sam", "Okafor", "nurse", ["stamford"]),
    ("nurse3@example.org", "Jordan", "Pike", "nurse", ["irvine"]),
]

PATIENTS = [
    ("patient@example.org", "Pat", "Example"),
    ("robin.sample@example.org", "Robin", "Sample"),
    ("lee.placeholder@example.org", "Lee", "Placeholder"),
    ("casey.mock@example.org", "Casey", "Mock"),
    ("jules.fiction@example.org", "Jules", "Fiction"),
]

# What each demo patient has done: "booked" (approved, series booked), "waiting" (submitted,
# waiting for review), "urgent" (submitted with an urgent flag), or None (not started).
PATIENT_STORIES = {
    "patient@example.org": "booked",
    "casey.mock@example.org": "booked",
    "jules.fiction@example.org": "waiting",
    "robin.sample@example.org": "urgent",
    "lee.placeholder@example.org": None,
}


# Demo patients who read the site in Spanish (README "Languages"): Lee has not started the
# questionnaire, so signing in as Lee shows the whole intake in Spanish.
PATIENT_LANGUAGES = {"lee.placeholder@example.org": "es"}
DEMO_BIRTH_DATE = dt.date(1984, 9, 3)


def demo_logins() -> list[tuple[str, str]]:
    """One login per role, for `make run` to print: (role, email)."""
    labels = {
        "clinic_admin": "Clinic admin",
        "front_desk": "Front desk",
        "clinician": "Clinician",
        "nurse": "Nurse",
    }
    logins: dict[str, str] = {}
    for email, _first, _last, role, _locations in STAFF:
        logins.setdefault(labels[role], email)
    logins["Patient"] = PATIENTS[0][0]
    return list(logins.items())
