"""The desk's calendar in Chromium (docs/roles/front-desk.md#the-desks-calendar): booking by
clicking an empty slot, moving by dragging (accepted, or refused with the reason) and by the
keyboard, two desks moving one session, and axe on the day and week at desktop and tablet
widths."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from scheduling import services
from scheduling.models import Session
from tests.conftest import browser_sign_in, screenshot
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


TALL = {"width": 1280, "height": 2000}


def _monday() -> dt.date:
    """A Monday one to two weeks ahead: its Wednesday is in the same week."""
    day = timezone.localdate() + dt.timedelta(days=7)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _world(series: bool = True):
    stamford = make_location("stamford", shifts_from=timezone.localdate(), shift_days=28)
    monday = _monday()
    plan = approved_plan("calendar.patient@example.org", stamford, infusions=2, min_days_between=2)
    UserFactory.create(
        role=Role.FRONT_DESK, email="desk.one@example.org", first_name="Ana", last_name="First"
    )
    UserFactory.create(role=Role.FRONT_DESK, email="desk.two@example.org")
    if not series:
        return stamford, monday, plan, None
    booked = services.book_series(
        plan,
        stamford,
        [
            services.Choice(monday, dt.time(10)),
            services.Choice(monday + dt.timedelta(days=2), dt.time(10)),
        ],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    return stamford, monday, plan, booked


def _chair(location, number: int) -> int:
    return location.chairs.get(name=f"Chair {number}").pk


def _slot(page, location, chair: int, time: str):
    """The free cell of a chair at a time (its booking link names both)."""
    return page.locator("td.free").filter(
        has=page.locator(f'a[href$="?chair={_chair(location, chair)}&time={time}"]')
    )


def test_the_desk_books_a_session_by_clicking_an_empty_slot(page):
    stamford, monday, plan, _ = _world(series=False)
    browser_sign_in(page, "desk.one@example.org")
    page.goto(f"/desk/stamford/day/{monday.isoformat()}/")

    page.get_by_role("link", name="Book Chair 2 at 11:00").click()
    page.get_by_label("Find a patient with an approved plan").fill("calendar.patient")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Book session 1 here").click()

    expect(
        page.get_by_text("Booked session 1 for Avery Testperson at 11:00 in Chair 2.")
    ).to_be_visible()
    cell = page.locator(f'td.block[data-chair="{_chair(stamford, 2)}"][data-time="11:00"]')
    expect(cell).to_contain_text("Avery Testperson")
    expect(cell).to_contain_text("1/2")
    session = Session.objects.get(patient=plan.patient)
    assert session.chair_id == _chair(stamford, 2)
    assert session.local_start().time() == dt.time(11)


def test_the_desk_drags_a_session_to_another_chair_and_time_and_is_told_when_spacing_refuses(
    page,
):
    stamford, monday, _plan, series = _world()
    first = series.sessions.get(number=1)
    # The whole day in view: a drag that scrolls the page on its way moves from another place.
    page.set_viewport_size(TALL)
    browser_sign_in(page, "desk.one@example.org")
    page.goto(f"/desk/stamford/day/{monday.isoformat()}/")

    target = _slot(page, stamford, 3, "13:00")
    page.locator(f'a[href="/desk/sessions/{first.public_id}/"]').drag_to(target)

    expect(page.get_by_text("Moved 1 session.")).to_be_visible()
    moved = page.locator(f'td.block[data-chair="{_chair(stamford, 3)}"][data-time="13:00"]')
    expect(moved).to_contain_text("Avery Testperson")
    first.refresh_from_db()
    assert (first.chair_id, first.local_start().time()) == (_chair(stamford, 3), dt.time(13))

    # In the week, session 2 dragged to Tuesday: one day after session 1, the plan needs two.
    page.goto(f"/desk/stamford/week/{monday.isoformat()}/")
    second = series.sessions.get(number=2)
    tuesday = monday + dt.timedelta(days=1)
    page.locator(f'a[href="/desk/sessions/{second.public_id}/"]').drag_to(
        page.locator(f'td.week-cell[data-date="{tuesday.isoformat()}"]').first
    )
    expect(
        page.get_by_text("Session 2 is 1 day after the one before; the plan needs 2 to")
    ).to_be_visible()
    screenshot(page, "calendar-week-refused")
    second.refresh_from_db()
    assert second.local_start().date() == monday + dt.timedelta(days=2)


def test_the_desk_moves_a_session_with_the_keyboard(page):
    stamford, monday, _plan, series = _world()
    first = series.sessions.get(number=1)
    browser_sign_in(page, "desk.one@example.org")
    page.goto(f"/desk/stamford/day/{monday.isoformat()}/")

    page.locator(f'a[href="/desk/sessions/{first.public_id}/"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/desk/sessions/{first.public_id}/")
    page.get_by_label("Time (").focus()
    page.keyboard.type("1415")
    page.get_by_label("Chair").focus()
    page.get_by_label("Chair").select_option(label="Chair 3")
    page.get_by_role("button", name="Move", exact=True).focus()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Moved 1 session.")).to_be_visible()
    first.refresh_from_db()
    assert (first.chair_id, first.local_start().time()) == (_chair(stamford, 3), dt.time(14, 15))


def test_two_desks_move_one_session_the_second_is_refused_and_sees_the_first_ones_move(
    browser, live_server, settings
):
    stamford, monday, _plan, series = _world()
    first = series.sessions.get(number=1)
    day_url = f"/desk/stamford/day/{monday.isoformat()}/"
    one = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    two = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    try:
        desk_one, desk_two = one.new_page(), two.new_page()
        for page, email in ((desk_one, "desk.one@example.org"), (desk_two, "desk.two@example.org")):
            page.set_default_timeout(10_000)
            page.set_viewport_size(TALL)
            browser_sign_in(page, email)
        desk_one.goto(day_url)
        desk_two.goto(day_url)
        watching = two.new_page()  # the second desk's calendar, left open
        watching.goto(day_url)
        desk_two.locator(f'a[href="/desk/sessions/{first.public_id}/"]').click()
        desk_two.wait_for_url(f"**/desk/sessions/{first.public_id}/")

        desk_one.locator(f'a[href="/desk/sessions/{first.public_id}/"]').drag_to(
            _slot(desk_one, stamford, 3, "14:00")
        )
        expect(desk_one.get_by_text("Moved 1 session.")).to_be_visible()

        # The other desk's open calendar shows the move within seconds, without a reload.
        moved = watching.locator(f'td.block[data-chair="{_chair(stamford, 3)}"][data-time="14:00"]')
        expect(moved).to_contain_text("Avery Testperson", timeout=15_000)
        expect(watching.get_by_role("status").filter(has_text="updated")).to_have_count(1)

        # Its move form still holds where the session was: refused, saying what changed.
        desk_two.get_by_label("Time (").fill("15:00")
        desk_two.get_by_role("button", name="Move", exact=True).click()
        expect(
            desk_two.get_by_text(f"This session was moved by Ana First to {monday:%a} ")
        ).to_contain_text("14:00")
        expect(desk_two.get_by_text("while you were looking")).to_be_visible()
        first.refresh_from_db()
        assert first.local_start().time() == dt.time(14)
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize("width", [1280, 768])
def test_the_day_and_week_calendars_have_no_axe_violations(page, width):
    _stamford, monday, _plan, series = _world()
    page.set_viewport_size({"width": width, "height": 900})
    browser_sign_in(page, "desk.one@example.org")

    page.goto(f"/desk/stamford/day/{monday.isoformat()}/")
    expect(page.get_by_test_id("day-grid")).to_contain_text("Avery Testperson")
    assert axe_violations(page) == []
    screenshot(page, f"calendar-day-{width}")
    page.goto(f"/desk/stamford/week/{monday.isoformat()}/")
    expect(page.get_by_test_id("week-grid")).to_contain_text("Avery Testperson")
    assert axe_violations(page) == []
    screenshot(page, f"calendar-week-{width}")
    page.goto(f"/desk/sessions/{series.sessions.get(number=1).public_id}/")
    assert axe_violations(page) == []
