"""Visits with a clinician (docs/visits.md): clinicians' shifts, the database's rule that a patient
is never in two appointments at once whatever their kind, booking inside a shift, the video link,
the messages, the calendars' read and the signals for other apps."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import Role
from charting.rules import Vitals
from locations.models import ClinicianShift
from notifications.models import Channel, Message
from scheduling import services, signals, visits
from scheduling.models import (
    AppointmentTime,
    Session,
    Visit,
    VisitKind,
    VisitMode,
    VisitStatus,
)
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MONDAY = dt.date(2027, 3, 1)


@pytest.fixture(autouse=True)
def _late_february():
    with time_machine.travel(dt.datetime(2027, 2, 22, 15, tzinfo=UTC)):
        yield


@pytest.fixture
def location():
    return make_location(
        "stamford",
        shifts_from=MONDAY - dt.timedelta(days=7),
        shift_days=63,
        video_room_template="https://meet.example.org/clinic-{token}",
        video_opens_minutes=10,
    )


def two_days(first_hour: int, second_hour: int) -> list[services.Choice]:
    """Monday and Wednesday of the first week, at these local hours."""
    return [
        services.Choice(MONDAY, dt.time(first_hour)),
        services.Choice(MONDAY + dt.timedelta(2), dt.time(second_hour)),
    ]


def local(location, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=location.zone)


@pytest.fixture
def clinician(location):
    user = UserFactory.create(role=Role.CLINICIAN, first_name="Iris", last_name="Moss")
    user.locations.add(location)
    for offset in range(5):
        day = MONDAY + dt.timedelta(days=offset)
        ClinicianShift.objects.create(
            location=location,
            clinician=user,
            starts_at=local(location, day, 9),
            ends_at=local(location, day, 13),
        )
    return user


@pytest.fixture
def plan(location):
    return approved_plan("pat@example.org", location, infusions=2, min_days_between=2)


@pytest.fixture
def desk():
    return UserFactory.create(role=Role.FRONT_DESK)


def request_for(plan, clinician, location, start, **fields):
    values = {
        "patient": plan.patient,
        "clinician": clinician,
        "location": location,
        "kind": VisitKind.FOLLOW_UP,
        "starts_at": start,
        "minutes": 30,
    }
    values.update(fields)
    return visits.VisitRequest(**values)


def test_a_clinician_is_never_on_two_shifts_at_once(location, clinician):
    other = make_location("greenwich", nurses=0)
    with pytest.raises(IntegrityError, match="clinician_shift_no_overlap"), transaction.atomic():
        ClinicianShift.objects.create(
            location=other,
            clinician=clinician,
            starts_at=local(location, MONDAY, 12),
            ends_at=local(location, MONDAY, 15),
        )


def test_the_desk_books_a_visit_inside_the_clinicians_shift(plan, clinician, location, desk):
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )

    assert visit.status == VisitStatus.BOOKED
    assert AppointmentTime.objects.filter(visit=visit, patient=plan.patient).exists()


def test_a_visit_outside_the_clinicians_shift_is_refused_with_the_reason(
    plan, clinician, location, desk
):
    with pytest.raises(visits.VisitRefused, match="not on shift"):
        visits.book_visit(
            request_for(plan, clinician, location, local(location, MONDAY, 12, 45)),
            booked_by=desk,
        )
    assert not Visit.objects.exists()


def test_the_database_refuses_a_patient_in_a_session_and_a_visit_at_once(
    plan, clinician, location, desk
):
    series = services.book_series(
        plan,
        location,
        [
            services.Choice(MONDAY, dt.time(10)),
            services.Choice(MONDAY + dt.timedelta(2), dt.time(10)),
        ],
        booked_by=desk,
    )
    session = series.sessions.get(number=1)
    with (
        pytest.raises(IntegrityError, match="appointment_patient_no_overlap"),
        transaction.atomic(),
    ):
        Visit.objects.create(
            kind=VisitKind.FOLLOW_UP,
            patient=plan.patient,
            clinician=clinician,
            location=location,
            starts_at=session.starts_at + dt.timedelta(minutes=30),
            ends_at=session.starts_at + dt.timedelta(minutes=60),
            booked_by=desk,
        )
    # The service says why, in words.
    with pytest.raises(visits.VisitRefused, match="another appointment"):
        visits.book_visit(request_for(plan, clinician, location, session.starts_at), booked_by=desk)


def test_a_session_is_not_booked_over_the_patients_visit(plan, clinician, location, desk):
    visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    with pytest.raises(services.BookingConflict):
        services.book_series(
            plan,
            location,
            [
                services.Choice(MONDAY, dt.time(9, 40)),
                services.Choice(MONDAY + dt.timedelta(2), dt.time(10)),
            ],
            booked_by=desk,
        )


def test_the_database_refuses_a_clinician_in_two_visits_at_once(plan, clinician, location, desk):
    visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    other = approved_plan("other@example.org", location)
    with pytest.raises(visits.VisitRefused, match="clinician has another visit"):
        visits.book_visit(
            request_for(other, clinician, location, local(location, MONDAY, 10, 15)),
            booked_by=desk,
        )


def test_a_cancelled_visit_frees_the_patient_and_the_clinician(plan, clinician, location, desk):
    first = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    visits.cancel_visit(first, reason="patient called")

    again = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    assert again.pk != first.pk
    assert not AppointmentTime.objects.filter(visit=first).exists()


def test_moving_a_visit_keeps_the_shift_rule(plan, clinician, location, desk):
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    moved = visits.move_visit(visit, local(location, MONDAY + dt.timedelta(1), 11))
    assert moved.calendar_sequence == 1
    time = AppointmentTime.objects.get(visit=visit)
    assert time.starts_at == local(location, MONDAY + dt.timedelta(1), 11)
    with pytest.raises(visits.VisitRefused, match="not on shift"):
        visits.move_visit(visit, local(location, MONDAY, 16))


def test_visits_between_gives_the_calendars_what_they_draw(plan, clinician, location, desk):
    visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10), mode=VisitMode.VIDEO),
        booked_by=desk,
    )
    start, end = location.day_bounds(MONDAY)

    rows = visits.visits_between(location, start, end)

    assert [(r.clinician, r.status, r.where, r.mode) for r in rows] == [
        ("Iris Moss", VisitStatus.BOOKED, "By video", VisitMode.VIDEO)
    ]
    assert visits.visits_between(location, *location.day_bounds(MONDAY + dt.timedelta(1))) == []


def test_each_change_tells_other_apps_after_commit(plan, clinician, location, desk):
    heard: list[tuple[str, int]] = []

    def listener(name):
        def receive(sender, instance, **kwargs):
            heard.append((name, instance.pk))

        return receive

    receivers = {
        signals.visit_booked: listener("booked"),
        signals.visit_moved: listener("moved"),
        signals.visit_cancelled: listener("cancelled"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(transaction, "on_commit", lambda func, *a, **k: func())
            visit = visits.book_visit(
                request_for(plan, clinician, location, local(location, MONDAY, 10)),
                booked_by=desk,
            )
            visits.move_visit(visit, local(location, MONDAY, 11))
            visits.cancel_visit(visit)
    finally:
        for signal, receiver in receivers.items():
            signal.disconnect(receiver)
    assert heard == [("booked", visit.pk), ("moved", visit.pk), ("cancelled", visit.pk)]


def test_the_video_link_goes_by_email_never_by_text(plan, clinician, location, desk):
    profile = plan.patient.patient_profile
    profile.mobile_phone = "+12035550123"
    profile.sms_reminders = True
    profile.sms_consent_at = dt.datetime(2027, 1, 1, tzinfo=UTC)
    profile.save()
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10), mode=VisitMode.VIDEO),
        booked_by=desk,
    )
    from messaging import visit_messages

    rows = Message.objects.filter(group=f"visit:{visit.pk}")
    assert {(m.kind, m.channel) for m in rows} == {
        ("visit_booked", Channel.EMAIL),
        ("visit_booked", Channel.SMS),
        ("visit_reminder", Channel.EMAIL),
        ("visit_reminder", Channel.SMS),
    }
    email = visit_messages.resolve(rows.get(kind="visit_booked", channel=Channel.EMAIL))
    text = visit_messages.resolve(rows.get(kind="visit_reminder", channel=Channel.SMS))
    assert visit.video_url() in email.body_text
    assert "10 minutes before" in email.body_text
    assert visit.video_token not in text.body_text
    assert "meet.example.org" not in text.body_text
    assert "Reply C" in text.body_text


def test_each_visit_has_its_own_unguessable_room(plan, clinician, location, desk):
    one = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10), mode=VisitMode.VIDEO),
        booked_by=desk,
    )
    two = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 11), mode=VisitMode.VIDEO),
        booked_by=desk,
    )
    assert one.video_url() != two.video_url()
    assert len(one.video_token) >= 20
    assert one.video_url().startswith("https://meet.example.org/clinic-")


def test_a_video_visit_needs_a_location_with_a_provider(plan, clinician, location, desk):
    location.video_room_template = ""
    location.save()
    with pytest.raises(visits.VisitRefused, match="video"):
        visits.book_visit(
            request_for(
                plan, clinician, location, local(location, MONDAY, 10), mode=VisitMode.VIDEO
            ),
            booked_by=desk,
        )


def test_the_patient_sees_when_the_video_link_opens_and_then_the_link(
    plan, clinician, location, desk, login
):
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10), mode=VisitMode.VIDEO),
        booked_by=desk,
    )
    client = login(plan.patient)
    url = reverse("scheduling:my_visit", args=[visit.public_id])

    page = client.get(url).content.decode()
    assert visit.video_token not in page
    assert "9:50" in page  # opens 10 minutes before, in the location's time

    with time_machine.travel(local(location, MONDAY, 9, 52)):
        page = login(plan.patient).get(url).content.decode()
    assert visit.video_url() in page


def test_free_slots_skip_the_patients_session_and_the_clinicians_visits(
    plan, clinician, location, desk
):
    services.book_series(
        plan,
        location,
        [
            services.Choice(MONDAY, dt.time(9)),
            services.Choice(MONDAY + dt.timedelta(2), dt.time(10)),
        ],
        booked_by=desk,
    )
    other = approved_plan("other@example.org", location)
    visits.book_visit(
        request_for(other, clinician, location, local(location, MONDAY, 12)), booked_by=desk
    )

    slots = visits.free_slots(location, plan.patient, MONDAY, MONDAY, minutes=30)

    starts = [slot.starts_at.astimezone(location.zone).time() for slot in slots]
    assert dt.time(9) not in starts  # the infusion
    assert dt.time(12) not in starts and dt.time(11, 45) not in starts  # the other visit
    assert dt.time(12, 30) in starts
    assert all(slot.clinician_id == clinician.pk for slot in slots)


# Evaluation and approval (docs/visits.md#evaluation-and-approval) -----------------------------


def _approve_post(client, intake):
    from review import services as review
    from review.models import ProtocolTemplate

    template = ProtocolTemplate.objects.get(is_default=True)
    data = {field: getattr(template, field) or "" for field in review.PLAN_FIELDS}
    data.update(template=template.pk, infusions=4, patient_message="Welcome.")
    return client.post(
        reverse("review:approve", args=[intake.public_id]),
        {f"plan-{key}": value for key, value in data.items()},
        follow=True,
    )


def test_approval_is_refused_with_the_reason_until_the_evaluation_is_held(
    location, clinician, desk, login
):
    from review.models import TreatmentPlan
    from tests.intake_data import submitted_intake

    location.evaluation_required = True
    location.save()
    patient = UserFactory.create(role=Role.PATIENT, email="new@example.org")
    intake = submitted_intake(patient, location_slug=location.slug)
    client = login(clinician)

    summary = client.get(reverse("review:summary", args=[intake.public_id])).content.decode()
    assert "Evaluation visit: <strong>Not booked</strong>" in summary
    assert "requires one held before approval" in summary
    refused = _approve_post(client, intake).content.decode()
    assert "requires an evaluation visit before approval" in refused
    assert "none is booked" in refused
    assert not TreatmentPlan.objects.filter(patient=patient).exists()

    visit = visits.book_visit(
        visits.VisitRequest(
            patient=patient,
            clinician=clinician,
            location=location,
            kind=VisitKind.EVALUATION,
            starts_at=local(location, MONDAY, 10),
            minutes=45,
        ),
        booked_by=patient,
    )
    queue = client.get(reverse("review:queue")).content.decode()
    assert 'data-testid="evaluation">Booked<' in queue
    assert "booked but not yet held" in _approve_post(client, intake).content.decode()

    visits.set_outcome(visit, VisitStatus.HELD)
    queue = client.get(reverse("review:queue")).content.decode()
    assert 'data-testid="evaluation">Held<' in queue
    _approve_post(client, intake)
    assert TreatmentPlan.objects.filter(patient=patient).exists()


def test_without_the_setting_approval_needs_no_evaluation(location, clinician, login):
    from review.models import TreatmentPlan
    from tests.intake_data import submitted_intake

    patient = UserFactory.create(role=Role.PATIENT, email="new@example.org")
    intake = submitted_intake(patient, location_slug=location.slug)
    _approve_post(login(clinician), intake)
    assert TreatmentPlan.objects.filter(patient=patient).exists()


# Pages -----------------------------------------------------------------------------------------


def test_the_desk_books_a_visit_from_a_free_slot_and_the_patient_page_shows_one_timeline(
    plan, clinician, location, desk, login
):
    services.book_series(
        plan,
        location,
        [
            services.Choice(MONDAY, dt.time(9)),
            services.Choice(MONDAY + dt.timedelta(2), dt.time(9)),
        ],
        booked_by=desk,
    )
    client = login(desk)
    url = reverse("scheduling:book_visit", args=[plan.patient.public_id])
    page = client.get(url).content.decode()
    assert 'data-testid="visit-slots"' in page

    response = client.post(
        url,
        {
            "kind": VisitKind.FOLLOW_UP,
            "location": location.pk,
            "clinician": clinician.pk,
            "day": (MONDAY + dt.timedelta(1)).isoformat(),
            "time": "11:00",
            "minutes": 30,
            "mode": VisitMode.ROOM,
            "room": "Room 2",
        },
    )
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert (visit.room, visit.clinician, visit.booked_by) == ("Room 2", clinician, desk)

    timeline = client.get(reverse("scheduling:patient", args=[plan.patient.public_id]))
    text = timeline.content.decode()
    assert (
        text.index("Infusion 1") < text.index("Follow-up visit (Room 2)") < text.index("Infusion 2")
    )


def test_the_desk_form_refuses_a_time_outside_the_shift_with_the_reason(
    plan, clinician, location, desk, login
):
    response = login(desk).post(
        reverse("scheduling:book_visit", args=[plan.patient.public_id]),
        {
            "kind": VisitKind.FOLLOW_UP,
            "location": location.pk,
            "clinician": clinician.pk,
            "day": MONDAY.isoformat(),
            "time": "15:00",
            "minutes": 30,
            "mode": VisitMode.ROOM,
        },
    )
    assert response.status_code == 200
    assert "not on shift" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_patient_books_their_own_visit_where_the_location_allows_it(
    plan, clinician, location, login
):
    profile = plan.patient.patient_profile
    profile.preferred_location = location
    profile.save()
    client = login(plan.patient)
    url = reverse("scheduling:self_book_visit")
    assert "books visits by phone" in client.get(url).content.decode()

    location.visits_self_booking = True
    location.save()
    page = client.get(url).content.decode()
    assert 'data-testid="visit-slots"' in page
    start = local(location, MONDAY, 9, 30)
    response = client.post(url, {"clinician": clinician.pk, "starts_at": start.isoformat()})
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert (visit.booked_by, visit.kind, visit.starts_at) == (
        plan.patient,
        VisitKind.FOLLOW_UP,
        start,
    )


def test_a_patient_is_refused_a_taken_time_in_their_language(plan, clinician, location, login):
    from django.utils import translation

    profile = plan.patient.patient_profile
    profile.preferred_location = location
    profile.preferred_language = "es"
    profile.save()
    location.visits_self_booking = True
    location.save()
    client = login(plan.patient)
    client.cookies["django_language"] = "es"
    start = local(location, MONDAY, 16)  # outside every shift
    with translation.override("es"):
        response = client.post(
            reverse("scheduling:self_book_visit"),
            {"clinician": clinician.pk, "starts_at": start.isoformat()},
            HTTP_ACCEPT_LANGUAGE="es",
        )
    assert response.status_code == 200
    assert "no está de turno" in response.content.decode()
    assert not Visit.objects.exists()


# The visit note and plan revisions (docs/visits.md#the-visit-note, #plan-revisions) ----------


def test_the_clinician_signs_a_note_that_the_database_then_keeps_as_signed(
    plan, clinician, location, desk, login
):
    from charting.models import VisitNote

    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    client = login(clinician)
    url = reverse("outcomes:visit_note", args=[visit.public_id])
    assert "Response so far" in client.get(url).content.decode()

    client.post(
        url,
        {"action": "sign", "findings": "Pain down by half.", "decision": "revise"},
    )
    note = VisitNote.objects.get(visit=visit)
    visit.refresh_from_db()
    assert note.is_signed and visit.status == VisitStatus.HELD
    with pytest.raises(Exception, match="signed"), transaction.atomic():
        VisitNote.objects.filter(pk=note.pk).update(findings="changed")
    client.post(url, {"action": "addendum", "reason": "Typo", "text": "Pain down by 40%."})
    assert note.addenda.get().text == "Pain down by 40%."
    page = client.get(url).content.decode()
    assert "Pain down by half." in page and "Pain down by 40%." in page


def test_a_revision_is_a_new_version_with_its_author_and_reason_and_the_old_one_is_kept(
    plan, clinician, location, desk, login
):
    from audit.models import AuditEvent
    from review.models import TreatmentPlan

    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    values = {
        "infusions": 2,
        "min_days_between": 7,
        "max_days_between": 14,
        "span_days": 28,
        "dose_mg_per_kg": "0.40",
        "dose_cap_mg": "",
        "infusion_minutes": 40,
        "booster_every_weeks": 6,
        "booster_count": 2,
        "booster_until": "",
        "reason": "Good response; a lower dose with boosters.",
        "action": "revise",
    }
    login(clinician).post(reverse("outcomes:visit_note", args=[visit.public_id]), values)

    old = TreatmentPlan.objects.get(pk=plan.pk)
    new = TreatmentPlan.objects.get(patient=plan.patient, status="active")
    assert old.status == TreatmentPlan.Status.REVISED and str(old.dose_mg_per_kg) == "0.50"
    assert (new.version, new.revises, new.root, new.approved_by) == (2, old, old, clinician)
    assert (str(new.dose_mg_per_kg), new.booster_every_weeks, new.booster_count) == (
        "0.40",
        6,
        2,
    )
    assert new.revision_reason.startswith("Good response")
    assert old.in_force() == new
    assert AuditEvent.objects.filter(action="revise", record_id=new.public_id).exists()


def test_a_revision_that_breaks_the_plans_rules_is_refused_with_the_reason(
    plan, clinician, location, desk, login
):
    from review import services as review
    from review.models import TreatmentPlan

    for values, words in [
        ({"min_days_between": 9, "max_days_between": 3}, "maximum at least the minimum"),
        ({"booster_every_weeks": 2, "booster_count": 2}, "every 4 to 12 weeks"),
        ({"booster_every_weeks": 6}, "either a number or an end date"),
        ({"infusions": 6, "min_days_between": 7, "span_days": 14}, "need at least 35 days"),
    ]:
        with pytest.raises(review.RevisionRefused, match=words):
            review.revise_plan(plan, clinician, values, reason="x")
    with pytest.raises(review.RevisionRefused, match="why"):
        review.revise_plan(plan, clinician, {}, reason=" ")
    assert TreatmentPlan.objects.get(pk=plan.pk).status == TreatmentPlan.Status.ACTIVE


def test_booked_sessions_keep_their_dose_until_the_check_in_reads_the_revision(
    plan, clinician, location, desk
):
    from decimal import Decimal

    from charting import services as charting
    from review import services as review

    series = services.book_series(
        plan,
        location,
        [
            services.Choice(MONDAY, dt.time(10)),
            services.Choice(MONDAY + dt.timedelta(2), dt.time(10)),
        ],
        booked_by=desk,
    )
    review.revise_plan(plan, clinician, {"dose_mg_per_kg": Decimal("0.30")}, reason="Side effects")
    session = Session.objects.select_related("series__plan").get(series=series, number=1)
    assert session.series.plan.dose_mg_per_kg == Decimal("0.50")  # as booked
    nurse = session.nurse
    with time_machine.travel(session.starts_at, tick=False):
        record = charting.check_in(
            session,
            nurse,
            escort_name="Sam",
            escort_phone="+12035550100",
            weight_kg=Decimal("80"),
            pain_before=6,
            pregnancy_possible=False,
            vitals=Vitals(120, 80, 70, 98, 14),
        )
    assert (record.dose_mg_per_kg, record.dose_mg) == (Decimal("0.30"), Decimal("24.0"))


# Boosters (docs/visits.md#boosters) ------------------------------------------------------------


@pytest.fixture
def boosted(plan, clinician, location, desk):
    """A series of two infusions completed on 1 and 3 March, then a revision with two boosters
    every 6 weeks: the first due 14 April, bookable from 7 April."""
    from review import services as review
    from review.models import TreatmentPlan

    series = services.book_series(
        plan,
        location,
        [
            services.Choice(MONDAY, dt.time(10)),
            services.Choice(MONDAY + dt.timedelta(2), dt.time(10)),
        ],
        booked_by=desk,
    )
    series.sessions.update(status="completed")
    revised = review.revise_plan(
        TreatmentPlan.objects.get(pk=plan.pk),
        clinician,
        {"booster_every_weeks": 6, "booster_count": 2},
        reason="Boosters",
    )
    return revised


def test_the_desk_sees_due_and_overdue_boosters(boosted, location, desk, login):
    url = reverse("scheduling:boosters", args=[location.slug])
    with time_machine.travel(dt.datetime(2027, 4, 5, 15, tzinfo=UTC)):
        page = login(desk).get(url).content.decode()
    assert "Wed 14 Apr 2027" in page and ">Due<" in page
    with time_machine.travel(dt.datetime(2027, 4, 20, 15, tzinfo=UTC)):
        page = login(desk).get(url).content.decode()
    assert "<strong>Overdue</strong>" in page


def test_a_booster_too_close_to_the_last_infusion_is_refused_with_the_reason(
    boosted, location, desk
):
    from scheduling import boosters

    with (
        time_machine.travel(dt.datetime(2027, 3, 20, 15, tzinfo=UTC)),
        pytest.raises(boosters.BoosterRefused, match="earliest it can be booked is 2027-04-07"),
    ):
        boosters.book_booster(
            boosted, location, services.Choice(dt.date(2027, 4, 5), dt.time(10)), booked_by=desk
        )


def test_the_planner_books_a_booster_under_the_same_rules(boosted, location, desk):
    from locations.models import Closure
    from scheduling import boosters

    Closure.objects.create(
        location=location, starts_on=dt.date(2027, 4, 7), ends_on=dt.date(2027, 4, 8), reason="x"
    )
    heard = []
    receiver = lambda sender, instance, **kw: heard.append(instance.pk)  # noqa: E731
    signals.booster_booked.connect(receiver)
    try:
        with (
            time_machine.travel(dt.datetime(2027, 4, 1, 15, tzinfo=UTC)),
            pytest.MonkeyPatch.context() as patch,
        ):
            patch.setattr(transaction, "on_commit", lambda func, *a, **k: func())
            proposal = boosters.propose(boosted, location, dt.date(2027, 4, 7))
            slot = proposal.sessions[0].slot
            assert slot.date == dt.date(2027, 4, 9)  # the closed days skipped
            with pytest.raises(services.BookingConflict):
                boosters.book_booster(
                    boosted,
                    location,
                    services.Choice(dt.date(2027, 4, 7), dt.time(10)),
                    booked_by=desk,
                )
            series = boosters.book_booster(
                boosted, location, services.Choice(slot.date, slot.local_time), booked_by=desk
            )
    finally:
        signals.booster_booked.disconnect(receiver)
    assert series.is_booster and series.sessions.count() == 1
    assert heard == [series.sessions.get().pk]


def test_a_due_booster_is_told_once_by_email_and_text_with_the_link_to_book(
    boosted, location, login
):
    from messaging import booster_messages

    location.self_booking = True
    location.save()
    profile = boosted.patient.patient_profile
    profile.mobile_phone = "+12035550123"
    profile.sms_reminders = True
    profile.sms_consent_at = dt.datetime(2027, 1, 1, tzinfo=UTC)
    profile.save()
    with time_machine.travel(dt.datetime(2027, 4, 6, 15, tzinfo=UTC)):
        assert booster_messages.remind_due_boosters() == 0  # not bookable yet
    with time_machine.travel(dt.datetime(2027, 4, 7, 15, tzinfo=UTC)):
        assert booster_messages.remind_due_boosters() == 2
        assert booster_messages.remind_due_boosters() == 0
        rows = Message.objects.filter(kind="booster_due")
        text = booster_messages.resolve(rows.get(channel=Channel.SMS))
        email = booster_messages.resolve(rows.get(channel=Channel.EMAIL))
    link = reverse("scheduling:self_book_booster")
    assert link in text.body_text and link in email.body_text
    assert "14 April" in email.body_text

    # The patient books it online from the link.
    with time_machine.travel(dt.datetime(2027, 4, 7, 15, tzinfo=UTC)):
        client = login(boosted.patient)
        page = client.get(link).content.decode()
        assert 'data-testid="book-proposed"' in page
        response = client.post(link, {"day": "2027-04-08", "time": "10:00"})
    assert response.status_code == 302
    from scheduling.models import Series

    booster = Series.objects.get(is_booster=True)
    assert booster.booked_by == boosted.patient


def test_the_roster_shows_clinicians_and_refuses_an_overlapping_shift(location, clinician, login):
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    url = reverse("scheduling:roster", args=[location.slug]) + f"?week={MONDAY.isoformat()}"
    page = admin.get(url).content.decode()
    assert 'data-testid="clinician-roster"' in page and "09:00–13:00" in page

    add = reverse("scheduling:roster_clinicians", args=[location.slug])
    refused = admin.post(
        add,
        {
            "clinician-clinician": clinician.pk,
            "clinician-day": MONDAY.isoformat(),
            "clinician-starts": "12:00",
            "clinician-ends": "16:00",
        },
        follow=True,
    ).content.decode()
    assert "already on another shift" in refused
    admin.post(
        add,
        {
            "clinician-clinician": clinician.pk,
            "clinician-day": MONDAY.isoformat(),
            "clinician-starts": "14:00",
            "clinician-ends": "16:00",
        },
    )
    assert ClinicianShift.objects.filter(clinician=clinician).count() == 6
    shift = ClinicianShift.objects.get(starts_at=local(location, MONDAY, 14))
    admin.post(add, {"delete": shift.pk, "week": MONDAY.isoformat()})
    assert not ClinicianShift.objects.filter(pk=shift.pk).exists()


def test_fhir_appointments_include_visits_with_the_clinician_as_a_participant(
    plan, clinician, location, desk
):
    from django.test import Client

    from fhir import services as fhir_services

    services.book_series(plan, location, two_days(10, 10), booked_by=desk)
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY + dt.timedelta(1), 10)),
        booked_by=desk,
    )
    _client, token = fhir_services.create_client("EHR", ["system/*.read"], desk)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    bundle = api.get("/fhir/Appointment", {"patient": str(plan.patient.public_id)}).json()
    found = [entry["resource"] for entry in bundle["entry"]]
    assert bundle["total"] == 3
    assert [r["id"] for r in found][1] == str(visit.public_id)  # in time order
    participant = found[1]["participant"][1]
    assert participant["actor"]["type"] == "Practitioner"
    assert participant["actor"]["identifier"]["value"] == str(clinician.public_id)
    assert participant["actor"]["display"] == "Iris Moss"
    one = api.get(f"/fhir/Appointment/{visit.public_id}").json()
    assert one["serviceType"][0]["text"].startswith("Follow-up")
    assert visit.video_token not in str(one)


def test_the_dashboard_counts_missed_visits(plan, clinician, location, desk, login):
    from outcomes import reports

    one = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    other = approved_plan("other@example.org", location)
    visits.book_visit(
        request_for(other, clinician, location, local(location, MONDAY, 11)), booked_by=desk
    )
    visits.set_outcome(one, VisitStatus.NO_SHOW)

    figures = reports.dashboard(location, MONDAY)

    assert (figures.visit_no_shows, figures.visits_scheduled) == (1, 2)
    assert figures.visit_no_show_rate == 0.5
    assert ("visit_no_shows", 1) in figures.rows()


def test_a_text_reply_c_confirms_the_visit_of_the_latest_reminder_and_r_asks_the_desk(
    plan, clinician, location, desk
):
    from messaging import replies
    from notifications.models import InboundText, MessageStatus
    from worklist.models import Task

    number = "+12035550123"
    profile = plan.patient.patient_profile
    profile.mobile_phone = number
    profile.sms_reminders = True
    profile.sms_consent_at = dt.datetime(2027, 1, 1, tzinfo=UTC)
    profile.save()
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    Message.objects.filter(
        group=f"visit:{visit.pk}", kind="visit_reminder", channel=Channel.SMS
    ).update(status=MessageStatus.SENT, recipient=number, sent_at=dt.datetime.now(UTC))

    answer = replies.handle(InboundText(sender=number, body="C"))
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CONFIRMED
    assert "is confirmed" in answer.reply

    answer = replies.handle(InboundText(sender=number, body="R"))
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CONFIRMED  # nothing cancelled
    task = Task.objects.get(about=f"visit:{visit.pk}")
    assert task.link == reverse("scheduling:visit", args=[visit.public_id])
    assert "will call you" in answer.reply

    replies.handle(InboundText(sender=number, body="STOP"))
    assert not Message.objects.filter(
        group=f"visit:{visit.pk}", channel=Channel.SMS, status="pending"
    ).exists()


def test_the_desks_calendar_lists_a_visit_and_its_version_changes_when_one_is_booked(
    plan, clinician, location, desk, login
):
    client = login(desk)  # the desk passes its second factor like any staff sign-in
    version_url = reverse("scheduling:day_version", args=[location.slug, MONDAY.isoformat()])
    before = client.get(version_url).json()["version"]

    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )

    assert client.get(version_url).json()["version"] != before
    page = client.get(reverse("scheduling:day", args=[location.slug, MONDAY.isoformat()]))
    text = page.content.decode()
    assert "Other appointments" in text
    assert reverse("scheduling:visit", args=[visit.public_id]) in text
    assert "Iris Moss" in text
    week = client.get(reverse("scheduling:week", args=[location.slug, MONDAY.isoformat()]))
    assert reverse("scheduling:visit", args=[visit.public_id]) in week.content.decode()


# Good Faith Estimates of visits and boosters (docs/paperwork.md#visits-and-boosters) ----------


def _priced_with_identities(location, *clinicians) -> None:
    from billing import demo
    from paperwork.models import ClinicIdentity, ProviderIdentity
    from tests.paperwork_data import CLINIC_NPI, CLINIC_TIN, npi

    demo.load(location)
    ClinicIdentity.objects.update_or_create(
        pk=1,
        defaults={"legal_name": "Clearwater LLC", "npi": CLINIC_NPI, "tin": CLINIC_TIN},
    )
    for number, clinician in enumerate(clinicians):
        ProviderIdentity.objects.get_or_create(
            user=clinician, defaults={"npi": npi(f"19876543{number}"), "credentials": "MD"}
        )


def test_a_follow_up_visit_reissues_the_series_estimate_with_its_clinician(
    plan, clinician, location, desk, django_capture_on_commit_callbacks
):
    from paperwork.models import Estimate, ProviderIdentity

    _priced_with_identities(location, plan.approved_by, clinician)
    series = services.book_series(plan, location, two_days(10, 10), booked_by=desk)
    first = Estimate.objects.current().get(series=series)
    assert [item["kind"] for item in first.content["items"]] == ["infusion"]

    with django_capture_on_commit_callbacks(execute=True):
        visits.book_visit(
            request_for(plan, clinician, location, local(location, MONDAY, 12), series=series),
            booked_by=desk,
        )

    current = Estimate.objects.current().get(series=series)
    assert current.pk != first.pk and current.supersedes_id == first.pk
    first.refresh_from_db()
    assert first.superseded_at is not None  # kept, readable
    follow_up = [item for item in current.content["items"] if item["kind"] == "follow_up"]
    assert [(item["count"], item["each"]) for item in follow_up] == [(1, 15000)]
    provider = current.content["providers"][follow_up[0]["provider"]]
    assert provider["npi"] == ProviderIdentity.objects.get(user=clinician).npi
    assert current.total_amount == first.total_amount + 15000


def test_an_evaluation_visit_gets_its_own_estimate(
    plan, clinician, location, desk, django_capture_on_commit_callbacks
):
    from paperwork.models import Estimate

    _priced_with_identities(location, plan.approved_by, clinician)
    with django_capture_on_commit_callbacks(execute=True):
        visits.book_visit(
            request_for(
                plan, clinician, location, local(location, MONDAY, 10), kind=VisitKind.EVALUATION
            ),
            booked_by=desk,
        )
    estimate = Estimate.objects.current().get(patient=plan.patient, series__isnull=True)
    assert [(i["kind"], i["each"]) for i in estimate.content["items"]] == [("evaluation", 35000)]


def test_a_booster_gets_an_estimate_at_the_booster_price(
    boosted, clinician, location, desk, django_capture_on_commit_callbacks
):
    from paperwork.models import Estimate
    from scheduling import boosters

    _priced_with_identities(location, boosted.approved_by, clinician)
    with (
        time_machine.travel(dt.datetime(2027, 4, 8, 15, tzinfo=UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        series = boosters.book_booster(
            boosted, location, services.Choice(dt.date(2027, 4, 9), dt.time(10)), booked_by=desk
        )
    estimate = Estimate.objects.current().get(series=series)
    assert [(i["kind"], i["count"]) for i in estimate.content["items"]] == [("booster", 1)]


# The patient's home (docs/roles/patient.md#the-patients-home) --------------------------------


def test_the_patients_home_shows_the_next_visit_and_its_video_link_once_it_opens(
    plan, clinician, location, desk, login
):
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10), mode=VisitMode.VIDEO),
        booked_by=desk,
    )
    home = reverse("scheduling:patient_home")

    page = login(plan.patient).get(home).content.decode()
    assert 'data-testid="next-visit"' in page
    assert reverse("scheduling:my_visit", args=[visit.public_id]) in page
    assert "9:50" in page  # when the link opens, in the location's time
    assert visit.video_token not in page

    with time_machine.travel(local(location, MONDAY, 9, 52)):
        page = login(plan.patient).get(home).content.decode()
    assert visit.video_url() in page

    visits.cancel_visit(Visit.objects.get(pk=visit.pk))
    page = login(plan.patient).get(home).content.decode()
    assert 'data-testid="next-visit"' not in page


def test_the_patients_home_says_when_a_booster_is_due_with_the_link_to_book_it(
    boosted, location, login
):
    location.self_booking = True
    location.save()
    home = reverse("scheduling:patient_home")
    with time_machine.travel(dt.datetime(2027, 3, 20, 15, tzinfo=UTC)):
        page = login(boosted.patient).get(home).content.decode()
    assert 'data-testid="booster-due"' not in page  # not bookable yet
    with time_machine.travel(dt.datetime(2027, 4, 7, 15, tzinfo=UTC)):
        page = login(boosted.patient).get(home).content.decode()
    assert 'data-testid="booster-due"' in page and "14 April" in page
    assert reverse("scheduling:self_book_booster") in page


# Patients change their visits online (docs/visits.md#patients-change-their-visits) -------------


@pytest.fixture
def online(location):
    location.self_booking = True
    location.save()
    return location


def test_a_patient_cancels_their_visit_online_and_is_told_as_after_the_desks_change(
    plan, clinician, online, desk, login
):
    visit = visits.book_visit(
        request_for(plan, clinician, online, local(online, MONDAY, 10)), booked_by=desk
    )
    client = login(plan.patient)
    page = client.get(reverse("scheduling:my_visit", args=[visit.public_id])).content.decode()
    cancel = reverse("scheduling:my_visit_cancel", args=[visit.public_id])
    assert cancel in page and reverse("scheduling:my_visit_move", args=[visit.public_id]) in page

    asked = client.get(cancel)
    assert asked.status_code == 200 and Visit.objects.get(pk=visit.pk).is_active
    response = client.post(cancel)
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    assert Message.objects.filter(group=f"visit:{visit.pk}", kind="visit_cancelled").exists()


def test_a_patient_moves_their_visit_to_a_free_time_of_the_same_clinician(
    plan, clinician, online, desk, login
):
    visit = visits.book_visit(
        request_for(plan, clinician, online, local(online, MONDAY, 10)), booked_by=desk
    )
    client = login(plan.patient)
    move = reverse("scheduling:my_visit_move", args=[visit.public_id])
    page = client.get(move).content.decode()
    assert 'data-testid="visit-slots"' in page
    new_start = local(online, MONDAY + dt.timedelta(days=1), 11)
    response = client.post(move, {"clinician": clinician.pk, "starts_at": new_start.isoformat()})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.starts_at == new_start and visit.clinician == clinician
    assert Message.objects.filter(group=f"visit:{visit.pk}", kind="visit_moved").exists()

    taken = client.post(move, {"clinician": clinician.pk, "starts_at": "not a time"})
    assert taken.status_code == 200 and "Choose one of the times shown" in taken.content.decode()


def test_a_change_online_is_refused_with_the_reason_in_the_patients_language(
    plan, clinician, location, desk, login
):
    profile = plan.patient.patient_profile
    profile.preferred_language = "es"
    profile.save()
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    client = login(plan.patient)
    client.cookies["django_language"] = "es"
    cancel = reverse("scheduling:my_visit_cancel", args=[visit.public_id])
    page = client.post(cancel, follow=True, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "por teléfono" in page  # the location takes no changes online
    assert Visit.objects.get(pk=visit.pk).is_active

    location.self_booking = True
    location.save()
    with time_machine.travel(local(location, MONDAY, 9) - dt.timedelta(hours=3)):
        page = (
            login(plan.patient)
            .post(cancel, follow=True, HTTP_ACCEPT_LANGUAGE="es")
            .content.decode()
        )
    assert "ya no se puede cambiar en línea" in page  # within 24 hours of the start
    assert Visit.objects.get(pk=visit.pk).is_active


def test_the_visit_reminders_link_confirms_or_cancels_without_signing_in(
    plan, clinician, online, desk, client
):
    from messaging import visit_messages

    visit = visits.book_visit(
        request_for(plan, clinician, online, local(online, MONDAY, 10)), booked_by=desk
    )
    row = Message.objects.get(
        group=f"visit:{visit.pk}", kind="visit_reminder", channel=Channel.EMAIL
    )
    body = visit_messages.resolve(row).body_text
    path = next(word for word in body.split() if "/v/" in word).split("testserver", 1)[-1]
    path = path[path.index("/v/") :]
    assert "Cancel" in client.get(path).content.decode()

    client.post(path, {"action": "confirm"})
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CONFIRMED
    client.post(path, {"action": "cancel", "confirmed": "yes"})
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CANCELLED

    assert client.get(path[:-3] + "xyz/").status_code == 404  # a forged token


# Follow-up after N sessions (docs/visits.md#follow-up-after-n-sessions) -----------------------


def _complete(session):
    """Marks the session completed as the discharge does, then runs the discharge's hook."""
    session.status = "completed"
    session.save(update_fields=["status"])
    return visits.on_session_completed(session)


