"""The front desk plans, adjusts and books a series in Chromium; the patient sees it, gets .ics."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from icalendar import Calendar

from accounts.models import Role
from scheduling.models import Series
from tests.conftest import browser_sign_in, screenshot
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str) -> None:
    browser_sign_in(page, email)


def test_the_desk_plans_adjusts_and_books_a_series_the_patient_then_sees(
    page, browser, live_server
):
    stamford = make_location("stamford", shifts_from=timezone.localdate())
    plan = approved_plan("series.patient@example.org", stamford)
    UserFactory.create(role=Role.FRONT_DESK, email="desk.browser@example.org")

    sign_in(page, "desk.browser@example.org")
    page.wait_for_url("**/desk/")
    page.get_by_role("link", name="Plan the series").click()
    page.get_by_role("button", name="Propose sessions").click()
    page.wait_for_selector("#session_1")
    assert page.locator("select[id^=session_]").count() == plan.infusions
    assert axe_violations(page) == []

    # Change the third session to its first alternative.
    third = page.locator("#session_3")
    alternative = third.locator("option").nth(1)
    chosen = alternative.get_attribute("value")
    third.select_option(chosen)
    screenshot(page, "plan-series")
    page.get_by_role("button", name=f"Book all {plan.infusions} sessions").click()
    page.wait_for_url("**/desk/series/**")
    assert f"Booked {plan.infusions} sessions" in page.content()

    series = Series.objects.get(patient=plan.patient)
    sessions = list(series.sessions.order_by("number"))
    assert len(sessions) == plan.infusions
    local = sessions[2].local_start()
    assert local.strftime("%Y-%m-%dT%H:%M") == chosen

    page.get_by_role("link", name="See the first day on the chairs view").click()
    grid = page.get_by_test_id("day-grid")
    assert "Avery Testperson" in grid.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "day-view")

    patient_context = browser.new_context(
        base_url=live_server.url, reduced_motion="reduce", accept_downloads=True
    )
    patient_page = patient_context.new_page()
    sign_in(patient_page, "series.patient@example.org")
    patient_page.get_by_role("link", name="My appointments").click()
    listing = patient_page.get_by_test_id("my-sessions").inner_text()
    first_local = sessions[0].local_start()
    assert first_local.strftime("%-d %B %Y") in listing
    assert "Eastern time (E" in listing and "America/" not in listing
    assert axe_violations(patient_page) == []
    with patient_page.expect_download() as download_info:
        patient_page.get_by_role("link", name="Add to calendar").first.click()
    body = Path(download_info.value.path()).read_bytes()
    (event,) = Calendar.from_ical(body).walk("VEVENT")  # as a calendar app reads it
    assert event.decoded("DTSTART") == sessions[0].starts_at
    assert b"Avery" not in body
    patient_context.close()
