"""Which locations' patients each staff role sees: one rule, `accounts.access.sees_patient`, read
by every get_*_for helper (docs/security.md#which-locations-patients-each-role-sees)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.access import patients_visible_to
from accounts.models import PatientProfile, Role, User
from tests.factories import UserFactory
from tests.intake_data import submitted_intake
from tests.scheduling_data import World, build_world, make_location

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def greenwich():
    return make_location("greenwich", nurses=0)


def _staff(role: Role, *locations) -> User:
    return UserFactory.create(role=role, locations=list(locations))


def _seen(user: User) -> set[str]:
    return set(patients_visible_to(user).values_list("email", flat=True))


def test_staff_see_the_patients_booked_at_their_locations(world, greenwich):
    booked = world.plan.patient.email
    for role in (Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN):
        assert booked in _seen(_staff(role, world.location)), role
        assert booked not in _seen(_staff(role, greenwich)), role
        assert booked not in _seen(_staff(role)), role  # staff of no location


def test_the_desk_of_any_location_sees_a_patient_placed_nowhere_yet(world, greenwich):
    signed_up = world.users["other"].email  # no profile, no intake, no booking

    assert signed_up in _seen(_staff(Role.FRONT_DESK, greenwich))
    assert signed_up not in _seen(_staff(Role.NURSE, world.location))
    assert signed_up not in _seen(_staff(Role.CLINICIAN, world.location))
    PatientProfile.objects.create(
        user=world.users["other"], date_of_birth=dt.date(1980, 1, 1), preferred_location=greenwich
    )
    assert signed_up not in _seen(_staff(Role.FRONT_DESK, world.location))


def test_a_preferred_location_places_a_patient_there(world, greenwich):
    patient = UserFactory.create(role=Role.PATIENT, email="prefers@example.org")
    PatientProfile.objects.create(
        user=patient, date_of_birth=dt.date(1980, 1, 1), preferred_location=greenwich
    )

    assert patient.email in _seen(_staff(Role.FRONT_DESK, greenwich))
    assert patient.email in _seen(_staff(Role.NURSE, greenwich))
    assert patient.email not in _seen(_staff(Role.FRONT_DESK, world.location))


def test_clinicians_of_any_location_see_a_patient_whose_intake_waits_before_any_booking(
    world, greenwich
):
    waiting = submitted_intake(
        UserFactory.create(role=Role.PATIENT, email="waiting@example.org"),
        location_slug=world.location.slug,
    )

    assert waiting.patient.email in _seen(_staff(Role.CLINICIAN, greenwich))
    # Not the desk's or nurses' of another location: they have nothing to do for them yet.
    assert waiting.patient.email not in _seen(_staff(Role.FRONT_DESK, greenwich))
    assert waiting.patient.email not in _seen(_staff(Role.NURSE, greenwich))
    # Once booked (the world's patient), only the clinicians of the patient's locations.
    assert world.plan.patient.email not in _seen(_staff(Role.CLINICIAN, greenwich))


def test_a_clinician_of_another_location_opens_the_summary_of_a_patient_not_yet_booked(
    world, greenwich, login
):
    waiting = submitted_intake(
        UserFactory.create(role=Role.PATIENT, email="waiting@example.org"),
        location_slug=world.location.slug,
    )
    client = login(_staff(Role.CLINICIAN, greenwich))

    assert client.get(reverse("review:summary", args=[waiting.public_id])).status_code == 200
    booked = reverse("review:summary", args=[world.plan.intake.public_id])
    assert client.get(booked).status_code == 404


def test_clinic_admins_see_every_patient_and_a_patient_only_themselves(world, greenwich):
    admin = _staff(Role.CLINIC_ADMIN)
    patients = set(User.objects.filter(role=Role.PATIENT).values_list("email", flat=True))

    assert _seen(admin) == patients
    assert _seen(world.plan.patient) == {world.plan.patient.email}


def test_the_review_queue_lists_the_patients_the_clinician_sees(world, greenwich, login):
    """A clinician of another location finds the never-booked patients' intakes in the queue,
    not the booked patient's; the clinicians of the patient's location find both."""
    waiting = submitted_intake(
        UserFactory.create(role=Role.PATIENT, email="waiting@example.org"),
        location_slug=world.location.slug,
    )
    booked = str(world.plan.intake.public_id)
    queue = reverse("review:queue")

    elsewhere = login(_staff(Role.CLINICIAN, greenwich)).get(queue, {"status": "all"})
    here = login(_staff(Role.CLINICIAN, world.location)).get(queue, {"status": "all"})

    assert str(waiting.public_id) in elsewhere.content.decode()
    assert booked not in elsewhere.content.decode()
    assert str(waiting.public_id) in here.content.decode() and booked in here.content.decode()
