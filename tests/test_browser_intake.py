"""A new patient completes the intake in Chromium: leaves midway, resumes, fixes an error,
submits; axe-core checks every step for serious or critical accessibility violations. Also
the date of birth from registration, the crisis box under item 9 taking focus, details only
after a yes, the jaw's 44 px targets, numbered SSS buttons, the blood pressure with its unit and
date, messages in people's words, a review page written for people, SITE_NAME in every title."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import PatientProfile, Role
from intake.models import Intake
from tests.conftest import browser_sign_in, screenshot
from tests.default_messages import assert_in_peoples_words
from tests.factories import LocationFactory, OpeningHoursFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def axe_violations(page) -> list[dict]:
    """Serious and critical WCAG 2.x A/AA violations on the current page."""
    # Served by the app itself, so the page's Content-Security-Policy allows it.
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
        })"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def choose(page, name: str, value: str) -> None:
    """Pick a radio or checkbox by clicking its label, as a person does."""
    element_id = page.locator(f'input[name="{name}"][value="{value}"]').get_attribute("id")
    page.locator(f'label[for="{element_id}"]').click()


def sign_in(page, email: str) -> None:
    browser_sign_in(page, email)


def save(page) -> None:
    page.get_by_role("button", name="Save and").click()
    page.wait_for_load_state()
    assert page.title().endswith("· Test Clinic"), page.title()
    assert_in_peoples_words(page.content(), where=page.url)


def check_accessibility(page, audits: dict[str, list]) -> None:
    audits[page.url] = axe_violations(page)


def test_a_new_patient_completes_the_intake_with_a_break_and_a_correction(
    browser, live_server, make_user, settings
):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SITE_NAME = "Test Clinic"
    location = LocationFactory.create(slug="stamford", name="Stamford")
    OpeningHoursFactory.create(location=location)
    patient = make_user(
        role=Role.PATIENT, email="new.patient@example.org", first_name="", last_name=""
    )
    # Registration asked the date of birth: step 1 starts with it.
    PatientProfile.objects.create(user=patient, date_of_birth=dt.date(1980, 4, 12))
    audits: dict[str, list] = {}

    context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, "new.patient@example.org")
    assert "Not started" in page.get_by_test_id("intake-status").inner_text()
    page.get_by_role("button", name="Start the questionnaire").click()

    # 1. About you
    page.wait_for_url("**/about/")
    check_accessibility(page, audits)
    page.get_by_label("Legal first name").fill("Avery")
    page.get_by_label("Legal last name").fill("Testperson")
    assert page.get_by_label("Date of birth").input_value() == "1980-04-12"
    choose(page, "sex_at_birth", "female")
    page.get_by_label("Street address").fill("12 Elm Street")
    page.get_by_label("City").fill("Stamford")
    page.get_by_label("State").fill("CT")
    page.get_by_label("ZIP code").fill("06902")
    page.get_by_label("Mobile phone").fill("203 555 0199")
    page.get_by_label("Preferred location").select_option("stamford")
    save(page)

    # 2. Contacts
    page.wait_for_url("**/contacts/")
    check_accessibility(page, audits)
    page.get_by_label("Emergency contact's name").fill("Jamie Testperson")
    page.get_by_label("Emergency contact's phone").fill("203 555 0111")
    page.get_by_label("Emergency contact's relationship to you").fill("Spouse")
    page.get_by_label("Name of the adult who will drive you home").fill("Jamie Testperson")
    page.get_by_label("Driver's phone").fill("203 555 0111")
    page.get_by_label("Driver's relationship to you").fill("Spouse")
    save(page)

    # 3. Reason for care
    page.wait_for_url("**/reason/")
    check_accessibility(page, audits)
    choose(page, "indications", "fibromyalgia")
    choose(page, "pain_duration", "1_to_5_years")
    assert page.locator('label[for="id_pain_duration_3"]').inner_text() == (
        "1 year or more, but less than 5 years"
    )
    save(page)

    # 4. Body map: click the drawing for some areas, tick boxes for others.
    page.wait_for_url("**/fibromyalgia/")
    check_accessibility(page, audits)
    for area in ("left_shoulder_girdle", "right_shoulder_girdle", "neck", "lower_back"):
        page.locator(f'.body-area[data-area="{area}"]').first.click()
        assert page.locator(f"#area-{area}").is_checked()
    for area in ("left_hip", "right_hip", "left_upper_leg"):
        page.locator(f"#area-{area}").check()
    assert "7 of 19" in page.locator("#body-map-count").inner_text()
    # The jaws are small: each has a target of at least 44 x 44 px that a finger can hit.
    for jaw in ("left_jaw", "right_jaw"):
        target = page.locator(f'.body-area-target[data-area="{jaw}"]')
        box = target.bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
        target.click()
        assert page.locator(f"#area-{jaw}").is_checked()
        target.click()
        assert not page.locator(f"#area-{jaw}").is_checked()
    # Each severity button shows its number as well as its words.
    assert page.locator('label[for="id_fatigue_3"]').inner_text().startswith("3 ")
    for item, value in (("fatigue", "3"), ("waking_unrefreshed", "2"), ("cognitive_symptoms", "1")):
        choose(page, item, value)
    for item, value in (("headaches", "yes"), ("lower_abdominal_pain", "no"), ("depression", "no")):
        choose(page, item, value)
    assert page.locator('input[name="symptoms_3_months"]').count() == 0  # asked once, in step 3
    screenshot(page, "intake-body-map")
    save(page)

    # The patient leaves in the middle: a new browser session, signing in again.
    page.wait_for_url("**/pain/")
    context.close()
    context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, "new.patient@example.org")
    assert "4 of 10 steps done" in page.get_by_test_id("intake-status").inner_text()
    page.get_by_role("link", name="Continue where you stopped").click()

    # 5. Pain and PEG
    page.wait_for_url("**/pain/")
    check_accessibility(page, audits)
    for name, value in (
        ("pain_now", "6"),
        ("pain_average", "7"),
        ("pain_worst", "9"),
        ("peg_enjoyment", "6"),
        ("peg_activity", "8"),
    ):
        choose(page, name, value)
    save(page)

    # 6. Mood: answering item 9 above 0 shows the crisis resources at once.
    page.wait_for_url("**/mood/")
    check_accessibility(page, audits)
    assert not page.locator("#crisis-resources").is_visible()
    for n in range(1, 9):
        choose(page, f"phq9_{n}", "1")
    choose(page, "phq9_9", "1")
    crisis = page.locator("#crisis-resources")
    assert crisis.is_visible()
    assert "988" in crisis.inner_text()
    assert crisis.get_attribute("role") == "alert"
    # Right under item 9 (not at the top of the page), and focus moves to it once.
    item9 = page.locator("#group-phq9_9").bounding_box()
    box = crisis.bounding_box()
    assert item9 is not None and box is not None
    assert 0 <= box["y"] - (item9["y"] + item9["height"]) < 60, (item9, box)
    assert page.evaluate("document.activeElement.id") == "crisis-resources"
    page.get_by_role("button", name="Back to the questions").click()
    assert page.evaluate("document.activeElement.name") == "phq9_9"
    check_accessibility(page, audits)
    for n in range(1, 8):
        choose(page, f"gad7_{n}", "2")
    save(page)

    # 7. Safety screen, with a medicine row added by the page's button.
    page.wait_for_url("**/safety/")
    assert page.locator("#crisis-resources").is_visible()  # kept on later pages
    check_accessibility(page, audits)
    # Details and follow-ups appear after a yes only.
    assert not page.get_by_label("When was it?").first.is_visible()
    for radio in page.locator('input[type="radio"][value="no"]').all():
        radio.check()
    choose(page, "high_blood_pressure", "yes")
    assert page.get_by_text("Is your blood pressure under control?").is_visible()
    choose(page, "high_blood_pressure_control", "not_controlled")
    choose(page, "psychosis", "yes")
    choose(page, "psychosis_when", "past")
    # A reading out of range is named in people's words, with its unit.
    page.get_by_label("Top number (mmHg)").fill("300")
    page.get_by_label("Bottom number (mmHg)").fill("95")
    page.get_by_label("Date of the reading").fill("2026-10-30")
    save(page)
    assert "between 60 and 260 mmHg" in page.content()
    assert "Give both numbers" not in page.content()
    page.get_by_label("Top number (mmHg)").fill("150")
    # Empty medicine rows are not required.
    assert page.locator("#id_medications-0-name").get_attribute("required") is None
    page.locator("#id_medications-0-name").fill("Duloxetine")
    page.get_by_role("button", name="Add another medicine row").click()
    page.locator("#id_medications-1-name").fill("Pregabalin")
    save(page)

    # 8. Measurements: an implausible weight is refused with a message; fix it.
    page.wait_for_url("**/measurements/")
    check_accessibility(page, audits)
    page.locator("#id_weight").fill("20")
    choose(page, "weight_unit", "lb")
    choose(page, "height_unit", "ft_in")
    page.get_by_role("spinbutton", name="Feet").fill("5")
    page.get_by_role("spinbutton", name="Inches").fill("6")
    save(page)
    assert "Weight must be between 30 and 300 kg" in page.content()
    assert page.get_by_role("spinbutton", name="Feet").input_value() == "5"
    check_accessibility(page, audits)
    page.locator("#id_weight").fill("165")
    save(page)

    # 9. Insurance
    page.wait_for_url("**/insurance/")
    check_accessibility(page, audits)
    choose(page, "payment", "self_pay")
    save(page)

    # 10. Consents
    page.wait_for_url("**/consents/")
    check_accessibility(page, audits)
    page.get_by_label("I have read the fasting instructions.").check()
    page.get_by_label("I have read and agree to the driver and escort agreement.").check()
    page.get_by_label("I have read the consent to treatment and I agree to it.").check()
    page.get_by_label("Type your full legal name as your signature").fill("Avery Testperson")
    save(page)

    # Review and submit.
    page.wait_for_url("**/review/")
    check_accessibility(page, audits)
    assert "Duloxetine" in page.content() and "Pregabalin" in page.content()
    review = page.content()
    assert "12 April 1980" in review and "(203) 555-0199" in review
    assert "168 cm (5 ft 6 in)" in review and "74.8 kg (165 lb)" in review
    assert "150/95 mmHg, taken 30 October 2026" in review
    screenshot(page, "intake-review")
    page.get_by_role("button", name="Submit to the clinic").click()
    page.wait_for_url("**/submitted/")
    assert page.locator("#crisis-resources").is_visible()
    check_accessibility(page, audits)
    context.close()

    assert {url: found for url, found in audits.items() if found} == {}
    intake = Intake.objects.get(patient__email="new.patient@example.org")
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.urgent is True
    assert intake.scores["acr_2016"]["wpi"] == 7
    assert intake.scores["acr_2016"]["sss"] == 3 + 2 + 1 + 1
    assert intake.scores["acr_2016"]["criteria_met"] is True
    assert intake.scores["phq9"]["total"] == 9
    assert intake.scores["gad7"] == {"total": 14, "band": "moderate"}
    assert intake.scores["peg"] == "7.0"
    assert intake.scores["measurements"]["weight_kg"] == "74.8"
    meds = intake.answers.get(step="safety").data["medications"]
    assert [m["name"] for m in meds] == ["Duloxetine", "Pregabalin"]
    flags = {flag["code"]: flag for flag in intake.flags}
    assert flags["uncontrolled_hypertension"]["kind"] == "contraindication"
    assert "psychosis_past" in flags and "psychosis" not in flags