@pytest.fixture
def two_sessions(plan, location, desk):
    location.follow_up_after_sessions = 2
    location.save(update_fields=["follow_up_after_sessions"])
    series = services.book_series(plan, location, two_days(10, 10), booked_by=desk)
    return list(series.sessions.order_by("number"))


def test_the_follow_up_task_opens_at_the_nth_completed_session_not_before_nor_twice(
    two_sessions, plan
):
    from worklist.models import Cause, Queue, Task

    first, second = two_sessions
    assert _complete(first) is None
    assert not Task.objects.filter(cause=Cause.FOLLOW_UP_DUE).exists()
    task = _complete(second)
    assert task is not None and task.queue == Queue.CLINICAL
    assert task.link == (
        reverse("scheduling:book_visit", args=[plan.patient.public_id])
        + f"?kind=follow_up&series={second.series.public_id}"
    )
    assert "pat@" not in task.about
    _complete(second)
    assert Task.objects.filter(cause=Cause.FOLLOW_UP_DUE).count() == 1


def test_no_follow_up_task_when_the_follow_up_is_already_booked_or_the_setting_is_off(
    two_sessions, plan, clinician, location, desk
):
    from worklist.models import Cause, Task

    first, second = two_sessions
    _complete(first)
    visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY + dt.timedelta(4), 10)),
        booked_by=desk,
    )
    assert _complete(second) is None
    location.follow_up_after_sessions = 0
    location.save(update_fields=["follow_up_after_sessions"])
    Visit.objects.all().delete()
    assert _complete(Session.objects.get(pk=second.pk)) is None
    assert not Task.objects.filter(cause=Cause.FOLLOW_UP_DUE).exists()


