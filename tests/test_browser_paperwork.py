"""The paperwork end to end in Chromium (docs/paperwork.md): the desk books a self-pay series,
the patient reads and acknowledges its Good Faith Estimate, two sessions are completed and
charted, and the patient downloads the superbill."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from django.utils import timezone

from accounts.models import Role
from paperwork.models import Estimate
from scheduling.models import Series
from tests.conftest import browser_sign_in, screenshot
from tests.factories import UserFactory
from tests.paperwork_data import EACH, chart, set_up_billing
from tests.scheduling_data import approved_plan, make_location
from tests.test_browser_intake import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_patient_acknowledges_the_estimate_and_downloads_the_superbill(
    page, browser, live_server
):
    stamford = make_location("stamford", shifts_from=timezone.localdate())
    plan = approved_plan("gfe.browser@example.org", stamford, infusions=2, min_days_between=2)
    set_up_billing(stamford, plan.approved_by)
    UserFactory.create(role=Role.FRONT_DESK, email="desk.gfe@example.org")

    browser_sign_in(page, "desk.gfe@example.org")
    page.wait_for_url("**/desk/")
    page.get_by_role("link", name="Plan the series").click()
    page.get_by_role("button", name="Propose sessions").click()
    page.wait_for_selector("#session_1")
    assert "Your right to a Good Faith Estimate" in page.content()  # the notice at booking
    page.get_by_role("button", name="Book all 2 sessions").click()
    page.wait_for_url("**/desk/series/**")
    series = Series.objects.get(patient=plan.patient)
    estimate = Estimate.objects.get(series=series)
    assert estimate.total.amount == EACH * 2

    patient_context = browser.new_context(
        base_url=live_server.url, reduced_motion="reduce", accept_downloads=True
    )
    patient_context.set_default_timeout(20_000)
    patient = patient_context.new_page()
    browser_sign_in(patient, "gfe.browser@example.org")
    patient.get_by_test_id("my-paperwork").click()
    patient.get_by_role("link", name=estimate.reference).click()
    document = patient.get_by_test_id("estimate-document").inner_text()
    assert "$1,050.00" in document and "96365" in document and "M79.7" in document
    assert axe_violations(patient) == []
    screenshot(patient, "estimate")
    with patient.expect_download() as download_info:
        patient.get_by_role("link", name="Download as PDF").click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert "$1,050.00" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    patient.get_by_test_id("acknowledge").click()
    patient.get_by_test_id("acknowledged").wait_for()
    estimate.refresh_from_db()
    assert estimate.acknowledged_at is not None

    sessions = list(series.sessions.order_by("number"))
    for session in sessions:
        chart(session, signed=True)
    month = sessions[0].local_start().strftime("%Y-%m")
    patient.goto("/paperwork/")
    patient.get_by_label("Period").select_option(f"month:{month}")
    patient.get_by_role("button", name="Show").click()
    bill = patient.get_by_test_id("superbill-document").inner_text()
    assert bill.count("96365") == (2 if sessions[1].local_start().strftime("%Y-%m") == month else 1)
    assert axe_violations(patient) == []
    with patient.expect_download() as download_info:
        patient.get_by_role("link", name="Download as PDF").click()
    text = pypdf.PdfReader(download_info.value.path()).pages[0].extract_text()
    assert "Superbill and statement" in text and "M79.7" in text
    patient_context.close()
