"""A location's hours on a date and its "today": one rule each, in the location's own zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from locations.models import Closure, Location
from scheduling.forms import PLAN_AHEAD, PlanRequestForm
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
MONDAY = dt.date(2027, 3, 1)
# 03:00 UTC on Tuesday 2 March is still Monday 1 March, 19:00, in Irvine.
IRVINE_EVENING = dt.datetime(2027, 3, 2, 3, tzinfo=dt.UTC)


def test_a_weekday_without_opening_hours_is_closed() -> None:
    location = make_location(weekdays=range(5), nurses=0)

    assert location.hours_on(MONDAY + dt.timedelta(days=5)) is None  # Saturday
    assert location.hours_on(MONDAY + dt.timedelta(days=6)) is None  # Sunday


def test_the_hours_are_the_wall_clock_times_of_the_locations_zone() -> None:
    location = make_location(opens=dt.time(8), closes=dt.time(18), nurses=0)

    opening = location.hours_on(MONDAY)

    assert opening is not None
    assert opening.opens == dt.datetime(2027, 3, 1, 8, tzinfo=NEW_YORK)
    assert opening.opens.astimezone(dt.UTC) == dt.datetime(2027, 3, 1, 13, tzinfo=dt.UTC)
    assert opening.closes == dt.datetime(2027, 3, 1, 18, tzinfo=NEW_YORK)
    assert opening.duration == dt.timedelta(hours=10)


def test_a_closure_closes_every_day_it_covers_and_no_other() -> None:
    location = make_location(nurses=0)
    Closure.objects.create(
        location=location, starts_on=MONDAY, ends_on=MONDAY + dt.timedelta(days=1)
    )

    assert location.hours_on(MONDAY) is None
    assert location.hours_on(MONDAY + dt.timedelta(days=1)) is None
    assert location.hours_on(MONDAY + dt.timedelta(days=2)) is not None
    assert list(location.openings(MONDAY, MONDAY + dt.timedelta(days=6))) == [
        MONDAY + dt.timedelta(days=2),
        MONDAY + dt.timedelta(days=3),
        MONDAY + dt.timedelta(days=4),
    ]


def test_on_the_spring_forward_day_the_hours_keep_their_wall_clock_times() -> None:
    # 14 March 2027: New York's clocks go from 02:00 EST to 03:00 EDT.
    location = make_location(
        weekdays=range(7), opens=dt.time(1), closes=dt.time(5), nurses=0, shift_days=0
    )
    sunday = dt.date(2027, 3, 14)

    opening = location.hours_on(sunday)

    assert opening is not None
    assert opening.opens.astimezone(dt.UTC) == dt.datetime(2027, 3, 14, 6, tzinfo=dt.UTC)
    assert opening.closes.astimezone(dt.UTC) == dt.datetime(2027, 3, 14, 9, tzinfo=dt.UTC)
    assert opening.duration == dt.timedelta(hours=3)  # one hour of the night never happens
    start, end = location.day_bounds(sunday)
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=23)


@pytest.fixture
def irvine() -> Location:
    return make_location("irvine", "America/Los_Angeles", shifts_from=MONDAY)


@pytest.fixture
def evening_in_irvine() -> Iterator[None]:
    with time_machine.travel(IRVINE_EVENING, tick=False):
        yield


@pytest.mark.usefixtures("evening_in_irvine")
def test_today_at_a_location_is_its_own_date_while_utc_is_a_day_ahead(irvine: Location) -> None:
    assert dt.datetime.now(dt.UTC).date() == MONDAY + dt.timedelta(days=1)
    assert irvine.local_today() == MONDAY


def _plan_request(location: Location, first_date: dt.date) -> PlanRequestForm:
    return PlanRequestForm(
        {
            "location": location.pk,
            "first_date": first_date.isoformat(),
            "weekdays": ["0", "2"],
            "window_starts": "09:00",
            "window_ends": "12:00",
        }
    )


@pytest.mark.usefixtures("evening_in_irvine")
def test_a_series_can_start_today_at_the_location_though_utc_has_moved_on(
    irvine: Location,
) -> None:
    today = _plan_request(irvine, MONDAY)
    yesterday = _plan_request(irvine, MONDAY - dt.timedelta(days=1))

    assert today.is_valid(), today.errors
    assert not yesterday.is_valid()
    assert yesterday.errors["first_date"] == ["Choose today or a later date."]


@pytest.mark.usefixtures("evening_in_irvine")
def test_a_first_date_a_year_ahead_is_counted_from_the_locations_today(irvine: Location) -> None:
    last = _plan_request(irvine, MONDAY + PLAN_AHEAD)
    beyond = _plan_request(irvine, MONDAY + PLAN_AHEAD + dt.timedelta(days=1))

    assert last.is_valid(), last.errors
    assert not beyond.is_valid()
    assert beyond.errors["first_date"] == ["Choose a first date within the next year."]


@pytest.mark.usefixtures("evening_in_irvine")
def test_the_plan_page_proposes_the_locations_tomorrow(
    irvine: Location, login: Callable[[User], Client]
) -> None:
    plan = approved_plan("evening@example.org", irvine)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    response = desk.get(reverse("scheduling:plan", args=[plan.public_id]))

    assert response.status_code == 200
    # Tuesday in Irvine; UTC's tomorrow would be Wednesday.
    assert response.context["request_form"].initial["first_date"] == MONDAY + dt.timedelta(days=1)