# The visit reminder follows the location's reminder rules (docs/visits.md#messages) ------------


def test_the_visit_reminder_follows_the_locations_reminder_rule(
    plan, clinician, location, desk, login
):
    from scheduling.models import ReminderKind, ReminderRule

    rule = ReminderRule.objects.create(
        location=location, kind=ReminderKind.VISIT_REMINDER, hours=48
    )
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    reminder = Message.objects.get(
        group=f"visit:{visit.pk}", kind="visit_reminder", channel=Channel.EMAIL
    )
    assert reminder.send_at == visit.starts_at - dt.timedelta(hours=48)

    rule.enabled = False
    rule.save()
    later = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY + dt.timedelta(1), 10)),
        booked_by=desk,
    )
    assert not Message.objects.filter(group=f"visit:{later.pk}", kind="visit_reminder").exists()


def test_a_location_without_a_visit_rule_keeps_24_hours_and_the_page_shows_it(
    plan, clinician, location, desk, login
):
    visit = visits.book_visit(
        request_for(plan, clinician, location, local(location, MONDAY, 10)), booked_by=desk
    )
    reminder = Message.objects.get(
        group=f"visit:{visit.pk}", kind="visit_reminder", channel=Channel.EMAIL
    )
    assert reminder.send_at == visit.starts_at - dt.timedelta(hours=24)
    admin = UserFactory.create(role=Role.CLINIC_ADMIN)
    page = login(admin).get(reverse("messaging:reminder_rules", args=[location.slug]))
    assert page.status_code == 200
    assert "Visit reminder" in page.content.decode()
