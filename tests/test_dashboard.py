"""Every dashboard figure against a hand-made week, and constant queries at 20,000 sessions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from charting.forms import CheckInForm
from charting.models import InfusionRecord
from locations.models import Location
from outcomes import reports
from outcomes.models import CheckIn
from scheduling.models import Series, Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

# Staff activity is written to the session at most every STAFF_SEEN_RESOLUTION seconds; on a
# slow machine that write could fall inside one count and not the other.
STEADY = override_settings(STAFF_SEEN_RESOLUTION=10**9)

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 3, 1)


def MONDAY_END() -> dt.datetime:
    return dt.datetime(2027, 3, 8, tzinfo=dt.UTC)


def _session(location, nurse, n: int, status: str, day: int, hour: int, chair_index: int):
    plan = approved_plan(f"dash{n}@example.org", location)
    series = Series.objects.create(
        plan=plan, patient=plan.patient, location=location, booked_by=nurse
    )
    start = dt.datetime.combine(
        MONDAY + dt.timedelta(days=day), dt.time(hour), tzinfo=location.zone
    )
    return Session.objects.create(
        series=series,
        number=1,
        patient=plan.patient,
        location=location,
        chair=list(location.chairs.all())[chair_index],
        nurse=nurse,
        starts_at=start,
        setup_ends_at=start + dt.timedelta(minutes=15),
        ends_at=start + dt.timedelta(minutes=100),
        status=status,
    )


def _chart(session, nurse, before: int, after: int) -> None:
    InfusionRecord.objects.create(
        session=session,
        nurse=nurse,
        checked_in_at=session.starts_at,
        checked_in_charted_at=session.starts_at,
        fasting_confirmed=True,
        escort_name="Escort",
        escort_phone="+12035550111",
        weight_kg=Decimal("70.0"),
        pain_before=before,
        pain_after=after,
        dose_mg_per_kg=Decimal("0.50"),
        dose_mg=Decimal("35.0"),
        dose_confirmed_at=session.starts_at,
        infusion_started_at=session.starts_at,
        infusion_ended_at=session.starts_at + dt.timedelta(minutes=55),
        discharged_at=session.starts_at + dt.timedelta(minutes=90),
    )


@pytest.fixture
def week():
    location = make_location("dash", chairs=2, nurses=1, shifts_from=MONDAY, shift_days=7)
    nurse = location.nurse_shifts.first().nurse
    completed = [
        _session(location, nurse, 1, "completed", 0, 8, 0),
        _session(location, nurse, 2, "completed", 0, 10, 1),
        _session(location, nurse, 3, "completed", 0, 12, 0),
    ]
    for session, (before, after) in zip(completed, [(8, 3), (6, 4), (5, 5)], strict=True):
        _chart(session, nurse, before, after)
    _session(location, nurse, 4, "booked", 1, 8, 0)
    _session(location, nurse, 5, "no_show", 1, 10, 1)
    _session(location, nurse, 6, "late_cancelled", 1, 12, 0)
    _session(location, nurse, 7, "cancelled", 1, 14, 1)
    # Outside the week: does not count in the week's figures.
    _session(location, nurse, 8, "no_show", 8, 10, 0)
    # Pain reported at the 24 h follow-ups, against the intakes' 7-day average of 7; the
    # location judges after one completed infusion here (the default, 2, has its own test).
    for session, pain in zip(completed, [3, 4, 6], strict=True):
        CheckIn.objects.create(session=session, pain=pain)
        CheckIn.objects.filter(session=session).update(
            submitted_at=session.starts_at + dt.timedelta(hours=24)
        )
    Location.objects.filter(pk=location.pk).update(response_after_sessions=1)
    location.refresh_from_db()
    return location


def test_every_dashboard_figure_matches_the_hand_made_week(week):
    figures = reports.dashboard(week, MONDAY)

    assert figures.chair_capacity_minutes == 2 * 5 * 600
    assert figures.nurse_capacity_minutes == 5 * 600
    assert figures.sessions == 4
    assert figures.chair_booked_minutes == 400
    assert figures.chair_actual_minutes == 270
    assert figures.chair_utilisation_booked == round(400 / 6000, 3)
    assert figures.chair_utilisation_actual == round(270 / 6000, 3)
    assert figures.nurse_utilisation_booked == round(400 / 3000, 3)
    assert figures.nurse_utilisation_actual == round(270 / 3000, 3)
    assert (figures.scheduled, figures.no_shows, figures.late_cancellations) == (6, 1, 1)
    assert figures.no_show_rate == round(1 / 6, 3)
    assert figures.late_cancel_rate == round(1 / 6, 3)
    # Baseline 7: 3 is 57 % less (responder), 4 is 43 % (moderate), 6 is 14 % (none); the
    # sessions' own after-pain (8 -> 3, 6 -> 4, 5 -> 5) plays no part.
    assert (figures.responders, figures.moderate_responders) == (1, 2)
    assert figures.patients_with_outcome == 3
    assert figures.responder_rate == round(1 / 3, 3)
    assert figures.moderate_rate == round(2 / 3, 3)
    # Series that stopped: three after session 1; four (incl. next week's no-show) after 0.
    assert figures.dropouts == {0: 4, 1: 3}


def _series(location, nurse, email: str, infusions: int, statuses: list[str], week: int) -> Series:
    """A series of `infusions` planned, with one session per status, a day apart in its week."""
    plan = approved_plan(email, location, infusions=infusions)
    series = Series.objects.create(
        plan=plan, patient=plan.patient, location=location, booked_by=nurse
    )
    for number, status in enumerate(statuses, start=1):
        start = dt.datetime.combine(
            MONDAY + dt.timedelta(weeks=week, days=number), dt.time(8), tzinfo=location.zone
        )
        Session.objects.create(
            series=series,
            number=number,
            patient=plan.patient,
            location=location,
            chair=location.chairs.first(),
            nurse=nurse,
            starts_at=start,
            setup_ends_at=start + dt.timedelta(minutes=15),
            ends_at=start + dt.timedelta(minutes=100),
            status=status,
        )
    return series


def test_a_drop_out_is_a_series_with_nothing_left_to_come_and_fewer_completed_than_planned():
    """Each series' sessions are counted from the location's sessions (a session is at its
    series' location): ended ones count by the number completed, whatever else they hold; one
    with a session to come or under way does not count yet, nor one completed as planned, nor
    another location's."""
    here = make_location("here", chairs=1, nurses=1, shifts_from=MONDAY, shift_days=7)
    there = make_location("there", chairs=1, nurses=1, shifts_from=MONDAY, shift_days=7)
    nurse_here = here.nurse_shifts.first().nurse
    nurse_there = there.nurse_shifts.first().nurse
    plans = {
        "done": (3, ["completed", "completed", "completed"]),
        "stopped": (3, ["completed", "completed", "cancelled"]),
        "to-come": (3, ["completed", "booked"]),
        "confirmed": (3, ["confirmed", "no_show"]),
        "checked-in": (3, ["completed", "checked_in"]),
        "in-chair": (3, ["in_chair", "late_cancelled"]),
        "never": (2, ["no_show", "late_cancelled"]),
        "nothing-booked": (3, []),
        "more-than-planned": (4, ["completed"] * 4 + ["cancelled"]),
    }
    for week, (name, (infusions, statuses)) in enumerate(plans.items()):
        _series(here, nurse_here, f"{name}@example.org", infusions, statuses, week)
    _series(there, nurse_there, "elsewhere@example.org", 3, ["completed", "cancelled"], 0)

    assert reports.dashboard(here, MONDAY).dropouts == {0: 2, 2: 1}
    assert reports.dashboard(there, MONDAY).dropouts == {1: 1}


def test_a_session_is_at_its_series_location(week):
    """The drop-outs rely on it: the database refuses a session at another location."""
    session = Session.objects.filter(location=week).earliest("starts_at")
    elsewhere = make_location("elsewhere", chairs=1, nurses=1)

    with (
        pytest.raises(IntegrityError, match="session_at_its_series_location"),
        transaction.atomic(),
    ):
        _session_like(session, location=elsewhere)


def _session_like(session: Session, **changes) -> Session:
    fields = {
        field.attname: getattr(session, field.attname)
        for field in Session._meta.concrete_fields
        if field.attname not in {"id", "public_id"}
    }
    fields["starts_at"] += dt.timedelta(days=30)
    fields["setup_ends_at"] += dt.timedelta(days=30)
    fields["ends_at"] += dt.timedelta(days=30)
    fields.update({f"{name}_id": value.pk for name, value in changes.items()})
    return Session.objects.create(**fields)


def test_a_closure_removes_its_day_from_capacity(week):
    from locations.models import Closure

    Closure.objects.create(location=week, starts_on=MONDAY, ends_on=MONDAY)

    assert reports.dashboard(week, MONDAY).chair_capacity_minutes == 2 * 4 * 600


def test_the_dashboard_page_and_csv(week, login):
    client = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    page = client.get(reverse("outcomes:dashboard", args=["dash"]), {"week": "2027-03-03"})
    csv = client.get(reverse("outcomes:dashboard_csv", args=["dash"]), {"week": "2027-03-01"})

    html = page.content.decode()
    assert "week of 1 March 2027" in html
    assert "(1 of 6)" in html and "(1 of 3)" in html
    assert "16.7%" in html and "33.3%" in html  # no-show and responder rates as percentages
    body = csv.content.decode()
    assert csv["Content-Type"].startswith("text/csv")
    assert "no_show_rate,0.167" in body
    assert "dropouts_after_session_1,3" in body


def test_the_dashboard_costs_the_same_queries_with_20000_sessions(week, login):
    from bench.generate import busy_location

    big = busy_location(sessions=20_000, days_before=91, days_after=91)
    assert big.sessions.count() == 20_000
    client = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    def queries(location):
        with STEADY, CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("outcomes:dashboard", args=[location.slug]))
        assert response.status_code == 200
        return len(captured)

    assert queries(week) == queries(big)


