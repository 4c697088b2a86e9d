"""A patient online and the front desk book the same chair and time in two browsers at once
(docs/product-rules.md#booking-online): exactly one wins, the other is told so in words and sees
fresh alternatives."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from locations.models import Location
from scheduling.models import Series, Session
from tests.conftest import browser_sign_in, screenshot
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAITING_ON_A_LOCK = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


def _race_day() -> dt.date:
    """A Monday, Wednesday or Friday well past the online notice and inside the nurses' shifts."""
    day = timezone.localdate() + dt.timedelta(days=7)
    while day.weekday() not in (0, 2, 4):
        day += dt.timedelta(days=1)
    return day


def _wait_until_both_wait_on_the_lock(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(WAITING_ON_A_LOCK)
            if cursor.fetchone()[0] >= 2:
                return
            time.sleep(0.05)
    raise AssertionError("the two bookings never queued on the location's lock together")


def _proposed(page) -> str:
    """The value of the time proposed for the first session (its selected option or radio)."""
    return page.locator(
        "select#session_1 option:checked, input[name=session_1]:checked"
    ).get_attribute("value")


# PostgreSQL's lock queue serves first come, first served: each side submits first once, so
# both losers' pages are seen; neither run presumes who wins.
@pytest.mark.parametrize("first", ["desk", "patient"])
def test_a_patient_and_the_desk_booking_one_chair_and_time_at_once_give_one_winner(
    page, browser, live_server, first
):
    """Why this is a race and not two bookings one after the other: both pages are loaded with
    the same proposal (the one chair at the same time) before either submits; the patient's
    10-minute hold on it has lapsed (they took longer), so nothing decided the winner in
    advance; then both submit while a third connection holds the location's row lock (step 1
    of the lock order, the first thing every booking takes), and the test waits until both
    requests are queued on that lock inside their transactions, past every check that comes
    before it. Letting go of the lock lets them run at once; PostgreSQL's lock queue picks the
    winner, which the test does not presume: it asserts that exactly one won, whichever it was.
    """
    clinic = make_location("racing", chairs=1, nurses=1, shifts_from=timezone.localdate())
    clinic.self_booking = True
    clinic.save()
    online = approved_plan("online.racer@example.org", clinic, infusions=1)
    phoned = approved_plan("phoned.racer@example.org", clinic, infusions=1)
    UserFactory.create(role=Role.FRONT_DESK, email="desk.racer@example.org")
    day = _race_day()

    # The desk, signed in with its second factor, plans the series of the patient who phoned.
    browser_sign_in(page, "desk.racer@example.org")
    page.goto(reverse("scheduling:plan", args=[phoned.public_id]))
    page.get_by_label("First possible date").fill(day.isoformat())
    page.get_by_role("button", name="Propose sessions").click()
    page.wait_for_selector("#session_1")
    desk_page = page

    # The patient, in another browser, asks for the same morning online.
    patient_context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    patient_context.set_default_timeout(10_000)
    patient_page = patient_context.new_page()
    browser_sign_in(patient_page, "online.racer@example.org")
    patient_page.goto(reverse("scheduling:self_book"))
    patient_page.get_by_label("First possible date").fill(day.isoformat())
    patient_page.get_by_role("button", name="Show me times").click()
    patient_page.wait_for_selector("#session_1")

    wanted = f"{day:%Y-%m-%d}T09:00"
    assert _proposed(desk_page) == _proposed(patient_page) == wanted
    chair = clinic.chairs.get()

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        with transaction.atomic():
            Location.objects.select_for_update().get(pk=clinic.pk)
            submits = {
                "desk": desk_page.get_by_role("button", name="Book all 1 sessions"),
                "patient": patient_page.get_by_role("button", name="Book my infusions"),
            }
            for side in (first, *(set(submits) - {first})):
                submits[side].click(no_wait_after=True)
            _wait_until_both_wait_on_the_lock()
        # Committed: the lock is free and both bookings go on at once.
        outcome = "text=/Booked 1 sessions|taken meanwhile|taken by someone else/"
        desk_page.wait_for_selector(outcome)
        patient_page.wait_for_selector(outcome)

    desk_won = "Booked 1 sessions" in desk_page.content()
    patient_won = "Booked 1 sessions" in patient_page.content()
    assert desk_won != patient_won, "exactly one of the two must win"
    loser = patient_page if desk_won else desk_page
    screenshot(loser, f"booking-race-loser-{'patient' if desk_won else 'desk'}")
    text = loser.content()
    if desk_won:
        assert "Session 1 was just taken by someone else, so nothing was booked." in text
        assert "Here is a fresh proposal." in text
    else:
        assert (
            "Session 1 was taken meanwhile; nothing was booked. Here is a fresh proposal." in text
        )
    # The fresh alternatives no longer offer the taken time.
    fresh = _proposed(loser)
    options = loser.locator("select#session_1 option, input[name=session_1]").evaluate_all(
        "els => els.map(e => e.value)"
    )
    assert fresh != wanted and wanted not in options

    # The database holds exactly one booking of that chair at that time, the winner's.
    taken = dt.datetime.combine(day, dt.time(9), tzinfo=clinic.zone)
    booked = Session.objects.active().filter(chair=chair, starts_at=taken)
    assert booked.count() == 1
    winner = phoned if desk_won else online
    assert booked.get().patient == winner.patient
    assert Series.objects.filter(location=clinic).count() == 1
    patient_context.close()
