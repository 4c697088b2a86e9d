"""Second factor, lockout, idle time-out, security headers and the append-only audit log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from tests.conftest import current_code
from tests.factories import PASSWORD, LocationFactory, UserFactory
from tests.intake_data import submitted_intake

pytestmark = pytest.mark.django_db


def _attempt(user):
    return Client().post("/login/", {"username": user.email, "password": PASSWORD})


def _password_only(user) -> Client:
    client = Client()
    client.post("/login/", {"username": user.email, "password": PASSWORD})
    return client


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN, Role.CLINIC_ADMIN])
def test_staff_cannot_reach_anything_without_the_second_factor(role):
    user = UserFactory.create(role=role)
    client = _password_only(user)

    for url in (user.get_home_url(), "/review/", "/desk/", "/admin/", "/audit/"):
        response = client.get(url)
        # Only the password passed: nobody is signed in yet (staged sign-in).
        assert response.status_code == 302 and "login/" in response["Location"], url

    wrong = client.post("/mfa/", {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    ok = client.post("/mfa/", {"code": current_code(user), "next": user.get_home_url()})
    assert ok["Location"] == user.get_home_url()
    assert client.get(user.get_home_url()).status_code == 200


def test_patients_need_no_second_factor(client):
    patient = UserFactory.create(role=Role.PATIENT)
    client.post("/login/", {"username": patient.email, "password": PASSWORD})

    assert client.get("/intake/").status_code == 200


def test_a_code_cannot_be_used_twice():
    user = UserFactory.create(role=Role.CLINICIAN)
    code = current_code(user)
    first = _password_only(user)
    assert first.post("/mfa/", {"code": code})["Location"] != "/mfa/"

    second = _password_only(user)
    response = second.post("/mfa/", {"code": code})
    assert response.status_code == 200  # refused: the step was used


def test_enrolment_shows_a_secret_and_gives_recovery_codes_that_work_once():
    from django_otp.plugins.otp_static.models import StaticToken

    from accounts import totp

    user = UserFactory.create(role=Role.NURSE, authenticator=False)
    client = _password_only(user)

    page = client.get("/mfa/").content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page
    done = client.post("/mfa/", {"code": totp.code_at(secret)}).content.decode()
    assert "Keep these recovery codes safe" in done
    codes = re.findall(r"<li>([0-9a-f]{10})</li>", done)
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10

    later = _password_only(user)
    assert later.post("/mfa/", {"code": codes[0]}).status_code == 302
    again = _password_only(user)
    assert again.post("/mfa/", {"code": codes[0]}).status_code == 200
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_five_failures_lock_the_account_until_an_admin_unlocks_it(login):
    user = UserFactory.create(role=Role.FRONT_DESK)
    for _ in range(5):
        Client().post("/login/", {"username": user.email, "password": "wrong"})

    refused = Client().post("/login/", {"username": user.email, "password": PASSWORD})
    assert "Too many unsuccessful sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in refused.client.session

    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    assert user.email in admin.get(reverse("accounts:locked")).content.decode()
    admin.post(reverse("accounts:locked"), {"username": user.email})
    accepted = Client().post("/login/", {"username": user.email, "password": PASSWORD})
    assert accepted.status_code == 302


def test_the_lock_lifts_after_fifteen_minutes():
    user = UserFactory.create(role=Role.PATIENT)
    start = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            Client().post("/login/", {"username": user.email, "password": "wrong"})
        assert (
            Client().post("/login/", {"username": user.email, "password": PASSWORD}).status_code
            == 429
        )
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert (
            Client().post("/login/", {"username": user.email, "password": PASSWORD}).status_code
            == 302
        )


def test_many_failures_from_one_address_lock_that_address(settings):
    settings.LOGIN_FAILURES_PER_IP = 20
    for n in range(20):
        Client().post("/login/", {"username": f"guess{n}@example.org", "password": "x"})
    user = UserFactory.create(role=Role.PATIENT)

    refused = Client().post("/login/", {"username": user.email, "password": PASSWORD})

    assert "Too many unsuccessful sign-ins" in refused.content.decode()


def test_staff_sessions_end_after_fifteen_idle_minutes(login):
    start = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        user = UserFactory.create(role=Role.CLINICIAN)
        client = login(user)
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert client.get("/review/").status_code == 200
        status = client.get(reverse("accounts:session_status")).json()
        assert status["remaining"] == 15 * 60
    # The status check does not count as activity: 14:00 + 15 minutes is the end.
    with time_machine.travel(start + dt.timedelta(minutes=28, seconds=30), tick=False):
        assert client.get(reverse("accounts:session_status")).json()["remaining"] == 30
    with time_machine.travel(start + dt.timedelta(minutes=29, seconds=1), tick=False):
        response = client.get("/review/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_patients_stay_signed_in_while_idle(login):
    start = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        client = login(UserFactory.create(role=Role.PATIENT))
    with time_machine.travel(start + dt.timedelta(hours=3), tick=False):
        assert client.get("/intake/").status_code == 200


def test_pages_carry_a_csp_without_inline_scripts_and_other_headers(client):
    response = client.get("/login/")

    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "<script>" not in response.content.decode()


def test_reading_a_summary_is_audited_and_the_log_is_searchable(login):
    LocationFactory.create(slug="stamford")
    patient = UserFactory.create(role=Role.PATIENT, email="audited@example.org")
    intake = submitted_intake(patient)
    clinician = UserFactory.create(role=Role.CLINICIAN, email="reader@example.org")
    login(clinician).get(reverse("review:summary", args=[intake.public_id]))

    event = AuditEvent.objects.filter(actor=clinician).get()
    assert (event.action, event.record_type, event.record_id) == (
        "read",
        "intake",
        str(intake.public_id),
    )
    assert (event.patient_id, event.actor_role, event.ip) == (patient.pk, "clinician", "127.0.0.1")

    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    by_patient = admin.get(reverse("audit:search"), {"patient": "audited"}).content.decode()
    assert "reader@example.org" in by_patient
    by_other = admin.get(reverse("audit:search"), {"user": "nobody-like-this"}).content.decode()
    assert "reader@example.org" not in by_other


def test_the_database_refuses_to_update_or_delete_audit_events():
    event = AuditEvent.objects.create(action="read", record_type="intake", record_id="x")

    update = "UPDATE audit_auditevent SET action = 'update' WHERE id = %s"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(update, [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "read"
