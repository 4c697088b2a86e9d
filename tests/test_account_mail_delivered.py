"""Account emails as people receive them, sent by a real Celery worker to the real SMTP peer.

Registration, staff invitation and password reset: the request writes an outbox row and answers
at once; the worker (woken when the request commits, not by beat's next minute) mints the link's
token as it sends, stores only the token's SHA-256, and delivers within seconds. The person
follows the link inside the email that arrived; it works once. One test per kind; the rest of
their behaviour is tested in-process (tests/test_registration.py, tests/test_password_reset.py).
"""

from __future__ import annotations

import hashlib
import time

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Invitation, Role, User
from bench.smtp_peer import SmtpPeer
from notifications.models import Message
from tests.factories import PASSWORD, LocationFactory, UserFactory
from tests.mailbox import Mail, rows_holding

pytestmark = [pytest.mark.celery, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-fresh-and-long-secret-42"
# The worker is woken when the request commits; beat (not running here) is only the safety net.
WITHIN_SECONDS = 15


@pytest.fixture
def peer():
    """The SMTP peer only the worker delivers to: this process keeps Django's test mailbox, so
    an email sent inside the request (the old synchronous path) would never reach the peer."""
    smtp = SmtpPeer().start()
    yield smtp
    smtp.stop()


def _arrives(peer: SmtpPeer, worker, started: float) -> Mail:
    (message,) = peer.wait_for(1, timeout=WITHIN_SECONDS)
    assert time.monotonic() - started < WITHIN_SECONDS, worker.log.read_text()[-3000:]
    assert mail.outbox == []  # nothing was sent inside the request
    return Mail.parse(message)


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def _only_the_hash_is_stored(token: str, purpose: str) -> None:
    from accounts.models import LinkToken

    assert rows_holding(token) == []
    assert rows_holding(token[8:]) == []
    stored = LinkToken.objects.get(token_hash=hashlib.sha256(token.encode()).hexdigest())
    assert stored.purpose == purpose


def _link_token():
    from accounts.models import LinkToken

    return LinkToken.objects.get()


def _sent_row(kind: str, message: Mail, group: str, context: dict[str, int]) -> None:
    # The worker records "sent" once the SMTP peer has accepted the email: the peer may have it
    # a moment before the row says so.
    deadline = time.monotonic() + 15
    row = Message.objects.get(kind=kind)
    while row.status == "sending" and time.monotonic() < deadline:
        time.sleep(0.05)
        row.refresh_from_db()
    assert (row.status, row.channel, row.group, row.context) == ("sent", "email", group, context)
    assert message.message_id == str(row.public_id)


def _signs_in(email: str, password: str) -> bool:
    return Client().post("/login/", {"username": email, "password": password}).status_code == 302


def test_a_password_reset_email_comes_from_the_worker_and_its_link_works_once(start_worker, peer):
    user = UserFactory.create(role=Role.PATIENT, email="reset.me@example.org")
    worker = start_worker(**peer.env())
    client = Client()

    started = time.monotonic()
    asked = client.post("/password-reset/", {"email": "Reset.Me@Example.org"})

    assert asked.status_code == 302
    message = _arrives(peer, worker, started)
    assert message.to == ["reset.me@example.org"]
    assert "Reset your" in message.subject
    _sent_row("password_reset", message, f"user:{user.pk}", {"user": user.pk})
    link = message.link("/password-reset/")
    assert link in message.html
    _only_the_hash_is_stored(_token(link), "password_reset")

    form = client.get(link)
    done = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client().post(link, {"new_password1": "another-long-secret-7", "new_password2": "x"})

    assert "Choose a new password" in form.content.decode()
    assert done.status_code == 302
    assert done["Location"] == "/password-reset/done/"
    assert _signs_in("reset.me@example.org", NEW_PASSWORD)
    assert not _signs_in("reset.me@example.org", PASSWORD)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert _link_token().used_at is not None


def test_a_staff_invitation_comes_from_the_worker_and_the_invitee_accepts_once(
    start_worker, peer, login
):
    location = LocationFactory.create()
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))
    worker = start_worker(**peer.env())

    started = time.monotonic()
    sent = admin.post(
        "/invitations/staff/new/",
        {
            "email": "dr.kim@example.org",
            "first_name": "Jae",
            "last_name": "Kim",
            "role": Role.CLINICIAN,
            "location": str(location.pk),
        },
    )

    assert sent.status_code == 302
    invitation = Invitation.objects.get()
    message = _arrives(peer, worker, started)
    assert message.to == ["dr.kim@example.org"]
    _sent_row("invitation", message, f"invitation:{invitation.pk}", {"invitation": invitation.pk})
    link = message.link("/register/invite/")
    _only_the_hash_is_stored(_token(link), "invitation")

    invitee = Client()
    accepted = invitee.post(
        link,
        {
            "first_name": "Jae",
            "last_name": "Kim",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    again = Client().get(link)

    assert accepted.status_code == 302
    assert accepted["Location"].startswith("/mfa/")
    user = User.objects.get(email="dr.kim@example.org")
    assert (user.role, list(user.locations.all())) == (Role.CLINICIAN, [location])
    assert user.check_password(NEW_PASSWORD)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    invitation.refresh_from_db()
    assert invitation.used_by == user


def test_a_registration_email_comes_from_the_worker_and_its_link_activates_once(start_worker, peer):
    worker = start_worker(**peer.env())
    client = Client()

    started = time.monotonic()
    signed_up = client.post(
        "/register/",
        {
            "first_name": "Dana",
            "last_name": "Whitfield",
            "email": "dana.whitfield@example.org",
            "date_of_birth": "1981-03-14",
        },
    )

    assert signed_up.status_code == 302
    user = User.objects.get(email="dana.whitfield@example.org")
    message = _arrives(peer, worker, started)
    assert message.to == ["dana.whitfield@example.org"]
    assert "Confirm your email" in message.subject
    _sent_row("verify_email", message, f"user:{user.pk}", {"user": user.pk})
    link = message.link("/register/verify/")
    _only_the_hash_is_stored(_token(link), "verify_email")

    confirmed = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    again = Client().post(link, {"password1": "another-long-secret-7", "password2": "x"})

    assert confirmed.status_code == 302
    assert "_auth_user_id" in client.session
    user.refresh_from_db()
    assert user.is_active
    assert _signs_in("dana.whitfield@example.org", NEW_PASSWORD)
    assert "already confirmed" in again.content.decode()
    assert _link_token().used_at is not None
