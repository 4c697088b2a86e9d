"""Query strings are read through forms: a bad value gets a sensible default, never a 500.

tests/test_query_fuzz.py sweeps every URL with hostile values; these are the cases found by
hand, each asserted over HTTP with what the page then shows.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Role
from intake.models import Intake
from tests.factories import UserFactory
from tests.intake_data import submitted_intake
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db


@pytest.fixture
def location():
    return make_location(shifts_from=dt.date.today(), shift_days=7)


@pytest.mark.parametrize("week", ["0001-01-01", "0001-01-02", "9999-12-31", "2027-02-30", "x"])
def test_the_dashboard_answers_a_week_it_cannot_show_with_the_current_week(location, login, week):
    clinician = login(UserFactory.create(role=Role.CLINICIAN))
    this_monday = location.local_now().date() - dt.timedelta(days=location.local_now().weekday())

    page = clinician.get(reverse("outcomes:dashboard", args=[location.slug]), {"week": week})
    csv = clinician.get(reverse("outcomes:dashboard_csv", args=[location.slug]), {"week": week})

    assert page.status_code == 200
    assert f"week={(this_monday + dt.timedelta(days=7)).isoformat()}" in page.content.decode()
    assert csv.status_code == 200
    assert f"dashboard-{location.slug}-{this_monday.isoformat()}.csv" in csv["Content-Disposition"]


def test_the_dashboard_shows_the_week_asked_for(location, login):
    clinician = login(UserFactory.create(role=Role.CLINICIAN))

    csv = clinician.get(
        reverse("outcomes:dashboard_csv", args=[location.slug]), {"week": "2027-02-03"}
    )

    assert f"dashboard-{location.slug}-2027-02-01.csv" in csv["Content-Disposition"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "9999-12-27"])
def test_day_and_week_views_refuse_dates_out_of_range_as_not_found(location, login, day):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    for name in ("scheduling:day", "scheduling:week"):
        response = desk.get(reverse(name, args=[location.slug, day]))
        assert response.status_code == 404, name


@pytest.mark.parametrize(
    "query",
    [
        {"location": "99999999999999999999", "status": "nonsense", "page": "-1"},
        {"location": "-3", "page": "99999999999999999999"},
        {"location": ["1", "2"], "status": ["all", "submitted"], "page": "2.5"},
        {"status": "", "page": " "},
    ],
)
def test_the_queue_falls_back_to_its_defaults_on_bad_filters(location, login, query):
    submitted_intake(UserFactory.create(role=Role.PATIENT), location_slug=location.slug)
    clinician = login(UserFactory.create(role=Role.CLINICIAN))

    response = clinician.get(reverse("review:queue"), query)

    assert response.status_code == 200
    html = response.content.decode()
    assert "1 intake," in html  # all locations, waiting for review: the defaults
    assert '<option value="submitted" selected>' in html


def test_a_nul_in_a_filter_is_a_page_that_says_so_and_not_the_queue(location, login):
    """Control characters are refused before any view reads them (clinic.middleware)."""
    submitted_intake(UserFactory.create(role=Role.PATIENT), location_slug=location.slug)
    clinician = login(UserFactory.create(role=Role.CLINICIAN))

    response = clinician.get(reverse("review:queue"), {"status": "\x00", "page": "\x00"})

    assert response.status_code == 400
    assert "hidden character" in response.content.decode()
    assert "1 intake," not in response.content.decode()


def test_the_queue_filters_by_location_and_status(location, login):
    submitted_intake(UserFactory.create(role=Role.PATIENT), location_slug=location.slug)
    clinician = login(UserFactory.create(role=Role.CLINICIAN))

    here = clinician.get(reverse("review:queue"), {"location": location.pk}).content.decode()
    declined = clinician.get(reverse("review:queue"), {"status": "declined"}).content.decode()

    assert "1 intake," in here and f'<option value="{location.pk}" selected>' in here
    assert "0 intakes," in declined


@pytest.mark.parametrize("page", ["-1", "0", "abc", "99999999999999999999", "2.5"])
def test_the_audit_log_answers_a_bad_page_number_with_a_page(login, page):
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    response = admin.get(reverse("audit:search"), {"page": page, "search": "not-a-search"})

    assert response.status_code == 200
    assert "Audit log" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"first_date": "9999-12-31", "weekdays": "0", "window_starts": "09:00"},
        {"first_date": "0001-01-01", "weekdays": ["0", "99"], "window_ends": "25:00"},
        {"location": "99999999999999999999", "first_date": "2027-01-01", "weekdays": "-1"},
    ],
)
def test_the_series_plan_request_answers_bad_values_with_messages(location, login, query):
    plan = approved_plan("plan.query@example.org", location, infusions=2)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    full = {
        "location": location.pk,
        "window_starts": "09:00",
        "window_ends": "12:00",
        **query,
    }

    response = desk.get(reverse("scheduling:plan", args=[plan.public_id]), full)

    assert response.status_code == 200
    assert response.context["request_form"].errors
    assert "proposal" not in response.context


def test_the_series_plan_request_refuses_a_first_date_years_away_in_words(location, login):
    plan = approved_plan("plan.far@example.org", location, infusions=2)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    query = {
        "location": location.pk,
        "first_date": "2100-01-04",
        "weekdays": "0",
        "window_starts": "09:00",
        "window_ends": "12:00",
    }

    response = desk.get(reverse("scheduling:plan", args=[plan.public_id]), query)

    assert response.status_code == 200
    assert "Choose a first date within the next year." in response.content.decode()


@pytest.mark.parametrize("value", ["review", "elsewhere", "", ["review", "x"]])
def test_the_intake_step_reads_where_the_patient_came_from_through_a_form(login, value):
    from intake import services

    patient = UserFactory.create(role=Role.PATIENT)
    intake: Intake = services.start_draft(patient)
    client = login(patient)

    response = client.get(reverse("intake:step", args=[intake.public_id, "about"]), {"from": value})

    assert response.status_code == 200
    came_from_review = value == "review"
    assert ('name="from_review" value="1"' in response.content.decode()) is came_from_review


@pytest.mark.parametrize("token", ["%00abc", "a%00b", "not.a.token", "%F0%9F%98%80"])
def test_a_calendar_address_with_characters_no_feed_token_has_is_not_found(client, token):
    response = client.get(f"/calendar/{token}.ics")

    assert response.status_code == 404
