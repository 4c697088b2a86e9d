"""A nurse charts a whole infusion in Chromium, late and in order: a too-early end and a
too-early discharge are refused, the chart is signed and an addendum added; the patient's
progress and the dashboard follow."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from charting.models import Addendum, InfusionRecord, Observation
from scheduling.models import Status
from tests.charting_data import SAFETY_CHANGES, afternoon_zone, session_today
from tests.conftest import browser_sign_in, screenshot
from tests.factories import UserFactory
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill(page, values: dict[str, str]) -> None:
    for label, value in values.items():
        page.get_by_label(label).fill(value)


def _vitals(systolic: str) -> dict[str, str]:
    return {
        "Systolic (mmHg)": systolic,
        "Diastolic (mmHg)": "82",
        "Pulse (/min)": "78",
        "SpO2 (%)": "98",
        "Respiratory rate (/min)": "14",
    }


def test_a_nurse_charts_a_whole_session_late_signs_it_and_adds_an_addendum(
    page, browser, live_server
):
    # The session started 100 minutes ago; the nurse charts each step at the time it happened.
    session, nurse = session_today(
        starts_in=-100, intake_changes=SAFETY_CHANGES, zone=afternoon_zone()
    )
    start = session.local_start()

    def at(minutes: int) -> str:
        return (start + dt.timedelta(minutes=minutes)).strftime("%H:%M")

    UserFactory.create(role=Role.CLINIC_ADMIN, email="admin.chart@example.org")

    browser_sign_in(page, nurse.email)
    page.wait_for_url("**/nurse/")
    page.get_by_role("link", name="Open chart").click()

    safety = page.get_by_test_id("safety-context").inner_text()
    assert "Penicillin" in safety and "Lorazepam" in safety and "Sleep apnoea" in safety
    assert "Needs an ECG" in page.get_by_test_id("work-up-banner").inner_text()
    assert page.get_by_label("Escort's name").input_value() == "Jamie Testperson"

    _fill(
        page,
        {
            "Time of check-in": at(-10),
            "Last solid food (time)": (start - dt.timedelta(hours=7)).strftime("%H:%M"),
            "Last clear liquid (time)": (start - dt.timedelta(hours=3)).strftime("%H:%M"),
            "Today's weight": "165",
            **_vitals("130"),
        },
    )
    page.locator('input[name="weight_unit"][value="lb"]').check()
    page.get_by_label("The escort is here, or confirmed to collect").check()
    page.locator('input[name="pregnancy_possible"][value="no"]').check()
    page.locator('label[for="id_pain_before_7"]').click()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Check in").click()

    # 165 lb is 74.842741 kg exactly: the dose is computed from it, the figures rounded to show.
    assert "74.84 kg × 0.50 mg/kg = 37.4 mg" in page.get_by_test_id("dose").inner_text()
    _fill(page, {"Time the infusion started": at(0)})
    page.get_by_role("button", name="Confirm 37.4 mg and start the infusion").click()

    _fill(page, {"Time taken": at(15), **_vitals("186")})
    page.get_by_role("button", name="Record vitals").click()
    assert "Systolic 186 above 180 mmHg" in page.get_by_test_id("vital-alerts").inner_text()
    screenshot(page, "chart-alert")

    _fill(
        page,
        {
            "Time seen or given": at(20),
            "Intervention given (medicine, dose, route; or what was done)": "Ondansetron 4 mg IV",
        },
    )
    page.get_by_label("Nausea or vomiting").check()
    page.get_by_role("button", name="Chart", exact=True).click()
    assert "Ondansetron 4 mg IV" in page.get_by_test_id("observations").inner_text()
    # Readings every 15 minutes through the infusion and recovery, as the sign-off checks.
    _fill(page, {"Time taken": at(30), **_vitals("140")})
    page.get_by_role("button", name="Record vitals").click()
    expect(page.get_by_test_id("chart-record")).to_contain_text(at(30))

    _fill(page, {"Time the infusion ended": at(25)})
    page.get_by_role("button", name="End the infusion").click()
    # Waits for the refusal page (a bare page.content() may read the page before the POST's).
    expect(page.get_by_text("ran 25 of the planned 40 minutes")).to_be_visible()
    assert InfusionRecord.objects.get(session=session).infusion_ended_at is None
    _fill(page, {"Time the infusion ended": at(40)})
    page.get_by_role("button", name="End the infusion").click()

    assert page.locator('input[name="phase"][value="recovery"]').is_checked()
    _fill(page, {"Time taken": at(45), **_vitals("134")})
    page.get_by_role("button", name="Record vitals").click()
    assert page.get_by_test_id("vital-alerts").count() == 0  # the latest reading is normal
    _fill(page, {"Time taken": at(60), **_vitals("132")})
    page.get_by_role("button", name="Record vitals").click()
    expect(page.get_by_test_id("chart-record")).to_contain_text(at(60))

    _fill(page, {"Time of discharge": at(50)})
    page.get_by_label("Alert and oriented as before the infusion").check()
    page.get_by_label("Escort present").check()
    page.get_by_label("After-care instructions given").check()
    page.locator('label[for="discharge_pain_after_3"]').click()
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_text("10 minutes after the end; this location asks for 30")).to_be_visible()
    assert InfusionRecord.objects.get(session=session).discharged_at is None
    _fill(page, {"Time of discharge": at(75)})
    page.locator('label[for="discharge_pain_after_3"]').click()
    page.get_by_role("button", name="Discharge").click()

    record_text = page.get_by_test_id("chart-record").inner_text()
    for expected in (
        f"Discharged {at(75)}",
        f"Ended {at(40)}",
        "Nausea or vomiting",
        "165.0 lb (74.8 kg)",
        "Jamie Testperson",
    ):
        assert expected in record_text, expected

    page.get_by_role("button", name="Sign the chart").click()
    assert "Signed by" in page.get_by_test_id("sign-off").inner_text()
    page.get_by_label("Why (e.g. correction, late entry)").fill("Correction")
    page.locator("#add_text").fill("Pain after was 4, not 3.")
    page.get_by_role("button", name="Add the addendum").click()
    assert "Pain after was 4, not 3." in page.get_by_test_id("addenda").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "chart-signed")

    record = InfusionRecord.objects.get(session=session)
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert record.signed_by == nurse and record.pain_after == 3
    assert record.infusion_started_at and record.infusion_ended_at and record.discharged_at
    assert record.ended_charted_at
    assert record.infusion_ended_at - record.infusion_started_at == dt.timedelta(minutes=40)
    assert record.discharged_at - record.infusion_ended_at == dt.timedelta(minutes=35)
    assert record.infusion_ended_at < record.ended_charted_at  # charted late, kept apart
    assert list(Observation.objects.filter(record=record).values_list("kind", flat=True)) == [
        "side_effect",
        "intervention",
    ]
    assert Addendum.objects.get(record=record).written_by == nurse

    page.goto(f"/nurse/sessions/{session.public_id}/print/")
    assert "Pain after was 4, not 3." in page.content()

    patient_context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    patient_page = patient_context.new_page()
    browser_sign_in(patient_page, session.patient.email)
    patient_page.get_by_role("link", name="My progress").click()
    status = patient_page.get_by_test_id("responder-status").inner_text()
    assert "Too early to judge a response" in status
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
    assert "(0 of 0)" in figures  # one infusion: nobody judged yet
    admin_page.wait_for_function("document.querySelector('#trend-chart').width > 0")
    assert axe_violations(admin_page) == []
    screenshot(admin_page, "dashboard")
    admin_context.close()
