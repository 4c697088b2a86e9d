"""The patient page (/desk/patients/<public id>/): one page per patient for the desk, and what
clinicians and nurses may see of it. Each role's view is asked over HTTP, as a person would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from intake.models import IntakeAttachment
from notifications.models import Message
from scheduling import services
from scheduling.models import PatientNote
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from worklist.models import Cause
from worklist.services import open_task

pytestmark = pytest.mark.django_db

# Staff activity is written to the session at most every STAFF_SEEN_RESOLUTION seconds.
STEADY = override_settings(STAFF_SEEN_RESOLUTION=10**9)
BODY = "BODY-OF-THE-MESSAGE-NOBODY-READS-HERE"


@pytest.fixture
def world(booked_world, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    IntakeAttachment.objects.create(
        intake=booked_world.plan.intake,
        kind=IntakeAttachment.Kind.INSURANCE_CARD,
        content_type="image/png",
        size=4,
        file=ContentFile(b"card", name="card.png"),
    )
    Message.objects.filter(group__startswith="session:").update(
        body_text=BODY, body_html=BODY, subject=BODY
    )
    return booked_world


def url(world) -> str:
    return reverse("scheduling:patient", args=[world.plan.patient.public_id])


def page_as(login, user, world) -> str:
    response = login(user).get(url(world))
    assert response.status_code == 200
    return response.content.decode()


def test_the_desk_sees_contact_status_schedule_series_messages_tasks_and_card(world, login):
    html = page_as(login, world.users[Role.FRONT_DESK], world)
    patient = world.plan.patient

    assert "Avery Testperson" in html
    assert "12 Apr 1980" in html
    assert patient.record_number in html
    assert patient.email in html
    assert "(203) 555-0199" in html
    assert "Stamford" in html and "English" in html
    assert "Texts: agreed" in html and "Email reminders: yes" in html
    assert "Approved for treatment" in html
    assert "2 infusions" in html and "2 to " in html  # the spacing, in days
    assert reverse("scheduling:series", args=[world.series.public_id]) in html
    assert "Eastern time" in html and "10:00" in html
    assert "Session confirmation" in html or "Reminder" in html
    assert BODY not in html
    assert reverse("intake:insurance_card", args=[world.plan.intake.public_id]) in html
    assert "Unclear reply by text" in html  # the desk's task about the patient
    assert "Series over" not in html  # the clinicians' task is theirs
    # No clinical detail: no dose, no link to the clinician's summary.
    assert "mg/kg" not in html
    assert reverse("review:summary", args=[world.plan.intake.public_id]) not in html
    assert 'name="text"' in html  # the desk adds notes


def test_a_clinic_admin_sees_the_desk_view_without_the_card(world, login):
    html = page_as(login, world.users[Role.CLINIC_ADMIN], world)

    assert "(203) 555-0199" in html and "Unclear reply by text" in html
    assert "mg/kg" not in html
    # The card's own rules: the front desk and clinicians only.
    assert reverse("intake:insurance_card", args=[world.plan.intake.public_id]) not in html


def test_a_clinician_sees_the_dose_the_summary_link_and_the_clinical_tasks(world, login):
    html = page_as(login, world.users[Role.CLINICIAN], world)

    assert "mg/kg" in html
    assert reverse("review:summary", args=[world.plan.intake.public_id]) in html
    assert reverse("intake:insurance_card", args=[world.plan.intake.public_id]) in html
    assert "Series over" in html and "Unclear reply by text" not in html
    assert BODY not in html
    assert 'name="text"' not in html  # notes are the desk's to write


def test_a_nurse_of_the_patients_location_sees_the_page_without_summary_or_card(world, login):
    html = page_as(login, world.users[Role.NURSE], world)

    assert "Avery Testperson" in html and "mg/kg" in html  # as on the chart she prints
    assert reverse("review:summary", args=[world.plan.intake.public_id]) not in html
    assert reverse("intake:insurance_card", args=[world.plan.intake.public_id]) not in html
    assert "Unclear reply by text" not in html and "Series over" not in html
    assert BODY not in html


def test_a_nurse_of_another_location_finds_nothing(world, login):
    elsewhere = make_location("greenwich", nurses=1)
    nurse = elsewhere.staff.get(role=Role.NURSE)

    assert login(nurse).get(url(world)).status_code == 404


def test_patients_are_refused_and_a_staff_members_id_is_not_a_patient(world, login):
    assert login(world.plan.patient).get(url(world)).status_code == 403
    assert login(world.users["other"]).get(url(world)).status_code == 403
    desk = login(world.users[Role.FRONT_DESK])
    staff_page = reverse("scheduling:patient", args=[world.users[Role.NURSE].public_id])
    assert desk.get(staff_page).status_code == 404


def test_reading_the_page_is_audited(world, login):
    page_as(login, world.users[Role.FRONT_DESK], world)

    event = AuditEvent.objects.get(record_type="patient")
    assert event.action == "read"
    assert event.patient_id == world.plan.patient.pk
    assert event.actor_id == world.users[Role.FRONT_DESK].pk
    assert event.record_id == str(world.plan.patient.public_id)


def test_the_desk_adds_a_note_listed_newest_first_and_audited(world, login):
    desk = login(world.users[Role.FRONT_DESK])
    desk.post(url(world), {"text": "Prefers mornings."})
    response = desk.post(url(world), {"text": "Called about parking."})

    assert response.status_code == 302 and response["Location"] == url(world)
    notes = list(PatientNote.objects.filter(patient=world.plan.patient).order_by("-created_at"))
    assert [n.text for n in notes] == ["Called about parking.", "Prefers mornings."]
    assert notes[0].author == world.users[Role.FRONT_DESK]
    created = AuditEvent.objects.filter(action="create", record_type="patient_note")
    assert created.count() == 2 and created[0].patient_id == world.plan.patient.pk
    html = desk.get(url(world)).content.decode()
    assert html.index("Called about parking.") < html.index("Prefers mornings.")


def test_an_empty_note_is_refused_and_nothing_is_written(world, login):
    response = login(world.users[Role.FRONT_DESK]).post(url(world), {"text": "  "})

    assert response.status_code == 200
    assert "Write the note" in response.content.decode()
    assert not PatientNote.objects.exists()


def test_clinicians_and_nurses_cannot_write_desk_notes(world, login):
    for role in (Role.CLINICIAN, Role.NURSE):
        assert login(world.users[role]).post(url(world), {"text": "x"}).status_code == 403
    assert not PatientNote.objects.exists()


def test_search_results_the_series_page_and_worklist_rows_link_to_the_patient_page(world, login):
    desk = login(world.users[Role.FRONT_DESK])
    found = desk.post(reverse("scheduling:search"), {"q": "Testperson"}).content.decode()
    series = desk.get(reverse("scheduling:series", args=[world.series.public_id]))
    open_task(Cause.MESSAGE_FAILED, f"session:{world.session.pk}", subject="z")
    tasks = desk.get(reverse("scheduling:desk_tasks")).content.decode()
    clinician = login(world.users[Role.CLINICIAN])
    clinical = clinician.get(reverse("scheduling:review_tasks")).content.decode()

    assert url(world) in found
    assert url(world) in series.content.decode()
    # The patient:<pk> task and the session:<pk> task both name the patient.
    assert tasks.count(url(world)) == 2
    assert url(world) in clinical  # a series:<pk> task


def _count(client, address):
    with STEADY, CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_with_one_or_many_sessions(login):
    today = dt.date.today()
    monday = today + dt.timedelta(days=14 - today.weekday())
    clinic = make_location("stamford", chairs=3, nurses=2, shifts_from=today, shift_days=30)
    desk_user = UserFactory.create(role=Role.FRONT_DESK)
    desk = login(desk_user)

    def patient_with(sessions: int, at: dt.time) -> str:
        plan = approved_plan(
            f"p{sessions}@example.org", clinic, infusions=sessions, min_days_between=1
        )
        days = [monday + dt.timedelta(days=d) for d in range(sessions)]
        services.book_series(
            plan, clinic, [services.Choice(day, at) for day in days], booked_by=desk_user
        )
        PatientNote.objects.create(patient=plan.patient, author=desk_user, text="A note.")
        open_task(Cause.UNCLEAR_REPLY, f"patient:{plan.patient.pk}", subject="x")
        return reverse("scheduling:patient", args=[plan.patient.public_id])

    one = _count(desk, patient_with(1, dt.time(9)))
    many = _count(desk, patient_with(5, dt.time(13)))

    assert Message.objects.count() > 6
    assert one == many
