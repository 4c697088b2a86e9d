"""Patients book and manage their own series online, under the desk's rules
(docs/product-rules.md#booking-online)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import PatientProfile, Role
from intake.models import UrgentFlag
from messaging import reminders
from notifications import registry
from notifications.models import Message, MessageStatus
from review.services import NotBookable
from scheduling import planner, self_booking, services
from scheduling.models import Hold, ReminderKind, Series, Session, Status, WaitlistEntry
from tests.conftest import verified_session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from worklist.models import Cause, Task

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 25, 17, tzinfo=dt.UTC)  # Monday, 12:00 in Stamford
MONDAY = dt.date(2027, 2, 1)
PREFERENCES = {
    "first_date": MONDAY.isoformat(),
    "weekdays": ["0", "2", "4"],
    "window_starts": "09:00",
    "window_ends": "12:00",
}


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def clinic():
    return make_location(
        "selfbook",
        chairs=1,
        nurses=1,
        shifts_from=NOW.date(),
        self_booking=True,
        phone="+1 203 555 0142",
    )


def _plan(email, location, **parameters):
    values: dict[str, Any] = {
        "infusions": 3,
        "min_days_between": 2,
        "max_days_between": 7,
        "span_days": 21,
    }
    values.update(parameters)
    return approved_plan(email, location, **values)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _desk_client() -> Client:
    client = Client()
    verified_session(client, UserFactory.create(role=Role.FRONT_DESK))
    return client


def _propose(client, location, **overrides):
    return client.post(
        reverse("scheduling:self_book"),
        {**PREFERENCES, "location": location.pk, "action": "propose", **overrides},
    )


def _book(client, location, proposal, **overrides):
    data = {**PREFERENCES, "location": location.pk, "action": "book", **overrides}
    for item in proposal.sessions:
        data[f"session_{item.number}"] = f"{item.slot.date:%Y-%m-%d}T{item.slot.local_time:%H:%M}"
    return client.post(reverse("scheduling:self_book"), data)


def test_online_booking_is_off_unless_the_location_turns_it_on():
    location = make_location("offline", shifts_from=NOW.date())
    plan = _plan("off@example.org", location)
    client = _client(plan.patient)

    home = client.get(reverse("scheduling:self_home"))
    response = _propose(client, location)

    assert location.self_booking is False
    assert "Book my infusions" not in home.content.decode()
    assert "books appointments by phone" in home.content.decode()
    assert response.status_code == 200
    assert "Choose one of the clinics in the list." in response.content.decode()
    assert not Hold.objects.exists()


def test_a_patient_without_a_plan_or_with_an_open_urgent_flag_cannot_book_online(clinic):
    unplanned = UserFactory.create(role=Role.PATIENT)
    flagged = _plan("flagged@example.org", clinic)
    UrgentFlag.objects.create(intake=flagged.intake, patient=flagged.patient, location=clinic)

    no_plan = _propose(_client(unplanned), clinic)
    with_flag = _propose(_client(flagged.patient), clinic)

    assert "There is no approved treatment plan." in no_plan.content.decode()
    assert "urgent safety flag" in with_flag.content.decode()
    assert "proposal" not in with_flag.context or with_flag.context.get("proposal") is None
    assert not Hold.objects.exists()
    with pytest.raises(NotBookable):
        self_booking.hold_proposal(
            flagged.patient, clinic, planner.Request(planner.PlanShape.from_plan(flagged), MONDAY)
        )


def test_the_location_is_shown_with_its_time_zone_and_the_notice_bounds_the_first_date(clinic):
    plan = _plan("zone@example.org", clinic)
    client = _client(plan.patient)

    page = client.get(reverse("scheduling:self_book"))
    too_soon = _propose(client, clinic, first_date=NOW.date().isoformat())
    too_far = _propose(client, clinic, first_date=(NOW.date() + dt.timedelta(days=200)).isoformat())

    assert "Selfbook — Eastern time (EST)" in page.content.decode()
    assert "needs 24 hours&#x27; notice" in too_soon.content.decode()
    assert "Online booking opens 90 days ahead" in too_far.content.decode()
    assert not Hold.objects.exists()


def test_a_first_date_in_the_past_is_refused_in_the_patients_language(clinic):
    plan = _plan("pasado@example.org", clinic)
    client = _client(plan.patient)
    client.post("/language/", {"language": "es", "next": "/"})

    response = _propose(client, clinic, first_date=(NOW.date() - dt.timedelta(days=3)).isoformat())

    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in page
    assert "Elija hoy o una fecha posterior." in page
    assert "Choose today" not in page
    assert not Hold.objects.exists()


def test_the_proposal_is_held_for_ten_minutes_and_the_planner_respects_it_for_everyone(clinic):
    plan = _plan("first@example.org", clinic)
    other = _plan("second@example.org", clinic)

    response = _propose(_client(plan.patient), clinic)

    proposal = response.context["proposal"]
    assert response.status_code == 200
    assert proposal.complete and len(proposal.sessions) == 3
    assert all(item.alternatives for item in proposal.sessions)
    holds = list(Hold.objects.live().filter(patient=plan.patient).order_by("starts_at"))
    assert [h.starts_at for h in holds] == [item.slot.starts_at() for item in proposal.sessions]
    assert {h.expires_at for h in holds} == {NOW + dt.timedelta(minutes=10)}
    # The one chair is held: anyone else, the desk included, is proposed other times.
    theirs = planner.propose(
        clinic, other.patient_id, planner.Request(planner.PlanShape.from_plan(other), MONDAY)
    )
    held = {h.starts_at for h in holds}
    assert not held & {item.slot.starts_at() for item in theirs.sessions}


def test_proposing_again_releases_the_patients_earlier_holds(clinic):
    plan = _plan("again@example.org", clinic)
    client = _client(plan.patient)

    _propose(client, clinic)
    response = _propose(client, clinic)

    first = response.context["proposal"].sessions[0].slot
    assert Hold.objects.live().filter(patient=plan.patient).count() == 3
    assert Hold.objects.filter(patient=plan.patient, released_at__isnull=False).count() == 3
    # The patient's own earlier holds did not push the new proposal away from their times.
    assert first.date == MONDAY and first.local_time == dt.time(9)


def test_book_all_books_the_whole_series_as_the_patient_with_the_desks_messages(clinic):
    plan = _plan("all@example.org", clinic)
    client = _client(plan.patient)
    proposal = _propose(client, clinic).context["proposal"]

    response = _book(client, clinic, proposal)

    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:self_home")
    series = Series.objects.get(patient=plan.patient)
    assert series.booked_by == plan.patient
    assert [s.starts_at for s in series.sessions.order_by("number")] == [
        item.slot.starts_at() for item in proposal.sessions
    ]
    assert not Hold.objects.live().exists()
    # The same plan of messages as a booking by the desk.
    desk_plan = _plan("desk-booked@example.org", clinic)
    desk_series = services.book_series(
        desk_plan,
        clinic,
        [services.Choice(MONDAY + dt.timedelta(days=7 * n), dt.time(14)) for n in range(3)],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )

    def kinds(s):
        groups = [f"series:{s.pk}"] + [f"session:{x.pk}" for x in s.sessions.all()]
        return sorted(Message.objects.filter(group__in=groups).values_list("kind", flat=True))

    assert kinds(series) == kinds(desk_series)
    assert ReminderKind.CONFIRMATION in kinds(series)
    page = _desk_client().get(reverse("scheduling:series", args=[series.public_id]))
    assert "booked by the patient" in page.content.decode()


def test_the_desk_confirms_a_self_booked_series_when_the_location_asks_for_it(clinic):
    clinic.self_booking_desk_confirms = True
    clinic.save()
    plan = _plan("confirm@example.org", clinic)
    client = _client(plan.patient)
    proposal = _propose(client, clinic).context["proposal"]

    _book(client, clinic, proposal)

    series = Series.objects.get(patient=plan.patient)
    task = Task.objects.get(cause=Cause.SELF_BOOKED)
    assert task.about == f"series:{series.pk}"
    assert task.link == reverse("scheduling:series", args=[series.public_id])


def test_the_first_sessions_now_and_the_rest_later_within_the_plans_span(clinic):
    plan = _plan("later@example.org", clinic)
    client = _client(plan.patient)
    proposal = _propose(client, clinic).context["proposal"]

    response = _book(client, clinic, proposal, book_first="1")

    series = Series.objects.get(patient=plan.patient)
    assert response.status_code == 302
    assert series.sessions.count() == 1
    home = client.get(reverse("scheduling:self_home"))
    assert "Book my remaining 2 infusions" in home.content.decode()

    rest_url = reverse("scheduling:self_book_rest", args=[series.public_id])
    rest = client.post(rest_url, {**PREFERENCES, "action": "propose"})
    rest_proposal = rest.context["proposal"]
    assert rest_proposal.complete and len(rest_proposal.sessions) == 2
    data = {**PREFERENCES, "action": "book"}
    for item in rest_proposal.sessions:
        data[f"session_{item.number}"] = f"{item.slot.date:%Y-%m-%d}T{item.slot.local_time:%H:%M}"
    booked = client.post(rest_url, data)

    assert booked.status_code == 302
    sessions = list(series.sessions.order_by("number"))
    assert [s.number for s in sessions] == [1, 2, 3]
    dates = [s.local_start().date() for s in sessions]
    services.check_spacing(dates, planner.PlanShape.from_plan(plan))
    assert not Hold.objects.live().exists()


def test_booking_the_rest_out_of_the_plans_spacing_is_refused_and_books_nothing(clinic):
    plan = _plan("spacing@example.org", clinic)
    client = _client(plan.patient)
    proposal = _propose(client, clinic).context["proposal"]
    _book(client, clinic, proposal, book_first="1")
    series = Series.objects.get(patient=plan.patient)

    response = client.post(
        reverse("scheduling:self_book_rest", args=[series.public_id]),
        {
            **PREFERENCES,
            "action": "book",
            "session_1": f"{MONDAY + dt.timedelta(days=20):%Y-%m-%d}T09:00",
            "session_2": f"{MONDAY + dt.timedelta(days=22):%Y-%m-%d}T09:00",
        },
    )

    assert response.status_code == 200
    assert "days after the one before" in response.content.decode()
    assert series.sessions.count() == 1


def test_a_session_taken_meanwhile_books_nothing_and_shows_fresh_alternatives(clinic):
    plan = _plan("slow@example.org", clinic)
    client = _client(plan.patient)
    proposal = _propose(client, clinic).context["proposal"]
    first = proposal.sessions[0].slot
    rival = _plan("quick@example.org", clinic, infusions=1)
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        # The patient's holds ran out; the desk books the first proposed time for someone else.
        services.book_series(
            rival,
            clinic,
            [services.Choice(first.date, first.local_time)],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        )

        response = _book(client, clinic, proposal)

    assert response.status_code == 200
    assert "was just taken by someone else, so nothing was booked" in response.content.decode()
    assert response.context["failed"] == [1]
    fresh = response.context["proposal"]
    assert fresh.sessions[0].slot.starts_at() != first.starts_at()
    assert not Series.objects.filter(patient=plan.patient).exists()


def _booked(clinic, email="mine@example.org", start=dt.time(10), **parameters):
    plan = _plan(email, clinic, **parameters)
    days = [MONDAY + dt.timedelta(days=2 * n) for n in range(plan.infusions)]
    series = self_booking.book_own_series(
        plan.patient, clinic, [services.Choice(day, start) for day in days]
    )
    return plan, series


def test_moving_online_keeps_the_desks_rules_and_the_desk_sees_the_patient_moved_it(clinic):
    plan, series = _booked(clinic)
    session = series.sessions.get(number=2)
    client = _client(plan.patient)

    closed = client.post(
        reverse("scheduling:self_move", args=[session.public_id]),
        {"date": "2027-02-06", "time": "10:00"},  # a Saturday: the clinic is closed
    )
    moved = client.post(
        reverse("scheduling:self_move", args=[session.public_id]),
        {"date": "2027-02-03", "time": "14:00"},
    )

    assert closed.status_code == moved.status_code == 302
    session.refresh_from_db()
    assert session.local_start() == dt.datetime(2027, 2, 3, 14, tzinfo=clinic.zone)
    assert session.moved_by == plan.patient
    assert Message.objects.filter(group=f"series:{series.pk}", kind=ReminderKind.CHANGED).exists()
    page = _desk_client().get(reverse("scheduling:series", args=[series.public_id]))
    assert "moved by the patient" in page.content.decode()
    spacing = client.post(
        reverse("scheduling:self_move", args=[session.public_id]),
        {"date": "2027-02-01", "time": "14:00"},  # the same day as session 1
    )
    assert spacing.status_code == 302
    session.refresh_from_db()
    assert session.local_start().date() == dt.date(2027, 2, 3)


def test_moving_online_needs_the_locations_notice(clinic):
    plan, series = _booked(clinic)
    session = series.sessions.get(number=1)

    with time_machine.travel(session.starts_at - dt.timedelta(hours=3), tick=False):
        response = _client(plan.patient).post(
            reverse("scheduling:self_move", args=[session.public_id]),
            {"date": "2027-02-01", "time": "15:00"},
            follow=True,
        )

    assert "too soon to move online" in response.content.decode()
    session.refresh_from_db()
    assert session.local_start().time() == dt.time(10)


def test_cancelling_online_inside_the_policy_cancels_with_the_desks_messages(clinic):
    plan, series = _booked(clinic)
    session = series.sessions.get(number=3)

    response = _client(plan.patient).post(
        reverse("scheduling:self_cancel", args=[session.public_id])
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Status.CANCELLED
    assert session.cancel_reason == self_booking.CANCELLED_ONLINE
    assert Message.objects.filter(group=f"series:{series.pk}", kind=ReminderKind.CANCELLED).exists()


def test_a_late_cancellation_is_refused_online_with_the_clinics_phone(clinic):
    plan, series = _booked(clinic)
    session = series.sessions.get(number=1)

    with time_machine.travel(session.starts_at - dt.timedelta(hours=5), tick=False):
        response = _client(plan.patient).post(
            reverse("scheduling:self_cancel", args=[session.public_id]), follow=True
        )

    text = response.content.decode()
    assert "too soon to cancel online" in text
    assert "+1 203 555 0142" in text
    session.refresh_from_db()
    assert session.status == Status.BOOKED


def test_a_patient_reaches_only_their_own_series_sessions_and_offers(clinic):
    series = _booked(clinic)[1]
    session = series.sessions.get(number=1)
    stranger = _client(_plan("stranger@example.org", clinic).patient)

    answers = [
        stranger.post(reverse("scheduling:self_cancel", args=[session.public_id])).status_code,
        stranger.post(
            reverse("scheduling:self_move", args=[session.public_id]),
            {"date": "2027-02-01", "time": "15:00"},
        ).status_code,
        stranger.post(
            reverse("scheduling:self_waitlist", args=[session.public_id]), {}
        ).status_code,
        stranger.get(reverse("scheduling:self_book_rest", args=[series.public_id])).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    session.refresh_from_db()
    assert session.status == Status.BOOKED and session.local_start().time() == dt.time(10)
    assert not WaitlistEntry.objects.exists()


def test_a_freed_slot_is_offered_by_email_and_text_with_a_link_and_accepting_books_it(
    clinic, settings
):
    settings.SITE_URL = "https://clinic.example.org"
    early_plan = _plan("early@example.org", clinic, infusions=1)
    early = services.book_series(
        early_plan,
        clinic,
        [services.Choice(MONDAY, dt.time(9))],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    ).sessions.get()
    plan, series = _booked(clinic, start=dt.time(11), infusions=1)
    waiting = series.sessions.get()
    waiting.refresh_from_db()
    PatientProfile.objects.filter(user=plan.patient).update(
        mobile_phone="+12035550199", sms_reminders=True, sms_consent_at=NOW
    )
    client = _client(plan.patient)
    # Session 1 is on Monday at 11:00; the patient would rather come at 9:00.
    joined = client.post(
        reverse("scheduling:self_waitlist", args=[waiting.public_id]),
        {
            "earliest_date": MONDAY.isoformat(),
            "latest_date": MONDAY.isoformat(),
            "window_starts": "08:00",
            "window_ends": "10:00",
        },
    )
    assert joined.status_code == 302
    assert WaitlistEntry.objects.get(session=waiting).status == WaitlistEntry.EntryStatus.WAITING

    services.cancel_sessions(early)

    hold = Hold.objects.live().get(entry__session=waiting)
    offers = Message.objects.filter(kind=ReminderKind.OFFER, group=f"session:{waiting.pk}")
    assert sorted(offers.values_list("channel", flat=True)) == ["email", "sms"]
    link = reverse("scheduling:self_offer", args=[hold.public_id])
    resolved = [reminders.resolve(message) for message in offers]
    assert all(link in (r.body_text or "") for r in resolved)
    page = client.get(link)
    assert "Move my appointment to this slot" in page.content.decode()

    accepted = client.post(link)

    assert accepted.status_code == 302
    waiting.refresh_from_db()
    assert waiting.starts_at == early.starts_at
    assert waiting.moved_by == plan.patient
    assert WaitlistEntry.objects.get(session=waiting).status == WaitlistEntry.EntryStatus.BOOKED
    assert not Hold.objects.live().exists()


def test_an_expired_proposal_is_released_and_blocks_no_one(clinic):
    plan = _plan("expired@example.org", clinic)
    _propose(_client(plan.patient), clinic)

    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        live = Hold.objects.live().count()
        released = services.release_expired_holds()

    assert live == 0
    assert released == 3
    assert Hold.objects.filter(released_at__isnull=True).count() == 0


def test_a_hold_has_exactly_one_owner():
    from django.db import IntegrityError, transaction

    location = make_location("owners", shifts_from=NOW.date())
    chair = location.chairs.get(position=1)
    nurse = UserFactory.create(role=Role.NURSE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Hold.objects.create(
            location=location,
            chair=chair,
            nurse=nurse,
            starts_at=NOW,
            setup_ends_at=NOW + dt.timedelta(minutes=15),
            ends_at=NOW + dt.timedelta(hours=1),
            expires_at=NOW + dt.timedelta(minutes=10),
        )
    assert not Session.objects.exists()


def _pending(session: Session) -> list[tuple[str, dt.datetime]]:
    return sorted(
        Message.objects.filter(group=f"session:{session.pk}", status=MessageStatus.PENDING)
        .values_list("kind", "send_at")
        .distinct()
    )


def test_a_patient_moves_a_session_and_the_following_ones_like_the_desk_does(clinic):
    # Mon 1, Wed 3 and Fri 5 February at 10:00; the plan allows 2 to 7 days between.
    plan, series = _booked(clinic)
    second, third = series.sessions.get(number=2), series.sessions.get(number=3)
    before = _pending(third)

    response = _client(plan.patient).post(
        reverse("scheduling:self_move", args=[second.public_id]),
        {"date": "2027-02-08", "time": "14:00", "and_following": "on"},
        follow=True,
    )

    assert "Appointments 2 to 3 are moved." in response.content.decode()
    second.refresh_from_db()
    third.refresh_from_db()
    # Both by the same five days, to the new time of day; the first stays where it was.
    assert second.local_start() == dt.datetime(2027, 2, 8, 14, tzinfo=clinic.zone)
    assert third.local_start() == dt.datetime(2027, 2, 10, 14, tzinfo=clinic.zone)
    assert series.sessions.get(number=1).local_start().time() == dt.time(10)
    assert second.moved_by == third.moved_by == plan.patient
    # Re-planned as the desk's move re-plans: one "moved" notice naming both, and each
    # session's messages planned afresh for its new time (the old ones cancelled).
    notices = Message.objects.filter(group=f"series:{series.pk}", kind=ReminderKind.CHANGED)
    assert {tuple(n.context["sessions"]) for n in notices} == {(second.pk, third.pk)}
    after = _pending(third)
    assert after and after != before
    assert all(at > NOW for _, at in after)
    reminder = next(at for kind, at in after if kind == ReminderKind.REMINDER)
    assert reminder == third.starts_at - dt.timedelta(hours=48)
    assert Message.objects.filter(
        group=f"session:{third.pk}", status=MessageStatus.CANCELLED
    ).exists()


def test_a_following_session_that_cannot_be_placed_moves_nothing(clinic):
    plan, series = _booked(clinic)
    second, third = series.sessions.get(number=2), series.sessions.get(number=3)
    starts = {s.pk: s.starts_at for s in series.sessions.all()}

    # Wednesday 3 to Thursday 4 would put Friday's session on Saturday 6: the clinic is closed.
    response = _client(plan.patient).post(
        reverse("scheduling:self_move", args=[second.public_id]),
        {"date": "2027-02-04", "time": "10:00", "and_following": "on"},
        follow=True,
    )

    text = response.content.decode()
    assert "Appointment 3 cannot move there" in text
    assert "None of your appointments was changed" in text
    assert {s.pk: s.starts_at for s in series.sessions.all()} == starts
    assert not Message.objects.filter(kind=ReminderKind.CHANGED).exists()
    third.refresh_from_db()
    assert third.moved_by is None


def test_a_patient_cannot_move_another_patients_sessions_and_the_following(clinic):
    series = _booked(clinic)[1]
    session = series.sessions.get(number=2)
    stranger = _client(_plan("other.mover@example.org", clinic).patient)

    response = stranger.post(
        reverse("scheduling:self_move", args=[session.public_id]),
        {"date": "2027-02-08", "time": "14:00", "and_following": "on"},
    )

    assert response.status_code == 404
    assert [s.local_start().time() for s in series.sessions.order_by("number")] == [dt.time(10)] * 3
    assert not Message.objects.filter(kind=ReminderKind.CHANGED).exists()


# --- The desk confirms a series booked online (Location.self_booking_desk_confirms) -----------


def _requested(clinic, email="requested@example.org"):
    """A series booked online over HTTP at a location where the desk confirms."""
    clinic.self_booking_desk_confirms = True
    clinic.save()
    plan = _plan(email, clinic)
    PatientProfile.objects.filter(user=plan.patient).update(
        mobile_phone="+12035550199", sms_reminders=True, sms_consent_at=NOW
    )
    client = _client(plan.patient)
    response = _book(client, clinic, _propose(client, clinic).context["proposal"])
    return plan, client, response, Series.objects.get(patient=plan.patient)


def _messages(series, kind, **filters):
    groups = [f"series:{series.pk}"] + [f"session:{s.pk}" for s in series.sessions.all()]
    return Message.objects.filter(group__in=groups, kind=kind, **filters)


def test_a_series_booked_online_awaits_the_desk_holding_its_chairs_and_says_requested(clinic):
    _, client, response, series = _requested(clinic)

    # Its sessions take their chair and nurse at once: nobody else is offered those times.
    sessions = list(series.sessions.order_by("number"))
    assert [s.status for s in sessions] == [Status.BOOKED] * 3
    assert series.awaiting_desk_since == NOW
    other = _plan("someone.else@example.org", clinic)
    theirs = planner.propose(
        clinic, other.patient_id, planner.Request(planner.PlanShape.from_plan(other), MONDAY)
    )
    assert not {s.starts_at for s in sessions} & {i.slot.starts_at() for i in theirs.sessions}
    # The patient is told it is requested, not booked.
    home = client.get(response["Location"]).content.decode()
    assert "Requested 3 sessions at Selfbook. The clinic will confirm them" in home
    # Each of the 3 sessions, and the notice above them, in the same words.
    assert home.count("Requested — the clinic will confirm") == 4
    assert "· Booked" not in home
    appointments = client.get(reverse("scheduling:my_sessions")).content.decode()
    assert "Requested — the clinic will confirm" in appointments
    download = client.get(reverse("scheduling:session_ics", args=[sessions[0].public_id]))
    assert b"STATUS:TENTATIVE" in download.content
    # The first message says requested, without a calendar invitation; no confirmation yet.
    assert not _messages(series, ReminderKind.CONFIRMATION).exists()
    email = reminders.resolve(_messages(series, ReminderKind.REQUESTED, channel="email").get())
    text = reminders.resolve(_messages(series, ReminderKind.REQUESTED, channel="sms").get())
    assert "requested" in (email.subject or "").lower()
    assert "not confirmed yet" in email.body_text
    assert "are booked" not in email.body_text and "are booked" not in text.body_text
    assert email.attachments == []
    # A reminder that goes out before the desk decides does not promise the appointment.
    reminder = _messages(series, ReminderKind.REMINDER, channel="email").order_by("send_at")[0]
    said = reminders.resolve(reminder)
    assert said.body_text.startswith("The clinic has not confirmed this appointment yet")
    assert (said.subject or "").startswith("Not confirmed yet:")
    # The desk sees it awaiting: its home, the worklist task and the series page.
    desk = _desk_client()
    assert (
        "1 series booked online to confirm" in desk.get(reverse("scheduling:desk")).content.decode()
    )
    task = Task.objects.get(cause=Cause.SELF_BOOKED, about=f"series:{series.pk}")
    assert task.link == reverse("scheduling:series", args=[series.public_id])
    page = desk.get(task.link).content.decode()
    assert "Booked online by the patient; awaiting your confirmation" in page
    assert reverse("scheduling:confirm_series", args=[series.public_id]) in page
    assert reverse("scheduling:decline_series", args=[series.public_id]) in page


def test_a_requested_series_cancelled_whole_leaves_the_desk_nothing_to_decide(clinic):
    *_, series = _requested(clinic)
    task = Task.objects.get(cause=Cause.SELF_BOOKED, about=f"series:{series.pk}")
    first = series.sessions.order_by("number").first()
    desk = _desk_client()

    # The patient phones; the desk cancels the whole series from its page.
    desk.post(
        reverse("scheduling:cancel", args=[first.public_id]),
        {"and_following": "on", "reason": "Patient asked"},
    )

    task.refresh_from_db()
    series.refresh_from_db()
    assert series.status == Series.SeriesStatus.CANCELLED
    assert (task.status, task.note) == ("done", "The whole series was cancelled.")
    home = desk.get(reverse("scheduling:desk")).content.decode()
    assert "booked online to confirm" not in home
    worklist = desk.get(reverse("scheduling:desk_tasks")).content.decode()
    assert str(series.public_id) not in worklist


def test_the_desk_confirms_a_series_booked_online_and_the_patient_gets_the_confirmation(
    clinic,
):
    _, client, _response, series = _requested(clinic)
    desk = _desk_client()

    response = desk.post(reverse("scheduling:confirm_series", args=[series.public_id]))
    again = desk.post(reverse("scheduling:confirm_series", args=[series.public_id]), follow=True)

    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:series", args=[series.public_id])
    series.refresh_from_db()
    assert series.awaiting_desk_since is None
    assert series.status == Series.SeriesStatus.ACTIVE
    assert "no longer awaits confirmation" in again.content.decode()
    task = Task.objects.get(cause=Cause.SELF_BOOKED, about=f"series:{series.pk}")
    assert task.status == "done" and task.note == "Confirmed on the series page."
    # One confirmation per channel, with the calendar invitations, as the desk's own booking.
    confirmations = _messages(series, ReminderKind.CONFIRMATION)
    assert sorted(confirmations.values_list("channel", flat=True)) == ["email", "sms"]
    email = reminders.resolve(confirmations.get(channel="email"))
    assert "are booked" in email.body_text
    assert [name for name, _body, _type in email.attachments] == [
        f"appointment-{n}.ics" for n in (1, 2, 3)
    ]
    assert all("method=REQUEST" in kind for _n, _b, kind in email.attachments)
    # The "requested" message, if it had not gone yet, is now not sent; reminders promise again.
    with pytest.raises(registry.Skip):
        reminders.resolve(_messages(series, ReminderKind.REQUESTED, channel="email").get())
    reminder = _messages(series, ReminderKind.REMINDER, channel="email").order_by("send_at")[0]
    assert not reminders.resolve(reminder).body_text.startswith("The clinic has not confirmed")
    first = series.sessions.get(number=1)
    download = client.get(reverse("scheduling:session_ics", args=[first.public_id]))
    assert b"STATUS:CONFIRMED" in download.content
    home = client.get(reverse("scheduling:self_home")).content.decode()
    assert "Requested — the clinic will confirm" not in home
    assert home.count("· Booked") == 3
    assert (
        "0 series booked online to confirm"
        not in desk.get(reverse("scheduling:desk")).content.decode()
    )


def test_the_desk_declines_a_series_booked_online_freeing_its_slots_for_the_waitlist(clinic):
    _, client, _response, series = _requested(clinic)
    sessions = list(series.sessions.order_by("number"))
    # Someone booked later that week waits for an earlier morning slot.
    waiting_plan = _plan("waiting@example.org", clinic, infusions=1)
    waiting = services.book_series(
        waiting_plan,
        clinic,
        [services.Choice(MONDAY + dt.timedelta(days=8), dt.time(9))],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    ).sessions.get()
    WaitlistEntry.objects.create(
        location=clinic,
        session=waiting,
        earliest_date=MONDAY,
        latest_date=MONDAY + dt.timedelta(days=6),
        window_starts=dt.time(8),
        window_ends=dt.time(12),
    )
    pending_before = set(
        Message.objects.filter(
            group__in=[f"session:{s.pk}" for s in sessions], status=MessageStatus.PENDING
        ).values_list("pk", flat=True)
    )
    url = reverse("scheduling:decline_series", args=[series.public_id])
    desk = _desk_client()

    no_reason = desk.post(url, {"reason": "  "}, follow=True)
    assert "Give the patient a reason" in no_reason.content.decode()
    assert Series.objects.get(pk=series.pk).awaiting_desk_since == NOW

    reason = "These times do not suit the clinic's plans for your care; please call us."
    response = desk.post(url, {"reason": reason})

    assert response.status_code == 302
    series.refresh_from_db()
    assert series.status == Series.SeriesStatus.CANCELLED
    assert series.awaiting_desk_since is None
    for session in series.sessions.all():
        # Declined by the clinic: cancelled, never counted as the patient's late cancellation.
        assert session.status == Status.CANCELLED
        assert session.cancel_reason == reason
    # Its pending messages are cancelled; the patient is told, with the reason by email only.
    assert pending_before
    assert not Message.objects.filter(pk__in=pending_before, status=MessageStatus.PENDING).exists()
    declined = _messages(series, ReminderKind.DECLINED)
    assert sorted(declined.values_list("channel", flat=True)) == ["email", "sms"]
    email = reminders.resolve(declined.get(channel="email"))
    text = reminders.resolve(declined.get(channel="sms"))
    assert reason in email.body_text
    assert "could not confirm" in email.body_text and "could not confirm" in text.body_text
    assert reason not in text.body_text
    assert "+1 203 555 0142" in text.body_text
    # The freed first slot is offered to the waiting patient, as a cancellation would.
    hold = Hold.objects.live().get(entry__session=waiting)
    assert hold.starts_at == sessions[0].starts_at
    assert Message.objects.filter(kind=ReminderKind.OFFER, group=f"session:{waiting.pk}").exists()
    task = Task.objects.get(cause=Cause.SELF_BOOKED, about=f"series:{series.pk}")
    assert task.status == "done" and task.note == f"Declined: {reason}"
    home = client.get(reverse("scheduling:self_home")).content.decode()
    assert "Book my infusions" in home
    # Confirming what was declined changes nothing.
    late = desk.post(reverse("scheduling:confirm_series", args=[series.public_id]), follow=True)
    assert "no longer awaits confirmation" in late.content.decode()
    assert not _messages(series, ReminderKind.CONFIRMATION).exists()


def test_a_series_the_desk_booked_or_booked_online_without_confirmation_cannot_be_declined(
    clinic,
):
    series = _booked(clinic)[1]
    desk = _desk_client()

    response = desk.post(
        reverse("scheduling:decline_series", args=[series.public_id]),
        {"reason": "No."},
        follow=True,
    )

    assert "no longer awaits confirmation" in response.content.decode()
    assert series.sessions.filter(status=Status.BOOKED).count() == 3
    assert _messages(series, ReminderKind.CONFIRMATION).exists()
    assert not Task.objects.filter(cause=Cause.SELF_BOOKED).exists()


def test_the_rest_of_a_requested_series_joins_the_request_and_is_confirmed_with_it(clinic):
    clinic.self_booking_desk_confirms = True
    clinic.save()
    plan = _plan("rest.requested@example.org", clinic)
    client = _client(plan.patient)
    _book(client, clinic, _propose(client, clinic).context["proposal"], book_first="1")
    series = Series.objects.get(patient=plan.patient)
    rest_url = reverse("scheduling:self_book_rest", args=[series.public_id])
    rest_proposal = client.post(rest_url, {**PREFERENCES, "action": "propose"}).context["proposal"]
    data = {**PREFERENCES, "action": "book"}
    for item in rest_proposal.sessions:
        data[f"session_{item.number}"] = f"{item.slot.date:%Y-%m-%d}T{item.slot.local_time:%H:%M}"

    booked = client.post(rest_url, data, follow=True)

    assert "Requested the remaining 2 sessions" in booked.content.decode()
    series.refresh_from_db()
    assert series.is_awaiting_desk and series.sessions.count() == 3
    requested = _messages(series, ReminderKind.REQUESTED, channel="email")
    assert sorted(len(m.context["sessions"]) for m in requested) == [1, 2]
    assert not _messages(series, ReminderKind.CONFIRMATION).exists()

    _desk_client().post(reverse("scheduling:confirm_series", args=[series.public_id]))

    confirmation = _messages(series, ReminderKind.CONFIRMATION, channel="email").get()
    assert len(reminders.resolve(confirmation).attachments) == 3
