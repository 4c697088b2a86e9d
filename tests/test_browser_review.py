"""A clinician reviews in Chromium: the queue, a summary, approval with the default plan, and a
second intake sent back for more information, which its patient then sees."""

from __future__ import annotations

import pytest

from accounts.models import Role
from intake.models import Intake
from review.models import TreatmentPlan
from tests.conftest import browser_sign_in, screenshot
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import submitted_intake
from tests.test_browser_intake import axe_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def sign_in(page, email: str) -> None:
    browser_sign_in(page, email)


def test_a_clinician_approves_one_intake_and_sends_another_back(page, browser, live_server):
    stamford = LocationFactory.create(slug="stamford", name="Stamford")
    clinician = UserFactory.create(role=Role.CLINICIAN, email="doc@example.org")
    clinician.locations.set([stamford])
    first = submitted_intake(UserFactory.create(role=Role.PATIENT, email="first@example.org"))
    second_patient = UserFactory.create(role=Role.PATIENT, email="second@example.org")
    second = submitted_intake(second_patient)

    sign_in(page, "doc@example.org")
    page.wait_for_url("**/review/")
    assert page.get_by_role("heading", name="Review queue").is_visible()
    assert axe_violations(page) == []
    page.locator(f'a[href="/review/{first.public_id}/"]').click()

    page.wait_for_url(f"**/review/{first.public_id}/")
    assert "ACR 2016 fibromyalgia criteria" in page.content()
    assert "37.4 mg" in page.get_by_test_id("dose-preview").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "review-summary")
    # The default protocol is already filled in: approve as it is.
    assert page.get_by_label("Number of infusions").input_value() == "8"
    page.get_by_role("button", name="Approve", exact=True).click()
    assert "Approved with a treatment plan" in page.content()

    page.goto("/review/")
    page.locator(f'a[href="/review/{second.public_id}/"]').click()
    page.get_by_role("button", name="Ask for more information").click()
    page.get_by_label("Height and weight").check()
    page.get_by_label("What the patient should add or check").fill(
        "Please check your weight on a scale."
    )
    page.get_by_role("button", name="Send back to the patient").click()
    assert "Sent back to the patient" in page.content()

    plan = TreatmentPlan.objects.get(patient=first.patient)
    assert (plan.infusions, str(plan.dose_mg_per_kg), plan.approved_by) == (8, "0.50", clinician)
    second.refresh_from_db()
    assert second.status == Intake.Status.MORE_INFO
    assert second.reopened_steps == ["measurements"]

    patient_context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    patient_page = patient_context.new_page()
    sign_in(patient_page, "second@example.org")
    assert (
        "Please check your weight on a scale."
        in patient_page.get_by_test_id("clinic-message").inner_text()
    )
    assert "Height and weight" in patient_page.content()
    patient_page.get_by_role("button", name="Update my answers").click()
    patient_page.wait_for_url("**/measurements/")
    screenshot(patient_page, "patient-more-info")
    patient_context.close()
