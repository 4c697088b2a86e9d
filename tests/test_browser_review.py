"""A clinician reviews in Chromium: the queue, a summary, approval with the default plan, and a
second intake sent back for more information, which its patient then sees. Also: the urgent
notice names the patient, the summary has every answer in words, the plan's indication comes
from the intake, a refused decision is audited as refused and its messages are in people's
words; once booked, the patient's home shows the next appointment and confirms it."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from audit.models import AuditEvent
from intake.models import Intake
from review.models import TreatmentPlan
from scheduling import services as scheduling
from scheduling.models import Status
from tests.conftest import browser_sign_in, screenshot
from tests.default_messages import assert_in_peoples_words
from tests.factories import UserFactory
from tests.intake_data import submitted_intake
from tests.scheduling_data import make_location
from tests.test_browser_intake import axe_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def sign_in(page, email: str) -> None:
    browser_sign_in(page, email)


def test_a_clinician_approves_one_intake_and_sends_another_back(page, browser, live_server):
    stamford = make_location(shifts_from=dt.date.today())
    clinician = UserFactory.create(role=Role.CLINICIAN, email="doc@example.org")
    clinician.locations.set([stamford])
    first = submitted_intake(
        UserFactory.create(role=Role.PATIENT, email="first@example.org"),
        changes={
            "reason": {
                "indications": ["fibromyalgia", "other"],
                "indication_other": "Migraine",
                "prior_treatments_side_effects": "Pregabalin made me dizzy",
            }
        },
    )
    urgent = submitted_intake(
        UserFactory.create(
            role=Role.PATIENT, email="urgent@example.org", first_name="Robin", last_name="Sample"
        ),
        changes={
            "about": {"legal_first_name": "Robin", "legal_last_name": "Sample"},
            "consents": {"signature": "Robin Sample"},
            "mood": {"phq9_9": "1"},
        },
    )
    second_patient = UserFactory.create(role=Role.PATIENT, email="second@example.org")
    second = submitted_intake(second_patient)

    sign_in(page, "doc@example.org")
    page.wait_for_url("**/review/")
    assert page.get_by_role("heading", name="Review queue").is_visible()
    assert axe_violations(page) == []
    notices = page.get_by_test_id("urgent-notices").inner_text()
    assert "Robin Sample" in notices and "Intake at" not in notices
    assert urgent.urgent
    page.locator(f'a[href="/review/{first.public_id}/"]').first.click()

    page.wait_for_url(f"**/review/{first.public_id}/")
    assert "ACR 2016 fibromyalgia criteria" in page.content()
    summary = page.content()
    assert "Migraine" in summary and "Pregabalin made me dizzy" in summary
    assert "132/84 mmHg, taken 1 October 2026" in summary
    assert "years · Born 12 April 1980" in page.get_by_test_id("patient-line").inner_text()
    assert page.get_by_role("heading", name="All answers").is_visible()
    assert "1to5years" not in summary and "1_to_5_years" not in summary
    # The plan's indication comes from what the patient ticked, not the template's.
    assert page.get_by_label("Indication").input_value() == "Fibromyalgia, Migraine"
    # A refused approval: messages in people's words, and the audit log says refused.
    page.get_by_label("Number of infusions").fill("0")
    page.get_by_role("button", name="Approve", exact=True).click()
    page.wait_for_load_state()
    assert_in_peoples_words(page.content(), where="refused approval")
    assert "refused" in AuditEvent.objects.filter(action="decide").latest("id").detail
    page.get_by_label("Number of infusions").fill("8")
    assert "37.4 mg" in page.get_by_test_id("dose-preview").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "review-summary")
    # The default protocol is already filled in: approve as it is.
    assert page.get_by_label("Number of infusions").input_value() == "8"
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_text("Approved with a treatment plan")).to_be_visible()

    page.goto("/review/")
    page.locator(f'a[href="/review/{second.public_id}/"]').click()
    page.get_by_role("button", name="Ask for more information").click()
    page.get_by_role("checkbox", name="Height and weight").check()
    page.get_by_label("What the patient should add or check").fill(
        "Please check your weight on a scale."
    )
    page.get_by_role("button", name="Send back to the patient").click()
    expect(page.get_by_text("Sent back to the patient")).to_be_visible()

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

    # The approved patient is booked: their home shows the next appointment, not "the front
    # desk will contact you", and confirms it.
    monday = dt.date.today() + dt.timedelta(days=7)
    monday -= dt.timedelta(days=monday.weekday())
    # Monday, Wednesday and Friday: 8 infusions 2 or 3 days apart within 16 days.
    offsets = [0, 2, 4, 7, 9, 11, 14, 16][: plan.infusions]
    series = scheduling.book_series(
        plan,
        stamford,
        [scheduling.Choice(monday + dt.timedelta(days=n), dt.time(10)) for n in offsets],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    booked_context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    booked_page = booked_context.new_page()
    sign_in(booked_page, "first@example.org")
    next_up = booked_page.get_by_test_id("next-appointment")
    text = next_up.inner_text()
    assert "Eastern time (E" in text and "10:00 AM" in text and "Stamford" in text
    assert "drive you home" in text
    assert "front desk will contact you" not in booked_page.content()
    assert axe_violations(booked_page) == []
    next_up.get_by_role("button", name="I will come").click()
    booked_page.wait_for_load_state()
    assert "Thank you: your appointment is confirmed." in booked_page.content()
    assert series.sessions.get(number=1).status == Status.CONFIRMED
    booked_page.goto("/sessions/")
    assert booked_page.get_by_role("button", name="Cancel this appointment").first.is_visible()
    booked_context.close()
