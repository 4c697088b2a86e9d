"""A nurse charts an infusion in Chromium; the patient's chart and the dashboard show it."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Role
from charting.models import InfusionRecord
from tests.charting_data import session_today
from tests.conftest import browser_sign_in, screenshot
from tests.factories import UserFactory
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nurse_checks_in_charts_vitals_with_an_alert_and_discharges(page, browser, live_server):
    session, nurse = session_today(starts_in=20)
    start = session.local_start()
    UserFactory.create(role=Role.CLINIC_ADMIN, email="admin.chart@example.org")

    browser_sign_in(page, nurse.email)
    page.wait_for_url("**/nurse/")
    page.get_by_role("link", name="Open chart").click()

    page.get_by_label("Last solid food (time)").fill(
        (start - dt.timedelta(hours=7)).strftime("%H:%M")
    )
    page.get_by_label("Last clear liquid (time)").fill(
        (start - dt.timedelta(hours=3)).strftime("%H:%M")
    )
    page.get_by_label("Escort's name").fill("Jamie Testperson")
    page.get_by_label("Escort's phone").fill("203 555 0111")
    page.get_by_label("The escort is here, or confirmed to collect").check()
    page.locator('input[name="pregnancy_possible"][value="no"]').check()
    page.get_by_label("Today's weight (kg)").fill("74.8")
    for label, value in (
        ("Systolic (mmHg)", "130"),
        ("Diastolic (mmHg)", "80"),
        ("Pulse (/min)", "76"),
        ("SpO2 (%)", "98"),
        ("Respiratory rate (/min)", "14"),
    ):
        page.get_by_label(label).fill(value)
    page.locator('label[for="id_pain_before_7"]').click()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Check in").click()

    dose = page.get_by_test_id("dose").inner_text()
    assert "37.4 mg" in dose
    assert "74.8 kg × 0.50 mg/kg = 37.4 mg" in page.content()
    page.get_by_role("button", name="Confirm 37.4 mg and start the infusion").click()

    for label, value in (
        ("Systolic (mmHg)", "186"),
        ("Diastolic (mmHg)", "84"),
        ("Pulse (/min)", "82"),
        ("SpO2 (%)", "97"),
        ("Respiratory rate (/min)", "14"),
    ):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Record vitals").click()
    alert = page.get_by_test_id("vital-alerts")
    assert "Systolic 186 above 180 mmHg" in alert.inner_text()
    screenshot(page, "chart-alert")

    page.get_by_role("button", name="End the infusion").click()
    for label, value in (
        ("Systolic (mmHg)", "134"),
        ("Diastolic (mmHg)", "82"),
        ("Pulse (/min)", "78"),
        ("SpO2 (%)", "98"),
        ("Respiratory rate (/min)", "14"),
    ):
        page.get_by_label(label).fill(value)
    page.locator('input[name="phase"][value="recovery"]').check()
    page.get_by_role("button", name="Record vitals").click()
    page.get_by_label("Alert and oriented as before the infusion").check()
    page.get_by_label("Escort present").check()
    page.get_by_label("After-care instructions given").check()
    page.locator('label[for="id_pain_after_3"]').click()
    page.get_by_role("button", name="Discharge").click()
    assert "pain 7 before, 3 after" in page.content()
    screenshot(page, "chart-discharged")
    record = InfusionRecord.objects.get(session=session)
    assert record.discharged_at is not None and record.pain_after == 3

    patient_context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    patient_page = patient_context.new_page()
    browser_sign_in(patient_page, session.patient.email)
    patient_page.get_by_role("link", name="My progress").click()
    status = patient_page.get_by_test_id("responder-status").inner_text()
    assert "Pain 7 before the first infusion, 3 after the latest" in status
    assert "Substantial" in status or "substantial" in status
    patient_page.wait_for_function("document.querySelector('#pain-chart').width > 0")
    assert axe_violations(patient_page) == []
    screenshot(patient_page, "patient-progress")
    patient_context.close()

    admin_context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    admin_page = admin_context.new_page()
    browser_sign_in(admin_page, "admin.chart@example.org")
    week = (start.date() - dt.timedelta(days=start.weekday())).isoformat()
    admin_page.goto(f"/outcomes/{session.location.slug}/dashboard/?week={week}")
    figures = admin_page.get_by_test_id("dashboard-figures").inner_text()
    assert "Sessions\t1" in figures or "Sessions 1" in figures
    assert "(1 of 1)" in figures  # the responder
    assert axe_violations(admin_page) == []
    screenshot(admin_page, "dashboard")
    admin_context.close()
