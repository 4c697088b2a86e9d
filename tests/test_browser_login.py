from __future__ import annotations

import pytest

from accounts.models import Role, User
from tests.conftest import current_code, screenshot
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_nurse_signs_in_with_the_keyboard_and_sees_todays_infusions(page, make_user):
    make_user(role=Role.NURSE, email="nurse.browser@example.org", first_name="Noor")

    page.goto("/login/")
    page.get_by_label("Email address").fill("nurse.browser@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")

    # Staff pass a second step: the authenticator code, typed and submitted with the keyboard.
    page.wait_for_url("**/mfa/**")
    page.get_by_label("Code").fill(
        current_code(User.objects.get(email="nurse.browser@example.org"))
    )
    page.get_by_label("Code").press("Enter")
    page.wait_for_url("**/nurse/")
    assert page.get_by_role("heading", level=1).inner_text() == "Today's infusions"
    assert page.get_by_role("navigation", name="Main").is_visible()
    assert "Noor" in page.get_by_test_id("signed-in-as").inner_text()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    screenshot(page, "nurse-home")