def test_a_fasting_time_later_than_the_start_means_the_evening_before():
    start = dt.datetime(2027, 3, 1, 8, tzinfo=dt.UTC)

    def form(solid: str):
        return CheckInForm(
            {"last_solid_food": solid, "last_clear_liquid": "05:30"},
            start=start,
            solid_hours=6,
            clear_hours=2,
            ask_pregnancy=False,
        )

    ok, hungry = form("23:30"), form("03:00")
    ok.is_valid()
    hungry.is_valid()
    assert "last_solid_food" not in ok.errors
    assert "Not fasted" in hungry.errors["last_solid_food"][0]


def test_nothing_is_called_a_response_before_the_locations_number_of_infusions(week):
    Location.objects.filter(pk=week.pk).update(response_after_sessions=2)
    week.refresh_from_db()

    figures = reports.dashboard(week, MONDAY)

    assert (figures.responders, figures.patients_with_outcome, figures.responder_rate) == (
        0,
        0,
        None,
    )


def test_the_trend_covers_12_weeks_up_to_the_chosen_one(week, login):
    client = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    figures = reports.dashboard(week, MONDAY + dt.timedelta(days=7))
    page = client.get(reverse("outcomes:dashboard", args=["dash"]), {"week": "2027-03-08"})

    assert [p.week_start for p in figures.trend] == [
        MONDAY + dt.timedelta(weeks=n) for n in range(-10, 2)
    ]
    this_week, next_week = figures.trend[-2], figures.trend[-1]
    assert this_week.no_show_rate == round(1 / 6, 3)
    assert this_week.responder_rate == round(1 / 3, 3)
    assert next_week.no_show_rate == 1.0  # the one no-show of the following week
    assert next_week.responder_rate == round(1 / 3, 3)  # judged as of each week's end
    data = page.context["chart"]["trend"]
    assert len(data["weeks"]) == 12 and data["no_show"][-2] == round(1 / 6, 3)
    assert 'id="trend-chart"' in page.content.decode()


