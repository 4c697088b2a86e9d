"""The staff worklist (docs/roles/front-desk.md#the-staff-worklist): one idempotent way in
(`open_task`), the front desk's and the clinicians' lists over HTTP, assign to me, done with a note,
filters and counts in the menu."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import Role
from intake.models import UrgentFlag
from notifications import services as outbox
from scheduling.models import Status
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import submitted_intake
from tests.scheduling_data import make_location
from tests.sms_world import BOOKED_AT, book

pytestmark = pytest.mark.django_db


def worklist():
    from worklist import services
    from worklist.models import Cause, Task

    return services, Cause, Task


def desk_task(about="patient:1", cause="unclear_reply", **fields):
    services, _Cause, _Task = worklist()
    return services.open_task(cause, about, subject="Casey Mock", **fields)


# --- open_task ---------------------------------------------------------------------------------


def test_open_task_keeps_one_open_task_per_cause_and_subject():
    services, Cause, Task = worklist()

    first = services.open_task(Cause.UNCLEAR_REPLY, "patient:7", detail="maybe")
    again = services.open_task(Cause.UNCLEAR_REPLY, "patient:7", detail="later?")
    other = services.open_task(Cause.RESCHEDULE_REQUEST, "patient:7")

    assert first.pk == again.pk != other.pk
    assert Task.objects.filter(status="open").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(cause=Cause.UNCLEAR_REPLY, about="patient:7", queue="desk")


def test_a_task_done_lets_the_same_cause_open_a_new_one():
    services, Cause, Task = worklist()
    user = UserFactory.create(role=Role.FRONT_DESK)
    first = services.open_task(Cause.UNCLEAR_REPLY, "patient:8")
    services.close_task(first, user, "called back")

    second = services.open_task(Cause.UNCLEAR_REPLY, "patient:8")

    assert second.pk != first.pk
    assert Task.objects.filter(about="patient:8").count() == 2


# --- Pages -------------------------------------------------------------------------------------


def test_the_desk_and_the_clinicians_each_see_their_own_tasks(login):
    services, Cause, _Task = worklist()
    services.open_task(Cause.UNCLEAR_REPLY, "patient:1", subject="Desk thing")
    services.open_task(Cause.SERIES_ENDED, "series:1", subject="Clinical thing")

    desk = login(UserFactory.create(role=Role.FRONT_DESK)).get("/desk/tasks/")
    clinical = login(UserFactory.create(role=Role.CLINICIAN)).get("/review/tasks/")

    assert desk.status_code == clinical.status_code == 200
    assert "Desk thing" in desk.content.decode() and "Clinical thing" not in desk.content.decode()
    assert "Clinical thing" in clinical.content.decode()
    assert "Desk thing" not in clinical.content.decode()


def test_assign_to_me_then_done_with_a_note(login):
    _services, _Cause, Task = worklist()
    task = desk_task()
    user = UserFactory.create(role=Role.FRONT_DESK)
    client = login(user)

    assigned = client.post(f"/desk/tasks/{task.public_id}/assign/")
    assert assigned.status_code == 302
    task.refresh_from_db()
    assert task.assigned_to == user

    refused = client.post(f"/desk/tasks/{task.public_id}/done/", {"note": "  "})
    assert refused.status_code == 200
    assert Task.objects.get(pk=task.pk).status == "open"

    done = client.post(f"/desk/tasks/{task.public_id}/done/", {"note": "Called; she is coming."})
    assert done.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.note, task.closed_by) == ("done", "Called; she is coming.", user)
    assert "Casey Mock" not in client.get("/desk/tasks/").content.decode()


def test_a_clinician_cannot_touch_a_desk_task_nor_the_desk_a_clinical_one(login):
    services, Cause, _Task = worklist()
    desk = desk_task()
    clinical = services.open_task(Cause.SERIES_ENDED, "series:3")

    clinician = login(UserFactory.create(role=Role.CLINICIAN))
    front = login(UserFactory.create(role=Role.FRONT_DESK))

    assert clinician.post(f"/desk/tasks/{desk.public_id}/assign/").status_code == 403
    assert clinician.post(f"/review/tasks/{desk.public_id}/assign/").status_code == 404
    assert front.post(f"/review/tasks/{clinical.public_id}/done/", {"note": "x"}).status_code == 403
    assert front.post(f"/desk/tasks/{clinical.public_id}/done/", {"note": "x"}).status_code == 404


def test_the_lists_filter_by_location_and_kind(login):
    services, Cause, _Task = worklist()
    north = LocationFactory.create(slug="north", name="North")
    south = LocationFactory.create(slug="south", name="South")
    services.open_task(Cause.UNCLEAR_REPLY, "a", subject="North reply", location_pk=north.pk)
    services.open_task(Cause.UNDELIVERED_TEXT, "b", subject="South text", location_pk=south.pk)
    services.open_task(Cause.UNCLEAR_REPLY, "c", subject="South reply", location_pk=south.pk)
    client = login(UserFactory.create(role=Role.FRONT_DESK))

    by_location = client.get("/desk/tasks/", {"location": south.pk}).content.decode()
    by_kind = client.get("/desk/tasks/", {"kind": "unclear_reply"}).content.decode()
    both = client.get(
        "/desk/tasks/", {"location": south.pk, "kind": "unclear_reply"}
    ).content.decode()

    assert "South text" in by_location and "South reply" in by_location
    assert "North reply" not in by_location
    assert "North reply" in by_kind and "South reply" in by_kind and "South text" not in by_kind
    assert "South reply" in both and "North reply" not in both and "South text" not in both


def test_the_navigation_counts_the_open_tasks_of_the_role(login):
    services, Cause, _Task = worklist()
    for about in ["x", "y", "z"]:
        services.open_task(Cause.UNCLEAR_REPLY, about)
    services.open_task(Cause.SERIES_ENDED, "series:9")

    desk_page = login(UserFactory.create(role=Role.FRONT_DESK)).get("/desk/").content.decode()
    clinician_page = login(UserFactory.create(role=Role.CLINICIAN)).get("/review/").content.decode()
    patient_page = login(UserFactory.create(role=Role.PATIENT)).get("/sessions/").content.decode()

    assert re.search(r'href="/desk/tasks/"[^>]*>\s*Tasks\s*<span[^>]*>3<', desk_page)
    assert re.search(r'href="/review/tasks/"[^>]*>\s*Tasks\s*<span[^>]*>1<', clinician_page)
    assert "/tasks/" not in patient_page


def test_task_addresses_carry_opaque_ids_only(login):
    task = desk_task(about="patient:12345")
    page = login(UserFactory.create(role=Role.FRONT_DESK)).get("/desk/tasks/").content.decode()

    addresses = [a for a in re.findall(r'(?:action|href)="([^"]+)"', page) if "/tasks/" in a]
    assert len(addresses) >= 3  # the menu, assign, done
    for address in addresses:
        assert address == "/desk/tasks/" or address.startswith(f"/desk/tasks/{task.public_id}/")
        assert "12345" not in address and "Casey" not in address


# --- What opens tasks --------------------------------------------------------------------------


def test_an_urgent_flag_opens_a_clinician_task_and_closing_it_does_not_acknowledge_the_flag(
    login,
):
    from tests.intake_data import fill_intake

    _services, _Cause, Task = worklist()
    LocationFactory.create(slug="stamford", name="Stamford")
    patient = UserFactory.create(role=Role.PATIENT)
    intake = fill_intake(patient, changes={"mood": {"phq9_9": "2"}})
    from intake import services as intake_services

    intake_services.submit(intake)
    flag = UrgentFlag.objects.get(intake=intake)
    task = Task.objects.get(cause="urgent_flag")
    assert task.queue == "clinical" and task.urgent
    assert str(intake.public_id) in task.link

    clinician = login(UserFactory.create(role=Role.CLINICIAN))
    page = clinician.get("/review/tasks/").content.decode()
    assert "does not acknowledge" in page
    done = clinician.post(f"/review/tasks/{task.public_id}/done/", {"note": "Phoned the patient"})

    assert done.status_code == 302
    task.refresh_from_db()
    flag.refresh_from_db()
    assert task.status == "done"
    assert flag.acknowledged_at is None and flag.note == ""


def test_a_message_that_failed_opens_a_desk_task(settings):
    settings.SMS_BACKEND = "tests.sms_backends.FlakySmsBackend"
    _services, _Cause, Task = worklist()
    message = outbox.enqueue(
        channel="sms",
        kind="notice",
        group="session:999999",
        recipient="+18885550100",
        send_at=dt.datetime.now(dt.UTC),
        body_text="x",
    )
    outbox.claim_due()
    assert outbox.send(message.pk) == "failed"

    (task,) = Task.objects.filter(cause="message_failed")
    assert task.queue == "desk"
    assert "number cannot receive texts" in task.detail


def test_a_series_past_its_last_session_with_nothing_booked_next_opens_one_clinician_task(
    settings,
):
    from messaging.tasks import open_follow_up_tasks

    _services, _Cause, Task = worklist()
    settings.SMS_BACKEND = "notifications.backends.FileSmsBackend"
    location = make_location(shifts_from=dt.date(2027, 3, 1))
    ended = book(location, "ended@example.org", "+12035550155")
    ongoing = book(location, "ongoing@example.org", "+12035550166", days=(1, 6))
    for session in ended.series.sessions.all():
        session.status = Status.COMPLETED
        session.save()
    ongoing.series.sessions.filter(number=1).update(status=Status.COMPLETED)

    with time_machine.travel(dt.datetime(2027, 3, 14, 12, tzinfo=dt.UTC), tick=False):
        open_follow_up_tasks()
        open_follow_up_tasks()
    (task,) = Task.objects.filter(cause="series_ended")
    assert task.queue == "clinical"
    assert task.about == f"series:{ended.series.pk}"
    # The task links straight to booking the follow-up visit (docs/visits.md#follow-up-visits).
    assert task.link == (
        reverse("scheduling:book_visit", args=[ended.series.patient.public_id])
        + f"?kind=follow_up&series={ended.series.public_id}"
    )

    # Done once, it stays done: the series does not come back every hour.
    Task.objects.update(status="done", note="Follow-up booked", closed_at=BOOKED_AT)
    with time_machine.travel(dt.datetime(2027, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        open_follow_up_tasks()
    assert Task.objects.filter(cause="series_ended").count() == 1
    assert "scheduling.tasks.open_follow_up_tasks" in [
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    ]


def test_a_new_plan_after_the_series_means_no_follow_up_task(settings):
    from messaging.tasks import open_follow_up_tasks

    _services, _Cause, Task = worklist()
    location = make_location(shifts_from=dt.date(2027, 3, 1))
    ended = book(location, "replanned@example.org", "+12035550177")
    ended.series.sessions.update(status=Status.COMPLETED)
    with time_machine.travel(dt.datetime(2027, 3, 13, tzinfo=dt.UTC), tick=False):
        # The clinician approved a new plan for the next phase.
        from review import services as review
        from review.models import ProtocolTemplate

        intake = submitted_intake(ended.patient, location_slug=location.slug)
        template = ProtocolTemplate.objects.get(is_default=True)
        review.approve(
            intake,
            UserFactory.create(role=Role.CLINICIAN),
            {field: getattr(template, field) for field in review.PLAN_FIELDS},
        )
    with time_machine.travel(dt.datetime(2027, 3, 14, 12, tzinfo=dt.UTC), tick=False):
        open_follow_up_tasks()

    assert Task.objects.filter(cause="series_ended").count() == 0


def test_each_list_shows_the_tasks_of_the_readers_locations_and_those_about_none(login):
    """docs/security.md#which-locations-patients-each-role-sees"""
    services, Cause, _Task = worklist()
    north = LocationFactory.create(slug="north", name="North")
    south = LocationFactory.create(slug="south", name="South")
    services.open_task(Cause.UNCLEAR_REPLY, "a", subject="North reply", location_pk=north.pk)
    there = services.open_task(
        Cause.UNCLEAR_REPLY, "b", subject="South reply", location_pk=south.pk
    )
    services.open_task(Cause.UNCLEAR_REPLY, "c", subject="Nowhere reply")
    services.open_task(Cause.URGENT_FLAG, "d", subject="South flag", location_pk=south.pk)
    desk = login(UserFactory.create(role=Role.FRONT_DESK, locations=[north]))
    clinician = login(UserFactory.create(role=Role.CLINICIAN, locations=[north]))
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN, locations=[north]))

    at_desk = desk.get("/desk/tasks/").content.decode()
    for_clinicians = clinician.get("/review/tasks/").content.decode()

    assert "North reply" in at_desk and "Nowhere reply" in at_desk
    assert "South reply" not in at_desk
    assert "South flag" not in for_clinicians
    assert "South reply" in admin.get("/desk/tasks/").content.decode()
    assert desk.post(f"/desk/tasks/{there.public_id}/assign/").status_code == 404
    there.refresh_from_db()
    assert there.assigned_to is None
