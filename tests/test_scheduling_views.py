from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from accounts.models import Role
from locations.models import Closure
from scheduling import planner, services
from scheduling.models import CalendarFeed, Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

# Staff activity is written to the session at most every STAFF_SEEN_RESOLUTION seconds; on a
# slow machine that write could fall inside one count and not the other.
STEADY = override_settings(STAFF_SEEN_RESOLUTION=10**9)

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 2, 1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(dt.datetime(2027, 1, 25, 12, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def clinic():
    return make_location("stamford", chairs=6, nurses=4, shifts_from=MONDAY)


def _book(clinic, n: int, time: dt.time):
    plan = approved_plan(f"v{n}@example.org", clinic, infusions=1)
    return services.book_series(
        plan,
        clinic,
        [services.Choice(MONDAY, time)],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    ).sessions.get()


def _count(client, url):
    with STEADY, CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_day_view_costs_the_same_queries_with_one_or_many_sessions(clinic, login):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    url = reverse("scheduling:day", args=["stamford", MONDAY.isoformat()])
    _book(clinic, 0, dt.time(9))
    one, _ = _count(desk, url)
    for n, time in enumerate([dt.time(9, 15), dt.time(9, 30), dt.time(11), dt.time(13)], start=1):
        _book(clinic, n, time)
    many, html = _count(desk, url)

    assert one == many
    assert html.count("Avery Testperson") == 5
    assert "Times in Eastern time (EST)" in html


def test_the_day_grid_draws_each_session_once_at_its_local_time_with_each_nurses_load(
    clinic, login
):
    """The grid is drawn by its template from scheduling.calendar.day_calendar's blocks: each
    session is one cell spanning its quarter hours, at the location's local time, and each
    nurse's column counts the patients in their care, with S while one is being set up."""
    session = _book(clinic, 0, dt.time(9))
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    html = desk.get(reverse("scheduling:day", args=["stamford", MONDAY.isoformat()])).content
    html = html.decode()
    zone = clinic.zone
    chairs, nurses = clinic.chairs.filter(is_active=True).count(), 4
    quarter_hours = -(-(session.ends_at - session.starts_at) // dt.timedelta(minutes=15))

    assert html.count('class="block status-booked"') == 1
    assert f'<td rowspan="{quarter_hours}" class="block status-booked"' in html
    start = session.starts_at.astimezone(zone)
    end = session.ends_at.astimezone(zone)
    assert f"{start:%H:%M}–{end:%H:%M} · 1/1 · {session.nurse.first_name}" in html
    assert '<span class="status-label">Booked</span>' in html
    assert f'<th scope="row" class="time">{start:%H:%M}</th>' in html
    rows = re.findall(r'<th scope="row" class="time">(\d\d:\d\d)</th>(.*?)</tr>', html, re.S)
    by_time = dict(rows)
    # The row where the session starts: the nurse sets it up; the rows after: monitoring, one
    # cell spanning them while the load stays the same.
    assert '<td rowspan="1" class="nurse-load load-1">1 S</td>' in by_time[f"{start:%H:%M}"]
    after = (start + dt.timedelta(minutes=15)).strftime("%H:%M")
    assert f'<td rowspan="{quarter_hours - 1}" class="nurse-load load-1">1</td>' in by_time[after]
    # Every row has a cell per chair, less the chair the session covers below its start.
    for time, cells in rows:
        chair_cells = cells.count('<td class="free">') + cells.count('class="block ')
        assert chair_cells == chairs - (1 if start < _at(zone, time) < end else 0), time
    assert nurses == len(re.findall(r'<th scope="col" class="nurse-col">', html))


def _at(zone, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(MONDAY, dt.time.fromisoformat(hhmm), tzinfo=zone)


def test_the_week_view_lists_each_days_sessions_in_constant_queries(clinic, login):
    _book(clinic, 0, dt.time(9))
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    url = reverse("scheduling:week", args=["stamford", MONDAY.isoformat()])
    one, html = _count(desk, url)
    for n, time in enumerate([dt.time(11), dt.time(13), dt.time(15)], start=1):
        _book(clinic, n, time)
    many, _ = _count(desk, url)

    block = re.search(r'<a class="week-block status-booked".*?</a>', html, re.S)
    assert block is not None
    assert "09:00–" in block.group() and "Avery Testperson" in block.group()
    assert '<span class="status-label">Booked</span>' in block.group()
    assert one == many


def test_search_finds_patients_by_name_email_or_phone(clinic, login):
    session = _book(clinic, 0, dt.time(9))
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    for query in ("Testperson", "v0@example", "555-0199"):
        html = desk.post(reverse("scheduling:search"), {"q": query}).content.decode()
        assert reverse("scheduling:series", args=[session.series.public_id]) in html, query


def test_patients_see_their_sessions_in_local_time_and_get_an_ics(clinic, login):
    session = _book(clinic, 0, dt.time(9))
    client = login(session.patient)

    html = client.get(reverse("scheduling:my_sessions")).content.decode()
    assert "Monday 1 February 2027, 9:00 AM" in html
    assert "Eastern time (EST)" in html and "America/" not in html

    response = client.get(reverse("scheduling:session_ics", args=[session.public_id]))
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar")
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(2027, 2, 1, 14, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == dt.datetime(2027, 2, 1, 15, 40, tzinfo=dt.UTC)
    assert "Stamford" in str(event["SUMMARY"]) and "Avery" not in body


def test_the_calendar_feed_shows_cancelled_and_completed_sessions_as_such(clinic, login):
    from scheduling.models import Status

    plan = approved_plan("feed@example.org", clinic, infusions=2)
    series = services.book_series(
        plan,
        clinic,
        [
            services.Choice(MONDAY, dt.time(9)),
            services.Choice(MONDAY + dt.timedelta(days=2), dt.time(9)),
        ],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    completed, cancelled = series.sessions.order_by("number")
    type(cancelled).objects.filter(pk=cancelled.pk).update(status=Status.CANCELLED)
    type(completed).objects.filter(pk=completed.pk).update(status=Status.COMPLETED)
    feed = CalendarFeed.objects.create(patient=cancelled.patient)

    with time_machine.travel(dt.datetime(2027, 1, 25, tzinfo=dt.UTC)):
        response = Client().get(reverse("scheduling:feed", args=[feed.token]))

    calendar = Calendar.from_ical(response.content)
    events = {str(e["UID"]).split("@")[0]: e for e in calendar.walk("VEVENT")}
    assert str(events[str(cancelled.public_id)]["STATUS"]) == "CANCELLED"
    assert str(events[str(completed.public_id)]["STATUS"]) == "CONFIRMED"
    assert str(events[str(completed.public_id)]["X-CLINIC-STATE"]) == "completed"


def test_another_patients_ics_is_not_found(clinic, login):
    session = _book(clinic, 0, dt.time(9))
    stranger = login(UserFactory.create(role=Role.PATIENT))

    response = stranger.get(reverse("scheduling:session_ics", args=[session.public_id]))

    assert response.status_code == 404


def test_the_private_feed_needs_no_login_and_stops_working_when_replaced(clinic, login, client):
    session = _book(clinic, 0, dt.time(9))
    patient = login(session.patient)
    patient.post(reverse("scheduling:reset_feed"))
    token = CalendarFeed.objects.get(patient=session.patient).token

    feed = client.get(reverse("scheduling:feed", args=[token]))
    assert feed.status_code == 200
    assert str(session.public_id) in feed.content.decode()

    patient.post(reverse("scheduling:reset_feed"))
    assert client.get(reverse("scheduling:feed", args=[token])).status_code == 404


@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE, Role.CLINICIAN])
def test_only_the_front_desk_and_admin_reach_the_desk(role, login):
    assert login(UserFactory.create(role=role)).get(reverse("scheduling:desk")).status_code == 403


def test_booking_through_the_page_reports_a_taken_session_and_books_nothing(clinic, login):
    plan = approved_plan("page@example.org", clinic, infusions=2, min_days_between=2)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    query = {
        "location": clinic.pk,
        "first_date": MONDAY.isoformat(),
        "weekdays": ["0", "2", "4"],
        "window_starts": "09:00",
        "window_ends": "12:00",
    }
    url = reverse("scheduling:plan", args=[plan.public_id])
    page = desk.get(url, query)
    proposal = page.context["proposal"]
    assert proposal.complete
    second = proposal.sessions[1].slot
    # Every chair is taken at the second session's time before the desk clicks "Book".
    for n in range(6):
        try:
            rival = approved_plan(f"rival{n}@example.org", clinic, infusions=1)
            services.book_series(
                rival,
                clinic,
                [services.Choice(second.date, second.local_time)],
                booked_by=UserFactory.create(role=Role.FRONT_DESK),
            )
        except services.BookingConflict:
            break
    data = {
        f"session_{s.number}": f"{s.slot.date.isoformat()}T{s.slot.local_time:%H:%M}"
        for s in proposal.sessions
    }

    from urllib.parse import urlencode

    response = desk.post(f"{url}?{urlencode(query, doseq=True)}", data)

    assert response.status_code == 200
    assert "Session 2 was taken meanwhile; nothing was booked." in response.content.decode()
    assert not Session.objects.filter(patient=plan.patient).exists()
    assert response.context["proposal"].complete


def test_an_unparseable_choice_gets_a_message(clinic, login):
    plan = approved_plan("bad@example.org", clinic, infusions=1)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    query = "location=%d&first_date=2027-02-01&weekdays=0&window_starts=09:00&window_ends=12:00"
    url = reverse("scheduling:plan", args=[plan.public_id]) + "?" + query % clinic.pk

    response = desk.post(url, {"session_1": "next tuesday"})

    assert response.status_code == 200
    assert "Choose a date and time for every session." in response.content.decode()
    assert not Session.objects.exists()


def test_planner_queries_do_not_depend_on_how_many_sessions_exist(clinic):
    plan = approved_plan("q@example.org", clinic)
    request = planner.Request(
        shape=planner.PlanShape.from_plan(plan), first_date=MONDAY, weekdays=frozenset({0, 2, 4})
    )
    with CaptureQueriesContext(connection) as empty:
        planner.propose(clinic, plan.patient_id, request)
    for n, time in enumerate([dt.time(9), dt.time(11), dt.time(13)]):
        _book(clinic, n, time)
    with CaptureQueriesContext(connection) as busy:
        planner.propose(clinic, plan.patient_id, request)

    assert len(empty) == len(busy) == 5


def test_the_day_view_of_a_closure_says_closed_and_still_shows_the_sessions_booked(clinic, login):
    _book(clinic, 0, dt.time(9))
    Closure.objects.create(location=clinic, starts_on=MONDAY, ends_on=MONDAY, reason="Storm")
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    _, html = _count(desk, reverse("scheduling:day", args=["stamford", MONDAY.isoformat()]))

    assert "The clinic is closed on this day." in html
    assert html.count("Avery Testperson") == 1
    assert ">09:00</th>" in html  # the rows cover the session, not invented hours
    assert ">08:00</th>" not in html