def test_clinicians_reach_the_sessions_behind_a_figure_and_clinic_admins_see_figures_only(
    week, login
):
    clinician, admin = (
        UserFactory.create(role=Role.CLINICIAN),
        UserFactory.create(role=Role.CLINIC_ADMIN),
    )
    doctor, manager = login(clinician), login(admin)
    board = reverse("outcomes:dashboard", args=["dash"])
    no_shows = reverse("outcomes:dashboard_sessions", args=["dash", "no-shows"])
    responders = reverse("outcomes:dashboard_sessions", args=["dash", "responders"])

    assert no_shows in doctor.get(board, {"week": "2027-03-01"}).content.decode()
    assert no_shows not in manager.get(board, {"week": "2027-03-01"}).content.decode()
    listed = doctor.get(no_shows, {"week": "2027-03-01"})
    assert manager.get(no_shows, {"week": "2027-03-01"}).status_code == 403

    no_show = Session.objects.get(location=week, status="no_show", starts_at__lt=MONDAY_END())
    assert no_show.patient.get_full_name() in listed.content.decode()
    people = doctor.get(responders, {"week": "2027-03-01"}).content.decode()
    assert people.count("Substantial response") == 1 and people.count("Moderate response") == 1


@pytest.mark.slow
def test_the_dashboard_reads_one_locations_series_and_weeks_not_every_session(week):
    """Beside a busier location, and with 20 months of history, the drop-outs read the location's
    open and completed sessions from their two partial indexes and the 12 weeks' counts read
    session_location_start: neither reads the whole session table, nor a location's whole
    history to keep 12 weeks (at these proportions, about the benchmark network's, a plan that
    did would scan)."""
    from bench.generate import busy_location

    busy_location(sessions=16_000, prefix="other")
    big = busy_location(sessions=8_000, days_before=600, days_after=30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scheduling_session")
        cursor.execute("ANALYZE scheduling_series")
        with CaptureQueriesContext(connection) as captured:
            today = big.local_today()
            reports.dashboard(big, today - dt.timedelta(days=today.weekday()))
        plans = {}
        for query in captured:
            cursor.execute("EXPLAIN " + query["sql"])
            plans[query["sql"]] = "\n".join(row[0] for row in cursor.fetchall())

    weekly = next(plan for sql, plan in plans.items() if "width_bucket" in sql and "status" in sql)
    dropouts = next(plan for sql, plan in plans.items() if "FROM scheduling_series s" in sql)
    for plan in (weekly, dropouts):
        assert "Seq Scan on scheduling_session" not in plan, plan
    assert "session_location_start" in weekly, weekly
    assert "session_open_by_series" in dropouts, dropouts
    assert "session_completed_by_series" in dropouts, dropouts


def test_the_trend_puts_sessions_either_side_of_local_midnight_in_their_weeks_across_dst():
    """Clocks go forward on Sunday 14 March 2027 in New York: a session at 23:00 that Sunday is
    in the week of 8 March, one at 00:00 on Monday 15 March (04:00 UTC, not 05:00) in the next."""
    location = make_location("dst", chairs=2, nurses=1, shifts_from=MONDAY, shift_days=21)
    nurse = location.nurse_shifts.first().nurse
    _session(location, nurse, 1, "booked", 13, 23, 0)
    _session(location, nurse, 2, "no_show", 14, 0, 1)

    figures = reports.dashboard(location, dt.date(2027, 3, 15))

    by_week = {point.week_start: point for point in figures.trend}
    assert by_week[dt.date(2027, 3, 8)].no_show_rate == 0.0  # the booked one only
    assert by_week[dt.date(2027, 3, 15)].no_show_rate == 1.0  # the no-show only
    assert (figures.sessions, figures.scheduled, figures.no_shows) == (0, 1, 1)
