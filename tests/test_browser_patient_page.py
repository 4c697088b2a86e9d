"""The front desk opens a patient's page from the search in Chromium, adds a note, and axe-core
finds no serious or critical violation at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Role
from scheduling import services
from tests.conftest import browser_sign_in, screenshot
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.test_browser_intake import axe_violations
from worklist.models import Cause
from worklist.services import open_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_desk_finds_a_patient_opens_the_page_and_adds_a_note(page):
    today = dt.date.today()
    monday = today + dt.timedelta(days=14 - today.weekday())
    stamford = make_location("stamford", shifts_from=today, shift_days=30)
    plan = approved_plan("page.patient@example.org", stamford, infusions=2, min_days_between=2)
    desk = UserFactory.create(role=Role.FRONT_DESK, email="desk.page@example.org")
    services.book_series(
        plan,
        stamford,
        [
            services.Choice(monday, dt.time(10)),
            services.Choice(monday + dt.timedelta(2), dt.time(10)),
        ],
        booked_by=desk,
    )
    open_task(Cause.UNCLEAR_REPLY, f"patient:{plan.patient.pk}", subject="Avery Testperson")

    browser_sign_in(page, "desk.page@example.org")
    page.goto("/desk/search/")
    page.get_by_label("Find a patient").fill("Testperson")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Avery Testperson").click()
    page.wait_for_selector("#notes-h")
    page.get_by_label("Add a note").fill("Prefers mornings.")
    page.get_by_role("button", name="Add the note").click()
    page.wait_for_selector("[data-testid=notes]")

    assert "Prefers mornings." in page.inner_text("[data-testid=notes]")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"patient-page-{width}")
        assert axe_violations(page) == [], width
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
