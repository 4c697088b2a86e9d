"""Every cancellation asks first: a dialog where JavaScript runs, a page of its own where not.

The cancel buttons are links to a confirmation page (GET, which changes nothing) that Bootstrap
opens as a dialog instead; the page's or the dialog's POST cancels."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from scheduling import links, services
from scheduling.models import Session, Status
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 14, tzinfo=dt.UTC)  # Monday 09:00 in Stamford


@pytest.fixture
def session() -> Session:
    with time_machine.travel(NOW, tick=False):
        location = make_location(shifts_from=NOW.date(), self_booking=True)
        plan = approved_plan("owner@example.org", location, infusions=1)
        return services.book_series(
            plan,
            location,
            [services.Choice(dt.date(2026, 11, 4), dt.time(10))],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        ).sessions.get()


def _dialog_trigger(html: str, url: str) -> str:
    """The cancel link to `url`: the whole <a> tag."""
    start = html.index(f'href="{url}"')
    return html[html.rindex("<a ", 0, start) : html.index(">", start)]


def test_the_desks_cancel_asks_first_on_a_page_or_in_a_dialog(session, login):
    url = reverse("scheduling:cancel", args=[session.public_id])
    with time_machine.travel(NOW, tick=False):
        desk = login(UserFactory.create(role=Role.FRONT_DESK))
        series_page = desk.get(reverse("scheduling:series", args=[session.series.public_id]))
        confirm = desk.get(url)
        session.refresh_from_db()
        assert session.status == Status.BOOKED

        done = desk.post(url, {"reason": "Patient moving away"}, follow=True)

    trigger = _dialog_trigger(series_page.content.decode(), url)
    assert 'data-bs-toggle="modal"' in trigger
    dialog_id = trigger.split('data-bs-target="#')[1].split('"')[0]
    html = series_page.content.decode()
    assert f'id="{dialog_id}"' in html and 'role="dialog"' in html
    assert f'aria-labelledby="{dialog_id}-title"' in html
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Cancel session 1 on Wed 4 Nov 2026, 10:00 EST?" in page
    assert f'<form method="post" action="{url}"' in page
    assert "Cancelled 1 session(s)." in done.content.decode()
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == (Status.CANCELLED, "Patient moving away")


def test_a_patient_confirms_a_cancellation_before_it_is_made(session, login):
    url = reverse("scheduling:cancel_mine", args=[session.public_id])
    with time_machine.travel(NOW, tick=False):
        patient = login(session.patient)
        listing = patient.get(reverse("scheduling:my_sessions")).content.decode()
        confirm = patient.get(url)
        session.refresh_from_db()
        assert session.status == Status.BOOKED
        patient.post(url, {"back": "sessions"})

    assert 'data-bs-toggle="modal"' in _dialog_trigger(listing, url)
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Cancel your appointment on Wednesday 4 November, 10:00 AM EST?" in page
    assert "No, keep it" in page and "Yes, cancel it" in page
    session.refresh_from_db()
    assert session.status == Status.CANCELLED


def test_a_self_booking_patient_confirms_a_cancellation_too(session, login):
    url = reverse("scheduling:self_cancel", args=[session.public_id])
    with time_machine.travel(NOW, tick=False):
        patient = login(session.patient)
        home = patient.get(reverse("scheduling:self_home")).content.decode()
        confirm = patient.get(url)
        session.refresh_from_db()
        assert session.status == Status.BOOKED
        patient.post(url)

    assert 'data-bs-toggle="modal"' in _dialog_trigger(home, url)
    assert "Yes, cancel it" in confirm.content.decode()
    session.refresh_from_db()
    assert session.status == Status.CANCELLED


def test_the_reminders_link_asks_before_it_cancels(session, client):
    url = reverse(
        "scheduling:session_action",
        args=[links.signed(links.ACTION_SALT, str(session.public_id), NOW + dt.timedelta(days=9))],
    )
    with time_machine.travel(NOW, tick=False):
        asked = client.post(url, {"action": "cancel"})
        session.refresh_from_db()
        assert session.status == Status.BOOKED
        client.post(url, {"action": "cancel", "confirmed": "yes"})

    page = asked.content.decode()
    assert "Cancel your appointment on Wednesday 4 November, 10:00 AM EST?" in page
    assert 'name="confirmed" value="yes"' in page
    session.refresh_from_db()
    assert session.status == Status.CANCELLED
