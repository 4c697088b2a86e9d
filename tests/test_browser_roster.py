"""A clinic admin adds a nurse's shift through the roster's form in Chromium, and the page passes
axe at 1280 px (docs/roles/clinic-admin.md#the-roster)."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Role
from locations.models import Closure, NurseShift
from tests.conftest import browser_sign_in
from tests.factories import UserFactory
from tests.scheduling_data import make_location
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "admin.roster@example.org"


def test_an_admin_adds_a_shift_through_the_form_and_the_roster_passes_axe(page):
    stamford = make_location("stamford", nurses=0)
    nurse = UserFactory.create(role=Role.NURSE, first_name="Ana", last_name="Reyes")
    nurse.locations.add(stamford)
    today = stamford.local_today()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=14)
    Closure.objects.create(location=stamford, starts_on=monday, ends_on=monday, reason="Training")
    UserFactory.create(role=Role.CLINIC_ADMIN, email=ADMIN_EMAIL)
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_sign_in(page, ADMIN_EMAIL)

    page.goto("/")
    page.get_by_role("link", name="Roster at Stamford").click()
    page.goto(f"{page.url}?week={monday.isoformat()}")
    assert axe_violations(page) == []

    wednesday = monday + dt.timedelta(days=2)
    # The nurses' form, beside the clinicians' on the same page.
    nurses = page.get_by_role("region", name="Add a shift")
    nurses.get_by_label("Nurse").select_option(label="Ana Reyes")
    nurses.get_by_label("Day").fill(wednesday.isoformat())
    nurses.get_by_label("Starts").fill("07:30")
    nurses.get_by_label("Ends").fill("15:00")
    nurses.get_by_role("button", name="Add the shift").click()
    page.wait_for_load_state()

    assert "Added Ana Reyes's shift" in page.get_by_role("status").first.inner_text()
    row = page.get_by_role("row", name="Ana Reyes").inner_text()
    assert "07:30–15:00" in row, row
    assert "Closed: Training" in page.locator("thead").first.inner_text()
    shift = NurseShift.objects.get()
    assert shift.starts_at == dt.datetime.combine(wednesday, dt.time(7, 30), tzinfo=stamford.zone)
    assert axe_violations(page) == []
