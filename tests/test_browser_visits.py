"""The course of care in Chromium (docs/visits.md): an evaluation booked by the patient, held by
the clinician with a signed note, the approval, a series, a follow-up by video, a revision to a
lower dose with two boosters, and the first booster booked online from its reminder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from locations.models import ClinicianShift
from messaging import booster_messages
from notifications.models import Channel, Message
from review.models import TreatmentPlan
from scheduling import services, visits
from scheduling.models import Series, Visit, VisitKind, VisitMode, VisitStatus
from tests.conftest import browser_sign_in
from tests.factories import UserFactory
from tests.intake_data import submitted_intake
from tests.scheduling_data import make_location

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_course_of_care_from_the_evaluation_to_a_booster_booked_online(browser, page):
    today = timezone.localdate()
    stamford = make_location("stamford", shifts_from=today, shift_days=120)
    stamford.self_booking = True
    stamford.visits_self_booking = True
    stamford.evaluation_required = True
    stamford.video_room_template = "https://meet.example.org/clinic-{token}"
    stamford.save()
    clinician = UserFactory.create(
        role=Role.CLINICIAN, email="iris@example.org", first_name="Iris", last_name="Moss"
    )
    clinician.locations.add(stamford)
    ClinicianShift.objects.bulk_create(
        ClinicianShift(
            location=stamford,
            clinician=clinician,
            starts_at=dt.datetime.combine(
                today + dt.timedelta(days=n), dt.time(8), tzinfo=stamford.zone
            ),
            ends_at=dt.datetime.combine(
                today + dt.timedelta(days=n), dt.time(18), tzinfo=stamford.zone
            ),
        )
        for n in range(1, 120)
    )
    patient = UserFactory.create(role=Role.PATIENT, email="pat@example.org", first_name="Pat")
    intake = submitted_intake(patient, location_slug="stamford")
    profile = patient.patient_profile
    profile.preferred_location = stamford
    profile.save()

    # 1. The patient books the evaluation online.
    browser_sign_in(page, "pat@example.org")
    page.goto("/my-visits/book/")
    page.get_by_test_id("visit-slots").get_by_role("button").first.click()
    page.wait_for_url("**/visits/*/")
    evaluation = Visit.objects.get(patient=patient)
    assert (evaluation.kind, evaluation.booked_by) == (VisitKind.EVALUATION, patient)

    # 2. The clinician holds it and signs a note; then approves.
    staff = browser.new_context(base_url=page.url.split("/visits/")[0])
    clinic = staff.new_page()
    browser_sign_in(clinic, "iris@example.org")
    clinic.goto(f"/review/{intake.public_id}/")
    clinic.get_by_role("button", name="Approve", exact=True).click()
    expect(clinic.get_by_text("requires an evaluation visit before approval")).to_be_visible()
    clinic.goto(f"/outcomes/visits/{evaluation.public_id}/")
    clinic.get_by_label("Findings").fill("Chronic pain, no contraindication.")
    clinic.get_by_label("Decision").select_option("suitable")
    clinic.get_by_role("button", name="Sign (locks the note)").click()
    expect(clinic.get_by_test_id("signed-note")).to_be_visible()
    evaluation.refresh_from_db()
    assert evaluation.status == VisitStatus.HELD
    clinic.goto(f"/review/{intake.public_id}/")
    clinic.get_by_role("button", name="Approve", exact=True).click()
    expect(clinic.get_by_text("Approved with a treatment plan")).to_be_visible()
    plan = TreatmentPlan.objects.get(patient=patient)

    # 3. A series of two, completed; a follow-up by video booked by the desk.
    desk = UserFactory.create(role=Role.FRONT_DESK)
    first = today + dt.timedelta(days=2)
    while first.weekday() > 2:
        first += dt.timedelta(days=1)
    plan.infusions, plan.min_days_between = 2, 2
    plan.save()
    series = services.book_series(
        plan,
        stamford,
        [services.Choice(first, dt.time(9)), services.Choice(first + dt.timedelta(2), dt.time(9))],
        booked_by=desk,
    )
    follow_up = visits.book_visit(
        visits.VisitRequest(
            patient=patient,
            clinician=clinician,
            location=stamford,
            kind=VisitKind.FOLLOW_UP,
            starts_at=dt.datetime.combine(
                first + dt.timedelta(days=3), dt.time(11), tzinfo=stamford.zone
            ),
            minutes=30,
            mode=VisitMode.VIDEO,
            series=series,
        ),
        booked_by=desk,
    )
    series.sessions.update(status="completed")
    assert Message.objects.filter(
        group=f"visit:{follow_up.pk}", kind="visit_booked", channel=Channel.EMAIL
    ).exists()

    # 4. At the follow-up, by video: the patient's page opens the room; the clinician revises
    # the plan to a lower dose with two boosters.
    with time_machine.travel(follow_up.starts_at - dt.timedelta(minutes=5)):
        page.goto(f"/visits/{follow_up.public_id}/")
        expect(page.get_by_role("link", name="Join the video visit")).to_have_attribute(
            "href", follow_up.video_url()
        )
    clinic.goto(f"/outcomes/visits/{follow_up.public_id}/")
    expect(clinic.get_by_text("Response so far")).to_be_visible()
    form = clinic.locator("form", has=clinic.get_by_role("button", name="Save the revision"))
    form.get_by_label("Dose (mg/kg)").fill("0.40")
    form.get_by_label("Boosters every (weeks, 4 to 12)").fill("6")
    form.get_by_label("Number of boosters").fill("2")
    form.get_by_label("Why the plan changes").fill("Good response; lower dose with boosters.")
    form.get_by_role("button", name="Save the revision").click()
    expect(clinic.get_by_text("Plan revised: version 2.")).to_be_visible()
    revised = TreatmentPlan.objects.get(patient=patient, status="active")
    assert (revised.dose_mg_per_kg, revised.booster_count) == (Decimal("0.40"), 2)
    staff.close()

    # 5. The first booster is due six weeks after the last infusion: the patient is told and
    # books it online from the reminder's link.
    last = first + dt.timedelta(days=2)
    bookable = dt.datetime.combine(last + dt.timedelta(weeks=5), dt.time(12), tzinfo=stamford.zone)
    with time_machine.travel(bookable):
        assert booster_messages.remind_due_boosters() >= 1
        reminder = booster_messages.resolve(
            Message.objects.get(kind="booster_due", channel=Channel.EMAIL)
        )
        link = next(word for word in reminder.body_text.split() if "/my-series/booster/" in word)
        browser_sign_in(page, "pat@example.org")
        # The email's link names the site's public address; the test server is elsewhere.
        page.goto(urlsplit(link.rstrip(".")).path)
        page.get_by_test_id("book-proposed").click()
        page.wait_for_url("**/sessions/")
    booster = Series.objects.get(patient=patient, is_booster=True)
    assert booster.booked_by == patient and booster.plan == revised
