"""Staged sign-in, the lockout on every way in, trusted proxies and pruning
(docs/security.md#lockout).

Everything goes over HTTP with the test client, against the real database.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Role, User
from tests.conftest import current_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many unsuccessful sign-ins"


def _password_only(user: User, **extra: str) -> Client:
    client = Client(**extra)  # type: ignore[arg-type]  # extra headers for the request
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _wrong_code(user: User) -> str:
    right = current_code(user)
    return "000000" if right != "000000" else "111111"


def _is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _failures_for(email: str) -> int:
    from axes.models import AccessAttempt

    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(username=email))


# --- Staged sign-in -----------------------------------------------------------------------------


def test_after_the_password_alone_a_staff_member_is_not_signed_in():
    user = UserFactory.create(role=Role.CLINICIAN)

    client = _password_only(user)

    assert not _is_signed_in(client)
    user.refresh_from_db()
    assert user.last_login is None
    home = client.get(user.get_home_url())
    assert home.status_code == 302 and home["Location"].startswith("/login/")


def test_keep_alive_and_status_treat_a_half_signed_in_session_as_anonymous():
    user = UserFactory.create(role=Role.FRONT_DESK)
    client = _password_only(user)
    before = dict(client.session.items())

    alive = client.post(reverse("accounts:keep_alive"))
    status = client.get(reverse("accounts:session_status"))

    assert alive.status_code in (302, 401, 403)
    assert alive.status_code != 302 or alive["Location"].startswith("/login/")
    assert status.status_code in (302, 401, 403)
    assert "last_seen" not in client.session
    assert not _is_signed_in(client)
    assert {k: v for k, v in client.session.items() if k != "last_seen"} == before


def test_the_session_key_changes_at_the_password_and_at_the_second_factor():
    user = UserFactory.create(role=Role.NURSE)
    client = Client()
    client.get("/login/")
    first = client.session.session_key
    client.post("/login/", {"username": user.email, "password": PASSWORD})
    after_password = client.session.session_key

    response = client.post("/mfa/", {"code": current_code(user)})

    assert response.status_code == 302
    assert _is_signed_in(client)
    assert client.session.session_key not in (first, after_password)


def test_the_session_key_changes_at_first_enrolment():
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = UserFactory.create(role=Role.NURSE, authenticator=False)
    client = _password_only(user)
    page = client.get("/mfa/").content.decode()
    assert "<svg" in page
    before = client.session.session_key

    device = TOTPDevice.objects.get(user=user)
    done = client.post("/mfa/", {"code": f"{totp(device.bin_key):06d}"})

    assert "Keep these recovery codes safe" in done.content.decode()
    assert _is_signed_in(client)
    assert client.session.session_key != before
    device.refresh_from_db()
    assert device.confirmed


def test_changing_ones_own_password_rotates_the_session_key(login):
    admin = UserFactory.create(role=Role.CLINIC_ADMIN)
    client = login(admin)
    before = client.session.session_key

    response = client.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-secret-42",
            "new_password2": "another-long-secret-42",
        },
    )

    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.check_password("another-long-secret-42")
    assert client.session.session_key != before
    assert _is_signed_in(client)


# --- The second step counts like the password ---------------------------------------------------


def test_thirty_wrong_codes_lock_the_account_and_then_the_right_code_is_refused():
    user = UserFactory.create(role=Role.CLINICIAN)
    client = _password_only(user)

    for _ in range(30):
        client.post("/mfa/", {"code": _wrong_code(user)})
    # current_code also lifts django-otp's own throttle: the refusal comes from the lockout.
    refused = client.post("/mfa/", {"code": current_code(user)})

    assert refused.status_code == 429 and LOCKED in refused.content.decode()
    assert not _is_signed_in(client)
    again = Client().post("/login/", {"username": user.email, "password": PASSWORD})
    assert LOCKED in again.content.decode()
    assert not _is_signed_in(again.client)
    user.refresh_from_db()
    assert user.last_login is None
    assert _failures_for(user.email) >= 5


def test_four_wrong_passwords_and_one_wrong_code_lock_the_account():
    user = UserFactory.create(role=Role.FRONT_DESK)
    for _ in range(4):
        Client().post("/login/", {"username": user.email, "password": "wrong"})
    client = _password_only(user)
    locking = client.post("/mfa/", {"code": _wrong_code(user)})
    assert _failures_for(user.email) == 5

    refused = Client().post("/login/", {"username": user.email, "password": PASSWORD})

    assert locking.status_code == 429
    assert LOCKED in refused.content.decode()
    assert not _is_signed_in(refused.client)


# --- The admin's sign-in is the app's ----------------------------------------------------------


def test_the_admin_login_page_sends_people_to_the_app_sign_in(client):
    response = client.get("/admin/login/?next=/admin/locations/location/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert response["Location"] == "/login/?next=/admin/locations/location/"


def test_a_locked_account_cannot_sign_in_through_the_admin_and_keeps_its_failures():
    admin = UserFactory.create(role=Role.CLINIC_ADMIN)
    for _ in range(5):
        Client().post("/login/", {"username": admin.email, "password": "wrong"})

    for _ in range(3):
        through_admin = Client()
        response = through_admin.post(
            "/admin/login/", {"username": admin.email, "password": PASSWORD, "next": "/admin/"}
        )
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert not _is_signed_in(through_admin)
        assert through_admin.get("/admin/").status_code == 302

    refused = Client().post("/login/", {"username": admin.email, "password": PASSWORD})
    assert LOCKED in refused.content.decode()
    admin.refresh_from_db()
    assert admin.last_login is None
    assert _failures_for(admin.email) >= 5


def test_the_admin_refuses_a_half_signed_in_or_unverified_session():
    admin = UserFactory.create(role=Role.CLINIC_ADMIN)
    half = _password_only(admin)
    response = half.get("/admin/")
    assert response.status_code == 302 and not response["Location"].startswith("/mfa/")
    assert "Site administration" not in half.get("/admin/", follow=True).content.decode()

    # A session signed in without the second factor (as a session from before staged sign-in).
    unverified = Client()
    unverified.force_login(admin)
    response = unverified.get("/admin/", follow=True)
    assert "Site administration" not in response.content.decode()
    assert not _is_signed_in(unverified)


# --- Password-reset confirmation ---------------------------------------------------------------


def _reset_link(user: User, inbox) -> str:
    """The link of the reset email the person asked for on the page."""
    Client().post("/password-reset/", {"email": user.email})
    (message,) = inbox.deliver()
    return message.link("/password-reset/")


def test_a_locked_account_cannot_set_a_new_password_through_a_reset_link(inbox):
    user = UserFactory.create(role=Role.PATIENT)
    link = _reset_link(user, inbox)
    for _ in range(5):
        Client().post("/login/", {"username": user.email, "password": "wrong"})
    client = Client()
    assert client.get(link).status_code == 200

    response = client.post(
        link, {"new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"}
    )

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # Refused while locked, the link itself stays unused.
    assert not user.link_tokens.filter(used_at__isnull=False).exists()


def test_guessed_reset_links_count_as_failures_and_lock_the_account():
    user = UserFactory.create(role=Role.PATIENT)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    for n in range(5):
        Client().post(
            reverse("accounts:password_reset_confirm", args=[uid, f"guess-{n}"]),
            {"new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"},
        )

    assert _failures_for(user.email) == 5
    refused = Client().post("/login/", {"username": user.email, "password": PASSWORD})

    assert LOCKED in refused.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_opening_guessed_reset_links_counts_for_nothing_in_the_lockout():
    """An <img> of a guessed link on any page makes every visitor's browser open it: a GET must
    not count, or anyone could lock anyone's account from everyone's browser."""
    from axes.models import AccessAttempt

    user = UserFactory.create(role=Role.PATIENT)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    browser = Client(REMOTE_ADDR="192.0.2.20")
    for n in range(25):
        opened = browser.get(reverse("accounts:password_reset_confirm", args=[uid, f"guess-{n}"]))
        assert opened.status_code == 404
        assert "This link does not work" in opened.content.decode()
    browser.get(reverse("accounts:password_reset_confirm", args=["not-a-uid", "guess"]))

    assert not AccessAttempt.objects.exists()
    signed_in = Client(REMOTE_ADDR="192.0.2.20").post(
        "/login/", {"username": user.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 302


def test_opening_the_second_step_during_a_lockout_counts_for_nothing_more():
    user = UserFactory.create(role=Role.CLINICIAN)
    client = _password_only(user)
    for _ in range(4):
        Client().post("/login/", {"username": user.email, "password": "wrong"})
    client.post("/mfa/", {"code": _wrong_code(user)})
    assert _failures_for(user.email) == 5

    opened = [client.get("/mfa/") for _ in range(3)]

    assert {response.status_code for response in opened} == {429}
    assert _failures_for(user.email) == 5
    # A code submitted during the lockout counts, as a password does.
    client.post("/mfa/", {"code": current_code(user)})
    assert _failures_for(user.email) == 6


# --- Client address through trusted proxies ----------------------------------------------------


def _twenty_failures(**meta: str) -> None:
    for n in range(20):
        Client(**meta).post(  # type: ignore[arg-type]  # extra headers
            "/login/", {"username": f"guess{n}@example.org", "password": "x"}
        )


def test_x_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    user = UserFactory.create(role=Role.PATIENT)
    _twenty_failures(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.7")

    other_forwarded = Client(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.8").post(
        "/login/", {"username": user.email, "password": PASSWORD}
    )
    other_peer = Client(REMOTE_ADDR="192.0.2.11").post(
        "/login/", {"username": user.email, "password": PASSWORD}
    )

    assert LOCKED in other_forwarded.content.decode()
    assert other_peer.status_code == 302
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}


def test_one_trusted_proxy_makes_the_last_forwarded_hop_the_client(settings):
    proxy = "172.18.0.5"
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = [proxy]
    user = UserFactory.create(role=Role.PATIENT)
    # The attacker's own X-Forwarded-For value is kept by the proxy but is not trusted.
    _twenty_failures(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.7")

    neighbour = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8").post(
        "/login/", {"username": user.email, "password": PASSWORD}
    )
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7").post(
        "/login/", {"username": user.email, "password": PASSWORD}
    )

    assert neighbour.status_code == 302
    assert LOCKED in attacker.content.decode()
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


# --- Pruning and unlocking ----------------------------------------------------------------------


def test_failures_older_than_the_lockout_window_are_pruned():
    from axes.models import AccessAttempt

    from accounts.tasks import prune_sign_in_records

    old, recent = UserFactory.create(role=Role.PATIENT), UserFactory.create(role=Role.PATIENT)
    start = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        Client().post("/login/", {"username": old.email, "password": "wrong"})
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        Client().post("/login/", {"username": recent.email, "password": "wrong"})
    assert AccessAttempt.objects.count() == 2

    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        removed = prune_sign_in_records()

    assert removed >= 1
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [recent.email]


def test_the_pruning_task_is_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.tasks.prune_sign_in_records" in tasks


def test_a_clinic_admin_sees_and_unlocks_a_locked_address(login):
    _twenty_failures(REMOTE_ADDR="192.0.2.44")
    user = UserFactory.create(role=Role.PATIENT)
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    page = admin.get(reverse("accounts:locked")).content.decode()
    assert "192.0.2.44" in page
    admin.post(reverse("accounts:locked"), {"ip_address": "192.0.2.44"})

    accepted = Client(REMOTE_ADDR="192.0.2.44").post(
        "/login/", {"username": user.email, "password": PASSWORD}
    )
    assert accepted.status_code == 302
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.filter(ip_address="192.0.2.44").exists()


# --- Recovery codes on django-otp --------------------------------------------------------------


def test_recovery_codes_are_static_tokens_kept_hashed_and_each_works_once():
    from django_otp.oath import totp
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = UserFactory.create(role=Role.NURSE, authenticator=False)
    client = _password_only(user)
    client.get("/mfa/")
    device = TOTPDevice.objects.get(user=user)
    done = client.post("/mfa/", {"code": f"{totp(device.bin_key):06d}"}).content.decode()
    codes = re.findall(r"<li>([0-9a-f]{10})</li>", done)
    assert len(codes) == 10
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(stored) == 10 and not stored & set(codes)

    later = _password_only(user)
    assert later.post("/mfa/", {"code": codes[0].upper()}).status_code == 302
    assert _is_signed_in(later)
    again = _password_only(user)
    assert again.post("/mfa/", {"code": codes[0]}).status_code == 200
    assert not _is_signed_in(again)
    assert StaticToken.objects.filter(device__user=user).count() == 9


# --- The demo authenticator and the app's boundaries -------------------------------------------


def test_make_totp_prints_the_demo_staffs_current_code():
    import base64
    import subprocess
    import sys
    from pathlib import Path

    from django_otp.oath import TOTP

    done = subprocess.run(
        [sys.executable, "-m", "accounts.totp"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )

    expected = {
        f"{TOTP(base64.b32decode('KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TF'), drift=d).token():06d}"
        for d in (0, 1)
    }
    assert done.stdout.split()[0] in expected


def test_demo_staff_are_enrolled_with_django_otp_devices():
    from django.core.management import call_command
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.totp import DEMO_TOTP_SECRET, code_at

    call_command("load_demo")

    staff = User.objects.exclude(role=Role.PATIENT)
    devices = TOTPDevice.objects.filter(user__in=staff, confirmed=True)
    assert devices.count() == staff.count() > 0
    desk = staff.filter(role=Role.FRONT_DESK).first()
    client = Client()
    from scheduling.demo import DEMO_PASSWORD

    client.post("/login/", {"username": desk.email, "password": DEMO_PASSWORD})
    assert client.post("/mfa/", {"code": code_at(DEMO_TOTP_SECRET)}).status_code == 302
    assert _is_signed_in(client)


def test_accounts_imports_neither_scheduling_nor_intake():
    import ast
    from pathlib import Path

    accounts = Path(__file__).resolve().parent.parent / "accounts"
    offenders = []
    for path in accounts.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in {"scheduling", "intake"}
            ]
    assert offenders == []


@pytest.mark.parametrize("target", ["0", "home", "https://evil.example/", "//evil.example/"])
def test_the_second_step_sends_people_only_to_paths_of_this_site(target):
    user = UserFactory.create(role=Role.NURSE)
    client = _password_only(user)

    response = client.post("/mfa/", {"code": current_code(user), "next": target})

    assert response.status_code == 302 and response["Location"] == user.get_home_url()
    assert _is_signed_in(client)
    again = client.post("/mfa/", {"next": target})
    assert again.status_code == 302 and again["Location"] == user.get_home_url()
