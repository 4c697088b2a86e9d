"""A booking that waits for a location another change holds waits a few seconds at most
(SCHEDULING_LOCK_TIMEOUT_MS), then is told the schedule is busy, in people's words (in the
patient's language), with nothing written: never a server error, never a request that hangs
until the worker is killed."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import urlencode

import pytest
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pytest_django.fixtures import Settings

from accounts.models import Role, User
from locations.models import Location
from scheduling import planner, self_booking, services
from scheduling.models import Hold, Series, Session, Status, WaitlistEntry
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db(transaction=True)

# The other change keeps the lock this long at most: far longer than the lock timeout.
HELD_SECONDS = 15

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _short_lock_timeout(settings: Settings) -> None:
    settings.SCHEDULING_LOCK_TIMEOUT_MS = 300


@contextlib.contextmanager
def _locked_elsewhere(location: Location) -> Iterator[None]:
    """Another connection holds the location's row lock (a long change at the location)."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Location.objects.select_for_update().get(pk=location.pk)
                held.set()
                done.wait(HELD_SECONDS)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    try:
        yield
    finally:
        done.set()
        thread.join(30)


def _busy(language: str = "en") -> str:
    with translation.override(language):
        return str(services.LocationBusy())


def _timed(request: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    response = request()
    return response, time.monotonic() - started


@pytest.fixture
def clinic(day: dt.date) -> Location:
    return make_location(
        "busy",
        chairs=2,
        nurses=1,
        shifts_from=day - dt.timedelta(days=1),
        self_booking=True,
        self_booking_notice_hours=1,
    )


def _patient_client(patient: User, language: str) -> Client:
    client = Client()
    client.force_login(patient)
    client.post("/language/", {"language": language, "next": "/"})
    return client


def _booked(clinic: Location, day: dt.date, email: str, start: dt.time) -> Session:
    plan = approved_plan(email, clinic, infusions=1)
    series = self_booking.book_own_series(plan.patient, clinic, [services.Choice(day, start)])
    return series.sessions.get()


def test_a_desk_booking_while_the_location_is_held_elsewhere_is_told_to_try_again(
    clinic: Location, day: dt.date, login: Callable[[User], Client]
) -> None:
    plan = approved_plan("waits@example.org", clinic, infusions=1)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    query = {
        "location": clinic.pk,
        "first_date": day.isoformat(),
        "weekdays": [str(day.weekday())],
        "window_starts": "09:00",
        "window_ends": "12:00",
    }
    url = f"{reverse('scheduling:plan', args=[plan.public_id])}?{urlencode(query, doseq=True)}"

    with _locked_elsewhere(clinic):
        response, took = _timed(lambda: desk.post(url, {"session_1": f"{day.isoformat()}T10:00"}))

    assert response.status_code == 200
    assert _busy() in response.content.decode()
    assert response.context["proposal"].sessions  # the form is shown again, to book again
    assert took < HELD_SECONDS / 2
    assert not Series.objects.filter(patient=plan.patient).exists()
    assert not Session.objects.filter(patient=plan.patient).exists()


def test_a_patient_booking_online_while_the_location_is_held_is_told_in_spanish(
    clinic: Location, day: dt.date
) -> None:
    plan = approved_plan("espera@example.org", clinic, infusions=1)
    client = _patient_client(plan.patient, "es")
    request = planner.Request(planner.PlanShape.from_plan(plan), day)
    _, holds = self_booking.hold_proposal(plan.patient, clinic, request)
    held = holds[0].starts_at.astimezone(clinic.zone)
    data = {
        "location": clinic.pk,
        "first_date": day.isoformat(),
        "weekdays": [str(day.weekday())],
        "window_starts": "09:00",
        "window_ends": "12:00",
        "action": "book",
        "session_1": f"{held:%Y-%m-%dT%H:%M}",
    }

    with _locked_elsewhere(clinic):
        response, took = _timed(lambda: client.post(reverse("scheduling:self_book"), data))

    assert response.status_code == 200
    assert _busy("es") in response.content.decode()
    assert _busy("es") != _busy("en")
    assert took < HELD_SECONDS / 2
    assert not Series.objects.filter(patient=plan.patient).exists()
    # Nothing half-done: the proposal is still held for the patient, as it was.
    assert list(Hold.objects.live().filter(patient=plan.patient)) == holds


def test_a_patient_asking_for_a_proposal_while_the_location_is_held_is_told_in_spanish(
    clinic: Location, day: dt.date
) -> None:
    plan = approved_plan("propuesta@example.org", clinic, infusions=1)
    client = _patient_client(plan.patient, "es")
    data = {
        "location": clinic.pk,
        "first_date": day.isoformat(),
        "weekdays": [str(day.weekday())],
        "window_starts": "09:00",
        "window_ends": "12:00",
        "action": "propose",
    }

    with _locked_elsewhere(clinic):
        response, took = _timed(lambda: client.post(reverse("scheduling:self_book"), data))

    assert response.status_code == 200
    assert _busy("es") in response.content.decode()
    assert took < HELD_SECONDS / 2
    assert not Hold.objects.filter(patient=plan.patient).exists()


def test_a_desk_move_and_cancel_while_the_location_is_held_change_nothing(
    clinic: Location, day: dt.date, login: Callable[[User], Client]
) -> None:
    session = _booked(clinic, day, "moved@example.org", dt.time(10))
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    before = session.starts_at

    with _locked_elsewhere(clinic):
        moved, took = _timed(
            lambda: desk.post(
                reverse("scheduling:move", args=[session.public_id]),
                {"date": day.isoformat(), "time": "14:00"},
                follow=True,
            )
        )
        cancelled = desk.post(
            reverse("scheduling:cancel", args=[session.public_id]), {"reason": "x"}, follow=True
        )

    assert moved.status_code == cancelled.status_code == 200
    assert _busy() in moved.content.decode() and _busy() in cancelled.content.decode()
    assert took < HELD_SECONDS / 2
    session.refresh_from_db()
    assert session.starts_at == before and session.status == Status.BOOKED


def test_a_patient_moving_online_while_the_location_is_held_is_told_in_spanish(
    clinic: Location, day: dt.date
) -> None:
    session = _booked(clinic, day, "mueve@example.org", dt.time(10))
    client = _patient_client(session.patient, "es")
    before = session.starts_at

    with _locked_elsewhere(clinic):
        response, took = _timed(
            lambda: client.post(
                reverse("scheduling:self_move", args=[session.public_id]),
                {"date": day.isoformat(), "time": "14:00"},
                follow=True,
            )
        )

    assert response.status_code == 200
    assert _busy("es") in response.content.decode()
    assert took < HELD_SECONDS / 2
    session.refresh_from_db()
    assert session.starts_at == before and session.moved_by is None


def _offer(clinic: Location, day: dt.date) -> tuple[Hold, Session]:
    """A patient at 11:00 waits for earlier; the 9:00 patient cancels; the slot is offered."""
    early = _booked(clinic, day, "early@example.org", dt.time(9))
    waiting = _booked(clinic, day, "waiting@example.org", dt.time(11))
    WaitlistEntry.objects.create(
        location=clinic,
        session=waiting,
        earliest_date=day,
        latest_date=day,
        window_starts=dt.time(8),
        window_ends=dt.time(10),
    )
    services.cancel_sessions(early)
    return Hold.objects.live().get(entry__session=waiting), waiting


def test_accepting_an_offer_while_the_location_is_held_changes_nothing(
    clinic: Location, day: dt.date, login: Callable[[User], Client]
) -> None:
    hold, waiting = _offer(clinic, day)
    before = waiting.starts_at
    patient = _patient_client(waiting.patient, "es")
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    with _locked_elsewhere(clinic):
        online, took = _timed(
            lambda: patient.post(reverse("scheduling:self_offer", args=[hold.public_id]))
        )
        at_desk = desk.post(reverse("scheduling:accept_offer", args=[hold.pk]), follow=True)

    assert online.status_code == at_desk.status_code == 200
    assert _busy("es") in online.content.decode()
    assert _busy() in at_desk.content.decode()
    assert took < HELD_SECONDS / 2
    waiting.refresh_from_db()
    assert waiting.starts_at == before
    assert Hold.objects.live().filter(pk=hold.pk).exists()
    assert WaitlistEntry.objects.get(session=waiting).status == WaitlistEntry.EntryStatus.OFFERED


def test_expired_holds_at_a_busy_location_are_released_by_the_next_run(
    clinic: Location, day: dt.date
) -> None:
    plan = approved_plan("expired@example.org", clinic, infusions=1)
    request = planner.Request(planner.PlanShape.from_plan(plan), day)
    _, holds = self_booking.hold_proposal(plan.patient, clinic, request)
    Hold.objects.filter(pk=holds[0].pk).update(
        expires_at=holds[0].expires_at - dt.timedelta(hours=1)
    )

    with _locked_elsewhere(clinic):
        busy, took = _timed(services.release_expired_holds)

    assert busy == 0
    assert took < HELD_SECONDS / 2
    assert Hold.objects.expired().filter(pk=holds[0].pk).exists()
    assert services.release_expired_holds() == 1
    assert not Hold.objects.expired().exists()
