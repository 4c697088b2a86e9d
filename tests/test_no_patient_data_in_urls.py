"""Patient data never travels in a URL, and link tokens are logged by their first characters only.

Access logs, proxies and browser histories keep URLs: a name typed into a GET search ends up in
all of them. Searches are POSTed; paging through an audit search uses an opaque id kept in the
session. A refused link is logged with the first 8 characters of its token, enough to match a
complaint to a message, never enough to open the link.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from scheduling import services
from scheduling.links import ACTION_SALT, CHECKIN_SALT, QUESTIONNAIRE_SALT, signed
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

# Links these tests open are signed here to work until long after the test.
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked():
    location = make_location(shifts_from=dt.date.today())
    plan = approved_plan("casey.urltest@example.org", location, infusions=1)
    plan.patient.first_name, plan.patient.last_name = "Casey", "Urltestperson"
    plan.patient.save()
    first = dt.date.today() + dt.timedelta(days=7)
    while first.weekday() > 4:
        first += dt.timedelta(days=1)
    return services.book_series(
        plan, location, [services.Choice(first, dt.time(10))], booked_by=plan.patient
    )


def test_the_desk_search_form_posts_and_finds_the_patient(booked, login):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    for page in (reverse("scheduling:desk"), reverse("scheduling:search")):
        html = desk.get(page).content.decode()
        form = re.search(r"<form[^>]*role=\"search\"[^>]*>", html).group(0)
        assert 'method="post"' in form, page
    response = desk.post(reverse("scheduling:search"), {"q": "Urltestperson"})

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("scheduling:series", args=[booked.public_id]) in html
    assert 'value="Urltestperson"' in html  # the query stays in the box, on the POST response
    assert "csrfmiddlewaretoken" in html


def test_a_search_in_the_address_finds_nobody(booked, login):
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    response = desk.get(reverse("scheduling:search"), {"q": "Urltestperson"})

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("scheduling:series", args=[booked.public_id]) not in html
    assert "Urltestperson" not in html


def test_the_audit_search_posts_and_pages_through_an_opaque_id(booked, login):
    patient = booked.patient
    actor = UserFactory.create(role=Role.CLINICIAN, email="reader.urltest@example.org")
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            actor_role="clinician",
            action="read",
            record_type="intake",
            record_id=f"r{n}",
            patient_id=patient.pk,
        )
        for n in range(130)
    )
    AuditEvent.objects.create(action="read", record_type="intake", record_id="someone-else")
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    form = re.search(r"<form[^>]*Search the audit log[^>]*>", admin.get("/audit/").content.decode())
    assert 'method="post"' in form.group(0)
    first = admin.post(reverse("audit:search"), {"patient": "Urltestperson", "since": ""})

    assert first.status_code == 200
    html = first.content.decode()
    assert f"{AuditEvent.objects.filter(patient_id=patient.pk).count()} events" in html
    next_link = re.search(r'href="(\?search=[0-9a-f]{32}&amp;page=2)"', html).group(1)
    assert "Urltestperson" not in next_link and "casey" not in next_link.lower()
    second = admin.get(reverse("audit:search") + next_link.replace("&amp;", "&"))
    assert second.status_code == 200
    assert "Page 2 of 2" in second.content.decode()
    assert "someone-else" not in second.content.decode()
    assert 'value="Urltestperson"' in second.content.decode()  # the form shows the search


def test_an_unknown_or_foreign_audit_search_id_shows_the_whole_log(booked, login):
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    AuditEvent.objects.create(action="read", record_type="intake", record_id="anything")

    response = admin.get(reverse("audit:search"), {"search": "0" * 32, "page": "1"})

    assert response.status_code == 200
    assert f"{AuditEvent.objects.count()} event" in response.content.decode()


def _tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def test_a_refused_link_logs_its_token_by_prefix_only(booked, client, caplog):
    caplog.set_level(logging.DEBUG)
    session = booked.sessions.get()
    tokens = {
        "scheduling:session_action": _tampered(signed(ACTION_SALT, str(session.public_id), FAR)),
        "outcomes:check_in": _tampered(signed(CHECKIN_SALT, str(session.public_id), FAR)),
        "outcomes:questionnaire": _tampered(
            signed(QUESTIONNAIRE_SALT, f"{booked.public_id}:mid", FAR)
        ),
        "accounts:verify_email": "a-verification-token-nobody-issued-0123456789",
        "accounts:accept_invitation": "a-long-invitation-token-nobody-issued-0123456789",
        "scheduling:feed": "a-calendar-feed-token-nobody-issued-0123456789",
        "accounts:password_reset_confirm": "a-reset-token-nobody-issued-0123456789",
    }
    # A reset link names the account too (its lockout counts a guess against it).
    leading = {"accounts:password_reset_confirm": ["MQ"]}

    for name, token in tokens.items():
        response = client.get(reverse(name, args=[*leading.get(name, []), token]))
        assert response.status_code in (404, 410), name

    logged = caplog.text
    for name, token in tokens.items():
        assert token not in logged, name
        assert token[8:] not in logged, name
    for name in ("scheduling:session_action", "outcomes:check_in", "outcomes:questionnaire"):
        assert tokens[name][:8] in logged, name  # refusals are still traceable


def test_the_access_logger_cuts_tokens_from_the_path_and_the_referer_and_drops_query_values():
    """What gunicorn.conf.py's logger hands to any access-log format (fast; the gunicorn run in
    tests/test_no_patient_data_in_logs.py proves it end to end)."""
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config

    from clinic.accesslog import RedactingLogger

    token = signed(ACTION_SALT, "9b7c1c1e-0000-4000-8000-000000000000", FAR)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/r/{token}/?q=Casey",
        "PATH_INFO": f"/r/{token}/",
        "QUERY_STRING": "q=Casey",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://127.0.0.1/check-in/{token}/?email=casey@example.org",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="404 Not Found", headers=[], sent=10)

    atoms = RedactingLogger(Config()).atoms(response, request, environ, dt.timedelta(0))

    text = repr(atoms)
    assert token not in text and token[8:] not in text
    assert "Casey" not in text and "casey@example.org" not in text
    assert atoms["r"] == f"GET /r/{token[:8]}…/?q=… HTTP/1.1"
    assert atoms["f"] == f"http://127.0.0.1/check-in/{token[:8]}…/?email=…"


def test_a_mangled_link_that_names_no_page_is_still_logged_by_prefix(client, caplog):
    caplog.set_level(logging.DEBUG)
    token = signed(ACTION_SALT, "9b7c1c1e-0000-4000-8000-000000000000", FAR)

    response = client.get(f"/r/{token}/)")  # a mail client kept the closing bracket

    assert response.status_code == 404
    assert token not in caplog.text and token[8:] not in caplog.text
    assert f"/r/{token[:8]}…/)" in caplog.text
