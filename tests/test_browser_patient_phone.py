"""What patients saw on their phones (390 and 320 px wide) in Chromium: nothing they need is cut
off or pushed off the screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from scheduling.models import Series
from tests.conftest import browser_sign_in, screenshot
from tests.scheduling_data import approved_plan, make_location

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONES = [390, 320]

# For each session, what shows its chosen start, and whether that text fits inside it: an open
# <select> shows one line and cuts the rest, so its text is measured against its inner width.
CHOSEN_STARTS = """
() => Array.from(document.querySelectorAll(
  '[data-testid=proposal] tbody tr, [data-testid^=proposed-]'
)).map((row) => {
  const select = row.querySelector('select');
  if (select) {
    const text = select.options[select.selectedIndex].text;
    const style = getComputedStyle(select);
    const context = document.createElement('canvas').getContext('2d');
    context.font = style.font;
    const room = select.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight);
    return {text, fits: context.measureText(text).width <= room};
  }
  const label = row.querySelector('input:checked + label');
  if (!label) return {text: '', fits: false};
  const box = label.getBoundingClientRect();
  return {
    text: label.innerText,
    fits: label.scrollWidth <= label.clientWidth && box.right <= window.innerWidth,
  };
})
"""


def _document_fits() -> str:
    return "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width", PHONES)
def test_on_a_phone_each_proposed_session_shows_its_whole_date_and_time(page: Any, width: int):
    stamford = make_location("stamford", shifts_from=timezone.localdate(), shift_days=90)
    stamford.self_booking = True
    stamford.save()
    plan = approved_plan("phone.patient@example.org", stamford, infusions=3)
    page.set_viewport_size({"width": width, "height": 844})

    browser_sign_in(page, "phone.patient@example.org")
    page.goto("/my-series/book/")
    page.get_by_role("button", name="Show me times").click()
    page.wait_for_selector("[data-testid=proposal]")
    starts = page.evaluate(CHOSEN_STARTS)
    screenshot(page, f"self-booking-proposal-{width}")

    assert len(starts) == plan.infusions
    for start in starts:
        assert start["fits"], start
        assert " AM" in start["text"] or " PM" in start["text"], start
    assert page.evaluate(_document_fits())
    # Nothing is booked by looking.
    assert not Series.objects.filter(patient=plan.patient).exists()


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("width", PHONES)
def test_on_a_phone_the_symptom_severity_buttons_wrap_inside_the_screen(
    page: Any, width: int, language: str
):
    from accounts.models import Role
    from intake.models import Intake
    from intake.samples import fill_intake
    from tests.factories import UserFactory

    make_location("stamford", shifts_from=timezone.localdate(), shift_days=1)
    patient = UserFactory.create(role=Role.PATIENT, email=f"sss.{language}{width}@example.org")
    intake = fill_intake(patient)
    page.set_viewport_size({"width": width, "height": 844})

    browser_sign_in(page, patient.email)
    page.goto(f"/intake/{intake.public_id}/fibromyalgia/")
    if language == "es":
        with page.expect_navigation():
            page.get_by_role("button", name="Español").click()
    buttons = page.locator(".scale-buttons label")
    buttons.first.wait_for()
    screenshot(page, f"severity-buttons-{language}-{width}")
    fits = page.evaluate(_document_fits())
    widest = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll('.scale-buttons label'))"
        ".map((b) => b.getBoundingClientRect().right))"
    )

    assert page.locator("html").get_attribute("lang") == language
    assert buttons.count() > 4
    assert fits
    assert widest <= width
    assert Intake.objects.get(pk=intake.pk).is_draft


def test_on_a_phone_the_move_form_accepts_the_patients_own_time_on_the_planners_grid(page: Any):
    from scheduling import self_booking, services
    from scheduling.planner import SLOT_MINUTES

    stamford = make_location("stamford", shifts_from=timezone.localdate(), shift_days=60)
    stamford.self_booking = True
    stamford.save()
    plan = approved_plan("grid.phone@example.org", stamford, infusions=1)
    first = self_booking.earliest_first_date(stamford) + dt.timedelta(days=1)
    while first.weekday() > 4:
        first += dt.timedelta(days=1)
    series = self_booking.book_own_series(
        plan.patient, stamford, [services.Choice(first, dt.time(10, 40))]
    )
    page.set_viewport_size({"width": 390, "height": 844})

    browser_sign_in(page, "grid.phone@example.org")
    page.goto("/my-series/")
    item = page.get_by_test_id("self-session-1")
    item.locator("summary").click()
    field = item.locator("input[type=time][name=time]")
    field.fill("10:40")

    assert field.get_attribute("step") == str(SLOT_MINUTES * 60)
    assert field.evaluate("(input) => input.checkValidity()")
    assert series.sessions.get().local_start().time() == dt.time(10, 40)
