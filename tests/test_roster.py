"""Settings → Roster: clinic admins lay out nurse shifts per location in a week grid, in the
location's own time, under the database's rule that a nurse is never on two shifts at once
(docs/roles/clinic-admin.md#the-roster)."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from locations.models import Closure, NurseShift
from tests.factories import UserFactory
from tests.scheduling_data import make_location

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 3, 8)  # the week whose Sunday clocks go forward in New York
DST_SUNDAY = dt.date(2027, 3, 14)
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _early_march():
    with time_machine.travel(dt.datetime(2027, 3, 1, 15, tzinfo=UTC)):
        yield


@pytest.fixture
def stamford():
    return make_location("stamford", nurses=0)


@pytest.fixture
def greenwich():
    return make_location("greenwich", nurses=0)


@pytest.fixture
def nurse(stamford):
    user = UserFactory.create(
        role=Role.NURSE, first_name="Ana", last_name="Reyes", email="ana@example.org"
    )
    user.locations.add(stamford)
    return user


@pytest.fixture
def admin(login):
    return login(UserFactory.create(role=Role.CLINIC_ADMIN))


def roster(location, week: dt.date | None = None) -> str:
    url = reverse("scheduling:roster", args=[location.slug])
    return f"{url}?week={week.isoformat()}" if week else url


def shift(location, nurse, day: dt.date, starts: int = 8, ends: int = 18) -> NurseShift:
    return NurseShift.objects.create(
        location=location,
        nurse=nurse,
        starts_at=dt.datetime.combine(day, dt.time(starts), tzinfo=location.zone),
        ends_at=dt.datetime.combine(day, dt.time(ends), tzinfo=location.zone),
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def add(client, location, nurse, day: dt.date, starts: str = "08:00", ends: str = "18:00"):
    return client.post(
        roster(location, day),
        {"nurse": nurse.pk, "day": day.isoformat(), "starts": starts, "ends": ends},
    )


def test_the_week_grid_shows_each_shift_in_local_time_with_the_zone_and_closed_days(
    admin, stamford, nurse
):
    shift(stamford, nurse, MONDAY + dt.timedelta(days=1))
    Closure.objects.create(location=stamford, starts_on=MONDAY, ends_on=MONDAY, reason="Training")

    response = admin.get(roster(stamford, MONDAY + dt.timedelta(days=3)))

    page = text(response)
    assert response.status_code == 200
    assert "Ana Reyes" in page
    assert "08:00–18:00" in page
    assert "Eastern time (EST)" in page
    assert "Training" in page
    assert f"week={(MONDAY - dt.timedelta(days=7)).isoformat()}" in page
    assert f"week={(MONDAY + dt.timedelta(days=7)).isoformat()}" in page


def test_an_admin_adds_a_shift_stored_in_utc_from_the_locations_zone(admin, stamford, nurse):
    day = MONDAY + dt.timedelta(days=2)

    response = add(admin, stamford, nurse, day)

    assert response.status_code == 302
    assert response["Location"] == roster(stamford, MONDAY)
    saved = NurseShift.objects.get()
    assert saved.location == stamford
    assert saved.nurse == nurse
    assert saved.starts_at == dt.datetime(2027, 3, 10, 13, tzinfo=UTC)
    assert saved.ends_at == dt.datetime(2027, 3, 10, 23, tzinfo=UTC)
    assert "08:00–18:00" in text(admin.get(roster(stamford, MONDAY)))


def test_it_refuses_a_shift_that_ends_before_it_starts(admin, stamford, nurse):
    response = add(admin, stamford, nurse, MONDAY, starts="18:00", ends="08:00")

    assert response.status_code == 200
    assert "The shift must end after it starts." in text(response)
    assert not NurseShift.objects.exists()


def test_it_refuses_a_nurse_of_another_location(admin, stamford, greenwich):
    elsewhere = UserFactory.create(role=Role.NURSE)
    elsewhere.locations.add(greenwich)

    response = add(admin, stamford, elsewhere, MONDAY)

    assert response.status_code == 200
    assert not NurseShift.objects.exists()


def test_it_refuses_a_shift_overlapping_the_nurses_shift_at_another_location(
    admin, stamford, greenwich, nurse
):
    nurse.locations.add(greenwich)
    shift(greenwich, nurse, MONDAY, starts=7, ends=15)

    response = add(admin, stamford, nurse, MONDAY)

    page = text(response)
    assert response.status_code == 200
    assert (
        "Ana Reyes is already on a shift at Greenwich on Mon 8 Mar, 07:00–15:00; "
        "nothing was changed." in page
    )
    assert list(NurseShift.objects.values_list("location__slug", flat=True)) == ["greenwich"]


def test_a_shift_on_the_day_clocks_change_reads_back_as_entered(admin, stamford, nurse):
    monday_after = DST_SUNDAY + dt.timedelta(days=1)
    add(admin, stamford, nurse, DST_SUNDAY)
    add(admin, stamford, nurse, monday_after)

    sunday, monday = NurseShift.objects.order_by("starts_at")
    assert sunday.starts_at == dt.datetime(2027, 3, 14, 12, tzinfo=UTC)  # 08:00 EDT
    assert sunday.ends_at - sunday.starts_at == dt.timedelta(hours=10)
    assert monday.starts_at == dt.datetime(2027, 3, 15, 12, tzinfo=UTC)
    for week in (MONDAY, monday_after):
        assert "08:00–18:00" in text(admin.get(roster(stamford, week)))


def test_it_refuses_a_time_the_clocks_skip(admin, stamford, nurse):
    response = add(admin, stamford, nurse, DST_SUNDAY, starts="02:30", ends="06:00")

    assert response.status_code == 200
    assert "does not exist" in text(response)
    assert not NurseShift.objects.exists()


def test_moving_a_shift_changes_its_day_and_times(admin, stamford, nurse):
    moved = shift(stamford, nurse, MONDAY)
    url = reverse("scheduling:roster_shift", args=[stamford.slug, moved.pk])

    form = admin.get(url)
    response = admin.post(
        url,
        {"day": (MONDAY + dt.timedelta(days=1)).isoformat(), "starts": "09:30", "ends": "17:00"},
    )

    assert form.status_code == 200
    assert 'value="08:00"' in text(form)
    assert response.status_code == 302
    moved.refresh_from_db()
    assert moved.starts_at == dt.datetime(2027, 3, 9, 14, 30, tzinfo=UTC)
    assert moved.ends_at == dt.datetime(2027, 3, 9, 22, tzinfo=UTC)


def test_moving_a_shift_onto_another_of_the_nurses_shifts_is_refused(admin, stamford, nurse):
    moved = shift(stamford, nurse, MONDAY)
    shift(stamford, nurse, MONDAY + dt.timedelta(days=1), starts=12, ends=20)
    url = reverse("scheduling:roster_shift", args=[stamford.slug, moved.pk])

    response = admin.post(
        url,
        {"day": (MONDAY + dt.timedelta(days=1)).isoformat(), "starts": "08:00", "ends": "13:00"},
    )

    assert response.status_code == 200
    assert "already on a shift at Stamford on Tue 9 Mar, 12:00–20:00" in text(response)
    moved.refresh_from_db()
    assert moved.starts_at == dt.datetime(2027, 3, 8, 13, tzinfo=UTC)


def test_deleting_a_shift_asks_first(admin, stamford, nurse):
    doomed = shift(stamford, nurse, MONDAY)
    url = reverse("scheduling:roster_delete", args=[stamford.slug, doomed.pk])

    question = admin.get(url)
    assert question.status_code == 200
    assert "Delete Ana Reyes's shift on Mon 8 Mar, 08:00–18:00?" in text(question)
    assert NurseShift.objects.exists()

    response = admin.post(url)

    assert response.status_code == 302
    assert response["Location"] == roster(stamford, MONDAY)
    assert not NurseShift.objects.exists()


def test_a_shift_is_found_only_at_its_own_location(admin, stamford, greenwich, nurse):
    other = shift(greenwich, nurse, MONDAY)

    response = admin.post(reverse("scheduling:roster_delete", args=[stamford.slug, other.pk]))

    assert response.status_code == 404
    assert NurseShift.objects.exists()


def test_copying_a_week_skips_the_shifts_that_would_overlap(admin, stamford, greenwich, nurse):
    other = UserFactory.create(role=Role.NURSE, first_name="Ben", last_name="Okafor")
    other.locations.add(stamford, greenwich)
    shift(stamford, nurse, MONDAY)
    shift(stamford, nurse, DST_SUNDAY)  # copied onto the next Sunday, still 08:00–18:00
    shift(stamford, other, MONDAY + dt.timedelta(days=2))
    shift(greenwich, other, MONDAY + dt.timedelta(days=9), starts=16, ends=22)  # the clash

    response = admin.post(
        reverse("scheduling:roster_copy", args=[stamford.slug]), {"week": MONDAY.isoformat()}
    )

    assert response.status_code == 302
    next_week = MONDAY + dt.timedelta(days=7)
    assert response["Location"] == roster(stamford, next_week)
    page = text(admin.get(response["Location"]))
    assert "Copied 2 shifts to the week of Mon 15 Mar; skipped 1 that would overlap" in page
    copies = NurseShift.objects.filter(
        location=stamford, starts_at__gte=dt.datetime(2027, 3, 15, tzinfo=UTC)
    )
    assert sorted(
        (s.starts_at.astimezone(stamford.zone).isoformat(), s.ends_at - s.starts_at) for s in copies
    ) == [
        ("2027-03-15T08:00:00-04:00", dt.timedelta(hours=10)),
        ("2027-03-21T08:00:00-04:00", dt.timedelta(hours=10)),
    ]


@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE, Role.CLINICIAN, Role.FRONT_DESK])
def test_only_clinic_admins_open_the_roster(login, stamford, nurse, role):
    client = login(UserFactory.create(role=role))
    shifted = shift(stamford, nurse, MONDAY)

    assert client.get(roster(stamford)).status_code == 403
    assert add(client, stamford, nurse, MONDAY + dt.timedelta(days=1)).status_code == 403
    delete = reverse("scheduling:roster_delete", args=[stamford.slug, shifted.pk])
    assert client.post(delete).status_code == 403
    assert NurseShift.objects.count() == 1


def test_the_roster_reads_in_the_same_number_of_queries_however_full(admin, stamford, nurse):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(roster(stamford, MONDAY)).status_code == 200
        return len(captured)

    shift(stamford, nurse, MONDAY)
    few = queries()
    for _ in range(6):
        more = UserFactory.create(role=Role.NURSE)
        more.locations.add(stamford)
        for day in range(7):
            shift(stamford, more, MONDAY + dt.timedelta(days=day))
    Closure.objects.create(location=stamford, starts_on=MONDAY, ends_on=MONDAY + dt.timedelta(3))

    assert queries() == few


def test_a_week_that_is_no_date_shows_this_week(admin, stamford):
    response = admin.get(reverse("scheduling:roster", args=[stamford.slug]), {"week": "x"})

    assert response.status_code == 200
    assert f"week={dt.date(2027, 3, 8).isoformat()}" in text(response)
