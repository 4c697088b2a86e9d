"""Fictional demo data: two locations, staff for every role and a few patients.

Safe to run again: every row is found by a natural key and updated, never duplicated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import PatientProfile, Role, User
from accounts.security import enrol_with_key
from accounts.totp import DEMO_TOTP_SECRET, hex_key
from intake.samples import submitted_intake
from locations.models import Chair, Location, NurseShift, OpeningHours
from review import services as review
from review.models import ProtocolTemplate
from scheduling import planner, services
from scheduling.demo import (
    DEMO_BIRTH_DATE,
    DEMO_PASSWORD,
    LOCATIONS,
    PATIENT_LANGUAGES,
    PATIENT_STORIES,
    PATIENTS,
    STAFF,
    DemoLocation,
)

SHIFT_DAYS_AHEAD = 28


class Command(BaseCommand):
    help = "Load fictional demo locations, staff and patients (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        locations = {spec.slug: self._location(spec) for spec in LOCATIONS}
        for email, first, last, role, slugs in STAFF:
            user = self._user(email, first, last, role)
            user.locations.set([locations[slug] for slug in slugs])
            enrol_with_key(user, hex_key(DEMO_TOTP_SECRET))
            if role == Role.NURSE:
                for slug in slugs:
                    self._shifts(user, locations[slug])
        for email, first, last in PATIENTS:
            patient = self._user(email, first, last, Role.PATIENT)
            story = PATIENT_STORIES.get(email)
            if story and not patient.intakes.exists():
                self._story(patient, story, locations["stamford"])
            if email in PATIENT_LANGUAGES:
                profile, _ = PatientProfile.objects.get_or_create(
                    user=patient, defaults={"date_of_birth": DEMO_BIRTH_DATE}
                )
                profile.preferred_language = PATIENT_LANGUAGES[email]
                profile.save(update_fields=["preferred_language"])
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))

    def _story(self, patient: User, story: str, location: Location) -> None:
        """Take a demo patient through the real intake, review and booking services."""
        first, last = patient.first_name, patient.last_name
        changes: dict[str, Any] = {
            "about": {
                "legal_first_name": first,
                "legal_last_name": last,
                "email": patient.email,
                "preferred_location": location.slug,
            },
            "contacts": {"escort_name": "A. Driver", "emergency_name": "A. Driver"},
            "consents": {"signature": f"{first} {last}"},
        }
        if story == "urgent":
            changes["mood"] = {"phq9_9": "1"}
        intake = submitted_intake(patient, location_slug=location.slug, changes=changes)
        if story != "booked":
            return
        clinician = User.objects.get(email="clinician@example.org")
        template = ProtocolTemplate.objects.get(is_default=True)
        plan = review.approve(
            intake, clinician, {f: getattr(template, f) for f in review.PLAN_FIELDS}
        )
        request = planner.Request(
            shape=planner.PlanShape.from_plan(plan),
            first_date=location.local_today(),
            weekdays=frozenset({0, 2, 4}),
            windows=(planner.Window(dt.time(9), dt.time(12)),),
        )
        proposal = planner.propose(location, patient.pk, request)
        if proposal.complete:
            services.book_series(
                plan,
                location,
                [services.Choice(s.slot.date, s.slot.local_time) for s in proposal.sessions],
                booked_by=User.objects.get(email="desk@example.org"),
            )

    def _location(self, spec: DemoLocation) -> Location:
        location, _ = Location.objects.update_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "time_zone": spec.time_zone,
                "address": spec.address,
                "phone": spec.phone,
                # The demo shows patients booking their own series; production clinics opt in.
                "self_booking": True,
                "holiday_country": spec.holidays[0],
                "holiday_subdivision": spec.holidays[1],
            },
        )
        for weekday, (opens, closes) in spec.hours.items():
            OpeningHours.objects.update_or_create(
                location=location, weekday=weekday, defaults={"opens": opens, "closes": closes}
            )
        for number in range(1, spec.chairs + 1):
            Chair.objects.get_or_create(
                location=location, name=f"Chair {number}", defaults={"position": number}
            )
        return location

    def _user(self, email: str, first: str, last: str, role: str) -> User:
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": role,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _shifts(self, nurse: User, location: Location) -> None:
        """A shift covering opening hours on every open day of the coming four weeks."""
        today = location.local_today()
        last = today + dt.timedelta(days=SHIFT_DAYS_AHEAD - 1)
        for starts, ends in location.openings(today, last).values():
            NurseShift.objects.get_or_create(
                location=location,
                nurse=nurse,
                starts_at=starts.astimezone(dt.UTC),
                defaults={"ends_at": ends.astimezone(dt.UTC)},
            )
