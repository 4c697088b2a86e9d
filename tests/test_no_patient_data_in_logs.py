"""A whole journey with every logger at DEBUG: no patient name, birth date, phone or email."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.urls import reverse

from accounts.models import Role, User
from notifications import services as outbox
from scheduling.models import Session
from tests.factories import UserFactory
from tests.intake_data import valid_steps
from tests.scheduling_data import make_location

# Links these tests open are signed here to work until long after the test.
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db

SECRETS = [
    "Avery",
    "Testperson",
    "1980-04-12",
    "04/12/1980",
    "2035550199",
    "555-0199",
    "avery.journey@example.org",
    "Jamie",
]


def test_a_full_journey_logs_no_patient_data(client, login, caplog, settings, tmp_path, inbox):
    settings.SMS_BACKEND = "notifications.backends.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    caplog.set_level(logging.DEBUG)
    location = make_location(shifts_from=dt.date.today())
    clinician = UserFactory.create(role=Role.CLINICIAN)
    clinician.locations.add(location)

    # Registration and email verification.
    client.post(
        "/register/",
        {
            "first_name": "Avery",
            "last_name": "Testperson",
            "email": "avery.journey@example.org",
            "date_of_birth": "1980-04-12",
        },
    )
    link = inbox.deliver()[-1].link("/register/verify/")
    client.post(link, {"password1": "a-long-journey-pass-1", "password2": "a-long-journey-pass-1"})
    patient = User.objects.get(email="avery.journey@example.org")
    assert patient.is_active

    # The intake, with a mistake on the way and an urgent answer.
    client.post(reverse("intake:start"))
    intake = patient.intakes.get()
    steps = valid_steps()
    steps["about"]["email"] = "avery.journey@example.org"
    steps["mood"]["phq9_9"] = "1"
    client.post(
        reverse("intake:step", args=[intake.public_id, "about"]),
        {**steps["about"], "postal_code": "bad"},
    )
    for slug, data in steps.items():
        client.post(reverse("intake:step", args=[intake.public_id, slug]), data)
    client.post(reverse("intake:submit", args=[intake.public_id]))
    intake.refresh_from_db()
    assert intake.status == "submitted"

    # Review: acknowledge the urgent flag and approve with the default plan.
    doctor = login(clinician)
    doctor.get(reverse("review:summary", args=[intake.public_id]))
    doctor.post(reverse("review:acknowledge", args=[intake.public_id]), {"ack-note": "Called."})
    from review.models import ProtocolTemplate
    from review.services import PLAN_FIELDS

    template = ProtocolTemplate.objects.get(is_default=True)
    plan_data = {f"plan-{f}": getattr(template, f) or "" for f in PLAN_FIELDS}
    doctor.post(reverse("review:approve", args=[intake.public_id]), plan_data)
    plan = patient.treatment_plans.get()

    # Booking the series through the front desk's pages.
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    first = dt.date.today() + dt.timedelta(days=3)
    query = {
        "location": location.pk,
        "first_date": first.isoformat(),
        "weekdays": ["0", "1", "2", "3", "4"],
        "window_starts": "09:00",
        "window_ends": "12:00",
    }
    url = reverse("scheduling:plan", args=[plan.public_id])
    proposal = desk.get(url, query).context["proposal"]
    from urllib.parse import urlencode

    desk.post(
        f"{url}?{urlencode(query, doseq=True)}",
        {
            f"session_{s.number}": f"{s.slot.date.isoformat()}T{s.slot.local_time:%H:%M}"
            for s in proposal.sessions
        },
    )
    assert Session.objects.filter(patient=patient).count() == plan.infusions

    # Reminders: every message, due or not, goes through the senders.
    from notifications.models import Message

    Message.objects.update(send_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    for message_id in outbox.claim_due(100_000):
        outbox.send(message_id)
    assert Message.objects.filter(status="sent").count() > 10

    # A cancellation, and the patient's pages.
    session = Session.objects.filter(patient=patient).order_by("starts_at").last()
    desk.post(reverse("scheduling:cancel", args=[session.public_id]), {})
    client.get(reverse("scheduling:my_sessions"))

    logged = caplog.text
    assert len(caplog.records) > 0
    for secret in SECRETS:
        assert secret not in logged, secret


# --- The same over HTTP, on a real gunicorn with production settings ------------------------------


class _Browser:
    """A tiny HTTP client over urllib: cookies by hand (production cookies are Secure, and this
    is plain HTTP on loopback), CSRF tokens read from the page like a browser would submit them."""

    def __init__(self, base: str, cookies: dict[str, str] | None = None) -> None:
        self.base = base
        self.cookies = dict(cookies or {})

    def open(self, path: str, data: dict | None = None, headers: dict | None = None):
        import urllib.error
        import urllib.request
        from http.cookies import SimpleCookie
        from urllib.parse import urlencode

        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
            self.base + path,
            data=urlencode(data, doseq=True).encode() if data is not None else None,
            headers={
                **(headers or {}),
                "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            },
        )
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            response = opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        body = response.read().decode("utf-8", "replace")
        return response.status, body

    def submit(self, path: str, form_pattern: str, fields: dict) -> tuple[int, str]:
        """Fill the form of the page that matches `form_pattern` and send it as its method says."""
        from urllib.parse import urlencode

        status, html = self.open(path)
        assert status == 200, (path, status)
        tag = re.search(rf"<form[^>]*{form_pattern}[^>]*>", html).group(0)
        action = re.search(r'action="([^"]*)"', tag)
        target = action.group(1) if action else path
        if 'method="post"' in tag.lower():
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
            return self.open(target, {"csrfmiddlewaretoken": token, **fields})
        return self.open(f"{target}?{urlencode(fields)}")


def _no_redirect_handler():
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    return NoRedirects


_NoRedirects = _no_redirect_handler()


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """gunicorn as the Dockerfile runs it, every logger at DEBUG (tests/servers.py)."""
    from tests.servers import start_gunicorn

    base, stop, kill = start_gunicorn(tmp_path, workers=1, log_level="debug")
    yield base, stop
    kill()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_gunicorn_run_logs_no_patient_data_and_no_whole_token(gunicorn, login):
    from review.models import ProtocolTemplate
    from review.services import PLAN_FIELDS, approve
    from scheduling import services
    from scheduling.links import ACTION_SALT, CHECKIN_SALT, signed
    from tests.intake_data import submitted_intake

    base, stop = gunicorn
    location = make_location(shifts_from=dt.date.today())
    patient = UserFactory.create(
        role=Role.PATIENT,
        first_name="Avery",
        last_name="Testperson",
        email="avery.journey@example.org",
    )
    intake = submitted_intake(patient, location_slug=location.slug)
    template = ProtocolTemplate.objects.get(is_default=True)
    clinician = UserFactory.create(role=Role.CLINICIAN)
    plan = approve(
        intake, clinician, {**{f: getattr(template, f) for f in PLAN_FIELDS}, "infusions": 1}
    )
    first = dt.date.today() + dt.timedelta(days=7)
    while first.weekday() > 4:
        first += dt.timedelta(days=1)
    series = services.book_series(
        plan, location, [services.Choice(first, dt.time(10))], booked_by=clinician
    )
    session = series.sessions.get()
    action = signed(ACTION_SALT, str(session.public_id), FAR)
    checkin = signed(CHECKIN_SALT, str(session.public_id), FAR)
    forged = action[:-1] + ("A" if action[-1] != "A" else "B")

    def browser_for(user) -> _Browser:
        return _Browser(base, {"sessionid": login(user).cookies["sessionid"].value})

    desk = browser_for(UserFactory.create(role=Role.FRONT_DESK))
    status, found = desk.submit("/desk/", 'role="search"', {"q": "Testperson"})
    assert status == 200 and f"/desk/series/{series.public_id}/" in found
    for path in (
        f"/desk/series/{series.public_id}/",
        f"/desk/{location.slug}/day/{first.isoformat()}/",
        f"/desk/{location.slug}/week/{first.isoformat()}/",
        "/review/",
    ):
        assert desk.open(path)[0] == 200, path

    doctor = browser_for(clinician)
    assert doctor.open(f"/review/{intake.public_id}/")[0] == 200

    admin = browser_for(UserFactory.create(role=Role.CLINIC_ADMIN))
    status, audit_page = admin.submit("/audit/", "Search the audit log", {"patient": "Avery"})
    assert status == 200 and "event" in audit_page, audit_page[-3000:]

    me = browser_for(patient)
    for path in ("/sessions/", "/my-progress/", "/intake/"):
        assert me.open(path)[0] == 200, path

    link = _Browser(base)
    assert link.open(f"/r/{forged}/")[0] == 404  # a forged reminder link
    assert link.open(f"/r/{action}/")[0] == 200  # and the real one, with its page's assets
    assert link.open(f"/check-in/{checkin}/")[0] == 200
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', link.open(f"/r/{action}/")[1])
    referer = {"Referer": f"{base}/r/{action}/"}
    assert link.open(stylesheet.group(1), headers=referer)[0] == 200

    logs = stop()
    assert "/desk/" in logs["access"] and "/r/" in logs["access"]
    assert action[:8] in logs["access"]  # the link was logged, by its prefix
    everything = "\n".join(logs.values())
    for secret in [*SECRETS, "avery@example.org", "+12035550199", "(203) 555-0199"]:
        assert secret not in everything, secret
    for token in (action, forged, checkin):
        assert token not in everything, token
        assert token[8:] not in everything, token
