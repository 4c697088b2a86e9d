"""The desk's cancel asks in a dialog that works from the keyboard and names itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from scheduling import services
from scheduling.models import Status
from tests.conftest import browser_sign_in
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_desk_cancels_only_after_confirming_in_a_dialog(page, live_server):
    stamford = make_location("stamford", shifts_from=timezone.localdate())
    plan = approved_plan("cancel.dialog@example.org", stamford, infusions=1)
    day = stamford.local_today() + dt.timedelta(days=7)
    while stamford.hours_on(day) is None:
        day += dt.timedelta(days=1)
    session = services.book_series(
        plan,
        stamford,
        [services.Choice(day, dt.time(10))],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    ).sessions.get()
    UserFactory.create(role=Role.FRONT_DESK, email="desk.dialog@example.org")

    browser_sign_in(page, "desk.dialog@example.org")
    page.goto(f"/desk/series/{session.series.public_id}/")
    page.get_by_text("Change").click()
    trigger = page.get_by_role("button", name="Cancel session 1…")
    trigger.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cancel session 1 on")
    expect(dialog).to_be_visible()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(trigger).to_be_focused()
    session.refresh_from_db()
    assert session.status == Status.BOOKED

    trigger.click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").fill("Patient asked by phone")
    dialog.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_text("Cancelled 1 session(s).")).to_be_visible()
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == (
        Status.CANCELLED,
        "Patient asked by phone",
    )
