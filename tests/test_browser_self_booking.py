"""A patient books their own series in Chromium, moves and cancels a session, and is told to
call for a late cancellation (docs/product-rules.md#booking-online)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from scheduling.models import Series, Status
from tests.conftest import browser_sign_in, screenshot
from tests.scheduling_data import approved_plan, make_location
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_books_moves_and_cancels_online_and_a_late_cancellation_is_refused(page):
    stamford = make_location("stamford", shifts_from=timezone.localdate(), shift_days=90)
    stamford.self_booking = True
    stamford.phone = "+1 203 555 0142"
    stamford.save()
    # Approved by a clinician: the patient may now book online.
    plan = approved_plan("self.patient@example.org", stamford)

    browser_sign_in(page, "self.patient@example.org")
    page.goto("/sessions/")
    page.get_by_role("link", name="Book my infusions, or move or cancel one").click()
    page.get_by_role("link", name="Book my infusions").click()
    page.wait_for_url("**/my-series/book/")
    assert "Stamford — Eastern time (E" in page.get_by_label("Clinic").inner_text()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Show me times").click()
    page.wait_for_selector("#session_1")
    assert page.locator("[data-testid^=proposed-]").count() == plan.infusions
    assert "We keep these times for you for 10 minutes" in page.content()
    assert axe_violations(page) == []
    screenshot(page, "self-booking-proposal")
    page.get_by_role("button", name="Book my infusions").click()
    page.wait_for_url("**/my-series/")
    assert f"Booked {plan.infusions} sessions" in page.content()

    series = Series.objects.get(patient=plan.patient)
    assert series.booked_by == plan.patient
    sessions = list(series.sessions.order_by("number"))
    assert len(sessions) == plan.infusions

    # Move the second session to 14:00 the same day.
    second = sessions[1]
    item = page.get_by_test_id("self-session-2")
    item.locator("summary").click()
    item.get_by_label("New date").fill(second.local_start().date().isoformat())
    item.get_by_label(f"New time — {second.zone_label}").fill("14:00")
    item.get_by_role("button", name="Move appointment 2").click()
    # The page posts from /my-series/ back to it: waiting for the URL would not wait at all.
    expect(page.get_by_text("Appointment 2 is moved.")).to_be_visible()
    second.refresh_from_db()
    assert second.local_start().time() == dt.time(14)
    assert second.moved_by == plan.patient

    # Cancel the last one, well inside the policy.
    last = sessions[-1]
    item = page.get_by_test_id(f"self-session-{last.number}")
    item.locator("summary").click()
    item.get_by_role("button", name=f"Cancel appointment {last.number}").click()
    # It asks first, in a dialog.
    page.get_by_role("dialog").get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_text(f"Appointment {last.number} is cancelled.")).to_be_visible()
    last.refresh_from_db()
    assert last.status == Status.CANCELLED
    assert axe_violations(page) == []

    # Five hours before the first session, cancelling online is refused with the phone.
    first = sessions[0]
    with time_machine.travel(first.starts_at - dt.timedelta(hours=5)):
        page.reload()
        item = page.get_by_test_id("self-session-1")
        item.locator("summary").click()
        assert "too soon to cancel online" in item.inner_text()
        with page.expect_navigation():  # from /my-series/ back to it
            item.get_by_role("button", name="Try to cancel appointment 1").click()
        content = page.content()
        screenshot(page, "self-booking-late-cancel")
    assert "too soon to cancel online" in content
    assert "+1 203 555 0142" in content
    first.refresh_from_db()
    assert first.status == Status.BOOKED


def test_a_series_booked_online_is_requested_until_the_desk_confirms_it_in_the_browser(
    page, browser, live_server
):
    from accounts.models import Role
    from scheduling import self_booking, services
    from tests.factories import UserFactory

    westport = make_location("westport", shifts_from=timezone.localdate(), shift_days=60)
    westport.self_booking = True
    westport.self_booking_desk_confirms = True
    westport.save()
    plan = approved_plan("requested.patient@example.org", westport, infusions=2)
    first = self_booking.earliest_first_date(westport) + dt.timedelta(days=1)
    while first.weekday() > 2:
        first += dt.timedelta(days=1)
    series = self_booking.book_own_series(
        plan.patient,
        westport,
        [
            services.Choice(first, dt.time(10)),
            services.Choice(first + dt.timedelta(days=2), dt.time(10)),
        ],
    )
    UserFactory.create(role=Role.FRONT_DESK, email="desk.confirms@example.org")

    patient_context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    patient_page = patient_context.new_page()
    browser_sign_in(patient_page, "requested.patient@example.org")
    patient_page.goto("/my-series/")
    assert (
        "the clinic will confirm them" in patient_page.get_by_test_id("awaiting-desk").inner_text()
    )
    assert (
        "Requested — the clinic will confirm"
        in patient_page.get_by_test_id("self-session-1").inner_text()
    )
    assert axe_violations(patient_page) == []

    browser_sign_in(page, "desk.confirms@example.org")
    page.get_by_role("link", name="Confirm or decline").click()
    page.wait_for_url("**/desk/series/**")
    assert "awaiting your confirmation" in page.get_by_test_id("awaiting-desk").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "series-awaiting-desk")
    with page.expect_navigation():  # from the series page back to it
        page.get_by_role("button", name="Confirm the series").click()
    assert "Confirmed. The patient gets the confirmation" in page.content()
    series.refresh_from_db()
    assert series.awaiting_desk_since is None

    patient_page.reload()
    assert "Booked" in patient_page.get_by_test_id("self-session-1").inner_text()
    patient_context.close()
