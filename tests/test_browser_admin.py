"""The pages a clinic admin uses in Django's admin pass axe, and show shifts in local time.

Django's tabular inlines leave their inputs unlabelled (the column header is the only name) and
their delete column's header empty; the admin here uses stacked inlines, whose fields carry their
own labels. Shifts are listed in the location's zone, labelled, never in UTC.
"""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Role
from locations.models import Closure, NurseShift
from tests.conftest import browser_sign_in
from tests.factories import ChairFactory, LocationFactory, OpeningHoursFactory, UserFactory
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "admin.pages@example.org"


@pytest.fixture
def stamford():
    location = LocationFactory.create(
        name="Stamford, CT", slug="stamford", time_zone="America/New_York"
    )
    for weekday in range(5):
        OpeningHoursFactory.create(location=location, weekday=weekday)
    ChairFactory.create(location=location, name="Chair 1")
    Closure.objects.create(
        location=location,
        starts_on=dt.date(2026, 12, 24),
        ends_on=dt.date(2026, 12, 25),
        reason="Staff training",
    )
    return location


@pytest.fixture
def eight_to_six_shift(stamford):
    nurse = UserFactory.create(role=Role.NURSE, email="nurse.pages@example.org")
    starts = dt.datetime(2026, 12, 14, 8, tzinfo=stamford.zone)
    return NurseShift.objects.create(
        nurse=nurse,
        location=stamford,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=10),
    )


def test_every_admin_page_a_clinic_admin_uses_passes_axe(page, stamford, eight_to_six_shift):
    UserFactory.create(role=Role.CLINIC_ADMIN, email=ADMIN_EMAIL)
    browser_sign_in(page, ADMIN_EMAIL)

    page.goto("/admin/")
    links = page.locator("#content-main a[href^='/admin/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    pages = [
        *sorted(set(links)),
        f"/admin/locations/location/{stamford.pk}/change/",
        f"/admin/locations/nurseshift/{eight_to_six_shift.pk}/change/",
    ]
    assert "/admin/locations/nurseshift/" in pages

    found = {}
    for url in ["/admin/", *pages]:
        page.goto(url)
        violations = axe_violations(page)
        if violations:
            found[url] = violations
    assert found == {}, "\n".join(f"{url}: {v}" for url, v in found.items())


def test_the_shift_list_reads_in_the_locations_time_with_its_zone(
    page, stamford, eight_to_six_shift
):
    UserFactory.create(role=Role.CLINIC_ADMIN, email=ADMIN_EMAIL)
    browser_sign_in(page, ADMIN_EMAIL)

    page.goto("/admin/locations/nurseshift/")
    row = page.locator("#result_list tbody tr").first.inner_text()

    assert "8:00" in row and "18:00" in row, row
    assert "EST" in row, row
    assert "1 p.m." not in row and "13:00" not in row, row
