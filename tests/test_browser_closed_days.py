"""Closed days in Chromium (docs/roles/front-desk.md#closed-days): a closure added over booked
sessions opens the desk's task, whose one step moves each session off the closed day; a series
planned across Thanksgiving and Christmas at a Connecticut location lands around them."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from locations.models import Closure
from notifications.models import Message
from scheduling import services
from scheduling.models import Series, Session, Status
from tests.conftest import browser_sign_in
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.test_browser_intake import axe_violations
from worklist.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _next_weekday_holiday(name: str) -> dt.date:
    """The next Connecticut holiday of that name falling on a weekday at least a week ahead and
    within the planner's year (a first date must be): Christmas on a Saturday is observed on the
    Friday before, so the day the clinic closes is what the series must avoid."""
    today = timezone.localdate()
    days = holidays.country_holidays("US", subdiv="CT", years=[today.year, today.year + 1])
    return min(
        day
        for day, label in days.items()
        if name in label
        and day.weekday() < 5
        and today + dt.timedelta(days=7) <= day <= today + dt.timedelta(days=360)
    )


def _connecticut(shifts_from: dt.date, days: int):
    return make_location(
        "stamford",
        chairs=4,
        nurses=3,
        shifts_from=shifts_from,
        shift_days=days,
        holiday_country="US",
        holiday_subdivision="CT",
    )


def test_a_closure_added_in_the_browser_moves_the_booked_sessions_through_the_desks_task(
    page, browser, live_server
):
    today = timezone.localdate()
    stamford = _connecticut(today, 42)
    storm_day = today + dt.timedelta(days=10)
    while storm_day.weekday() >= 5 or stamford.hours_on(storm_day) is None:
        storm_day += dt.timedelta(days=1)
    desk_user = UserFactory.create(role=Role.FRONT_DESK, email="closure.desk@example.org")
    booked = []
    for n, hour in enumerate([9, 11]):
        plan = approved_plan(f"storm{n}@example.org", stamford, infusions=1)
        series = services.book_series(
            plan, stamford, [services.Choice(storm_day, dt.time(hour))], booked_by=desk_user
        )
        booked.append(series.sessions.get())
    UserFactory.create(role=Role.CLINIC_ADMIN, email="closure.admin@example.org")
    messages_before = Message.objects.count()

    browser_sign_in(page, "closure.admin@example.org")
    page.goto(reverse("scheduling:closed_days", args=[stamford.slug]))
    page.get_by_label("First day closed").fill(storm_day.isoformat())
    page.get_by_label("Last day closed").fill(storm_day.isoformat())
    page.get_by_label("Reason").fill("Snow")
    page.get_by_role("button", name="Add the closure").click()
    page.wait_for_load_state()
    assert Closure.objects.filter(location=stamford, starts_on=storm_day).exists()

    desk = browser.new_context(base_url=live_server.url, reduced_motion="reduce").new_page()
    browser_sign_in(desk, "closure.desk@example.org")
    desk.goto(reverse("scheduling:desk_tasks"))
    (task,) = Task.objects.filter(cause="closed_day", status="open")
    desk.locator(f'a[href="{task.link}"]').first.click()
    desk.wait_for_load_state()
    assert "Snow" in desk.content()
    assert axe_violations(desk) == []
    desk.get_by_role("button", name="Move the ticked sessions").click()
    desk.wait_for_load_state()

    for session in booked:
        session.refresh_from_db()
        assert session.status == Status.BOOKED
        assert session.local_start().date() != storm_day
        assert stamford.hours_on(session.local_start().date()) is not None
    assert Message.objects.count() > messages_before  # the patients are told, as for any move
    task.refresh_from_db()
    assert task.status == "done"
    desk.context.close()


@pytest.mark.parametrize("name", ["Thanksgiving", "Christmas"])
def test_a_series_planned_across_a_holiday_in_the_browser_lands_around_it(page, name):
    holiday = _next_weekday_holiday(name)
    first_date = holiday - dt.timedelta(days=3)
    stamford = _connecticut(first_date - dt.timedelta(days=7), 70)
    plan = approved_plan("holiday.patient@example.org", stamford)
    UserFactory.create(role=Role.FRONT_DESK, email="holiday.desk@example.org")

    browser_sign_in(page, "holiday.desk@example.org")
    page.goto(reverse("scheduling:plan", args=[plan.public_id]))
    page.get_by_label("First possible date").fill(first_date.isoformat())
    for weekday in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.get_by_label(weekday).check()
    page.get_by_role("button", name="Propose sessions").click()
    page.wait_for_selector("#session_1")
    page.get_by_role("button", name=f"Book all {plan.infusions} sessions").click()
    page.wait_for_url("**/desk/series/**")

    series = Series.objects.get(patient=plan.patient)
    dates = [s.local_start().date() for s in Session.objects.filter(series=series)]
    assert len(dates) == plan.infusions
    assert min(dates) < holiday < max(dates), "the series spans the holiday"
    assert holiday not in dates
    assert not set(dates) & set(stamford.public_holidays(min(dates), max(dates)))
