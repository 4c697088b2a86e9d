"""Cached page parts (locations/snapshots.py) are used while nothing they show has changed, and
never after: every change a page shows, by save, bulk update or bulk insert, moves the version."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import time_machine
from django.core.cache import cache, caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from intake.models import UrgentFlag
from locations import snapshots
from review import services as review
from scheduling import services
from scheduling.models import Session, Status
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import submitted_intake
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 2, 1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(dt.datetime(2027, 1, 25, 12, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def clinic():
    return make_location("stamford", chairs=4, nurses=2, shifts_from=MONDAY)


def _book(clinic, n: int, time: dt.time) -> Session:
    plan = approved_plan(f"snap{n}@example.org", clinic, infusions=1)
    return services.book_series(
        plan,
        clinic,
        [services.Choice(MONDAY, time)],
        booked_by=UserFactory(role=Role.FRONT_DESK),
    ).sessions.get()


def _get(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _grid(html: str) -> str:
    return html.split('data-testid="day-grid"')[1].split("</table>")[0]


def test_an_unchanged_day_view_is_built_once_and_then_served_from_memory(clinic, login):
    _book(clinic, 0, dt.time(9))
    desk = login(UserFactory(role=Role.FRONT_DESK))
    url = reverse("scheduling:day", args=["stamford", MONDAY.isoformat()])

    built, first = _get(desk, url)
    served, second = _get(desk, url)

    assert served < built  # chairs, sessions, shifts and hours are not read again
    assert _grid(first) == _grid(second) and _grid(first).count("Avery Testperson") == 1


def test_a_booking_shows_at_once_on_day_and_week_views_already_built(clinic, login):
    _book(clinic, 0, dt.time(9))
    desk = login(UserFactory(role=Role.FRONT_DESK))
    day = reverse("scheduling:day", args=["stamford", MONDAY.isoformat()])
    week = reverse("scheduling:week", args=["stamford", MONDAY.isoformat()])
    assert _get(desk, day)[1].count("Avery Testperson") == 1
    assert _get(desk, week)[1].count("Avery Testperson") == 1

    _book(clinic, 1, dt.time(13))

    assert _get(desk, day)[1].count("Avery Testperson") == 2
    assert _get(desk, week)[1].count("Avery Testperson") == 2


def test_a_bulk_status_update_shows_at_once(clinic, login):
    session = _book(clinic, 0, dt.time(9))
    desk = login(UserFactory(role=Role.FRONT_DESK))
    url = reverse("scheduling:day", args=["stamford", MONDAY.isoformat()])
    assert "Checked in" not in _get(desk, url)[1]

    # An UPDATE sends no signal; SessionQuerySet.update moves the version itself.
    Session.objects.filter(pk=session.pk).update(status=Status.CHECKED_IN)

    assert Session.objects.get(pk=session.pk).status == Status.CHECKED_IN
    assert "Checked in" in _get(desk, url)[1]


def test_a_cancellation_leaves_the_day_view_at_once(clinic, login):
    session = _book(clinic, 0, dt.time(9))
    desk = login(UserFactory(role=Role.FRONT_DESK))
    url = reverse("scheduling:day", args=["stamford", MONDAY.isoformat()])
    assert "Avery Testperson" in _get(desk, url)[1]

    services.cancel_sessions(session, reason="ill")

    assert Session.objects.get(pk=session.pk).status == Status.CANCELLED
    assert "Avery Testperson" not in _get(desk, url)[1]


def test_a_renamed_patient_shows_under_the_new_name(clinic, login):
    session = _book(clinic, 0, dt.time(9))
    desk = login(UserFactory(role=Role.FRONT_DESK))
    url = reverse("scheduling:day", args=["stamford", MONDAY.isoformat()])
    assert "Avery Testperson" in _get(desk, url)[1]

    patient = session.patient
    patient.last_name = "Newname"
    patient.save(update_fields=["last_name"])

    assert "Avery Newname" in _get(desk, url)[1]


def test_only_the_changed_location_is_built_again(clinic, login):
    other = make_location("irvine", chairs=2, nurses=1, shifts_from=MONDAY)
    plan = approved_plan("only@example.org", clinic, infusions=1)
    desk = UserFactory(role=Role.FRONT_DESK)
    before = {pk: snapshots.version(pk) for pk in (clinic.pk, other.pk, snapshots.NETWORK)}

    services.book_series(plan, clinic, [services.Choice(MONDAY, dt.time(9))], booked_by=desk)

    assert snapshots.version(clinic.pk) > before[clinic.pk]
    assert snapshots.version(other.pk) == before[other.pk]
    assert snapshots.version(snapshots.NETWORK) > before[snapshots.NETWORK]


def test_the_queue_shows_a_newly_submitted_intake_at_once(login):
    stamford = LocationFactory(slug="stamford", name="Stamford")
    clinician = UserFactory(role=Role.CLINICIAN)
    clinician.locations.set([stamford])
    client = login(clinician)
    first = submitted_intake(UserFactory(role=Role.PATIENT, email="q1@example.org"))
    url = reverse("review:queue") + f"?location={stamford.pk}"
    html = _get(client, url)[1]
    assert str(first.public_id) in html

    second = submitted_intake(UserFactory(role=Role.PATIENT, email="q2@example.org"))

    html = _get(client, url)[1]
    assert str(first.public_id) in html and str(second.public_id) in html
    # The queue of all locations moves too.
    assert str(second.public_id) in _get(client, reverse("review:queue"))[1]


def test_an_acknowledgement_shows_on_a_summary_already_built(login):
    LocationFactory(slug="stamford", name="Stamford")
    clinician = UserFactory(role=Role.CLINICIAN)
    client = login(clinician)
    intake = submitted_intake(
        UserFactory(role=Role.PATIENT, email="u@example.org"),
        changes={"mood": {"phq9_9": "2"}},
    )
    url = reverse("review:summary", args=[intake.public_id])
    assert "Acknowledge the urgent flag" in _get(client, url)[1]

    flag = UrgentFlag.objects.get(intake=intake)
    assert review.acknowledge(flag, clinician, "Called the patient; safe, with support.")

    html = _get(client, url)[1]
    assert "Acknowledge the urgent flag" not in html
    assert "Called the patient; safe, with support." in html


def test_the_dashboard_follows_a_booking_at_once(clinic, login):
    admin = login(UserFactory(role=Role.CLINIC_ADMIN))
    url = reverse("outcomes:dashboard", args=["stamford"]) + f"?week={MONDAY.isoformat()}"
    assert '<tr><th scope="row">Sessions</th><td>0</td></tr>' in _get(admin, url)[1]

    _book(clinic, 0, dt.time(9))

    assert '<tr><th scope="row">Sessions</th><td>1</td></tr>' in _get(admin, url)[1]


def test_a_lost_version_starts_again_from_the_clock(clinic):
    """Versions count up from the nanosecond clock, so a restart never meets a value that
    parts were built under before (unless the clock itself went back)."""
    assert snapshots.version(clinic.pk) is not None
    cache.delete(f"pages-version:{clinic.pk}")
    before = time.time_ns()

    assert before <= snapshots.version(clinic.pk) <= time.time_ns()


def test_without_redis_pages_are_built_every_time_and_nothing_fails(clinic):
    builds = []

    def build() -> str:
        builds.append(1)
        return "built"

    unreachable = {
        "default": {
            "BACKEND": "clinic.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    with override_settings(CACHES=unreachable):
        assert snapshots.version(clinic.pk) is None
        assert snapshots.cached(clinic.pk, "part", build) == "built"
        assert snapshots.cached(clinic.pk, "part", build) == "built"
        snapshots.changed([clinic.pk])  # logs, does not raise

    assert len(builds) == 2
    assert caches["pages"].get("part") is None


def test_a_renamed_location_shows_on_the_other_locations_dashboards(clinic, login):
    other = make_location("irvine", chairs=2, nurses=1, shifts_from=MONDAY)
    admin = login(UserFactory(role=Role.CLINIC_ADMIN))
    url = reverse("outcomes:dashboard", args=["stamford"]) + f"?week={MONDAY.isoformat()}"
    assert ">Irvine</a>" in _get(admin, url)[1]

    other.name = "Irvine Spectrum"
    other.save()

    assert ">Irvine Spectrum</a>" in _get(admin, url)[1]


def test_bulk_inserted_sessions_move_the_version(clinic):
    """bulk_create sends no signal; SessionQuerySet.bulk_create moves the version itself."""
    session = _book(clinic, 0, dt.time(9))
    before = snapshots.version(clinic.pk)
    copy = Session.objects.get(pk=session.pk)
    copy.pk, copy.public_id, copy.status = None, uuid.uuid4(), Status.CANCELLED

    Session.objects.bulk_create([copy])

    assert Session.objects.filter(series=session.series).count() == 2
    assert snapshots.version(clinic.pk) > before
