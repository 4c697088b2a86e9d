"""Password reset as the person meets it: the form, the email that arrives at the SMTP peer (sent
from the outbox through the worker's send path), the link inside it, a new password, signing in.

The link's token is minted when the email is sent; only its SHA-256 is stored; it works once, for
PASSWORD_RESET_TIMEOUT (2 hours), and using it voids the account's other reset links."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import LinkToken, Role, User
from notifications.models import Message
from tests.factories import PASSWORD, UserFactory
from tests.mailbox import rows_holding
from tests.test_registration import without_csrf_tokens

NEW_PASSWORD = "a-brand-new-secret-9"
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


def new_password(password: str = NEW_PASSWORD) -> dict[str, str]:
    return {"new_password1": password, "new_password2": password}


def signs_in(email: str, password: str) -> bool:
    return Client().post("/login/", {"username": email, "password": password}).status_code == 302


def reset_link(inbox, email: str) -> str:
    """Ask for a reset on the page, as the person does, and return the link that arrived."""
    assert Client().post("/password-reset/", {"email": email}).status_code == 302
    (message,) = inbox.deliver()
    return message.link("/password-reset/")


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.django_db
def test_a_reset_email_arrives_and_its_link_sets_a_new_password(inbox):
    user = UserFactory.create(role=Role.CLINICIAN, email="kim@example.org")
    client = Client()

    asked = client.post("/password-reset/", {"email": "KIM@example.org"}, follow=True)

    assert "Check your email" in asked.content.decode()
    row = Message.objects.get()
    assert (row.kind, row.group, row.context) == (
        "password_reset",
        f"user:{user.pk}",
        {"user": user.pk},
    )
    assert (row.recipient, row.body_text) == ("", "")
    assert not LinkToken.objects.exists()  # minted when the email is sent
    (message,) = inbox.deliver()
    assert message.to == ["kim@example.org"]
    assert "Reset your" in message.subject
    assert "within 2 hours" in message.body
    link = message.link("/password-reset/")
    assert link in message.html

    form = client.get(link)
    assert form.status_code == 200
    assert "Choose a new password" in form.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # opening the link changes nothing
    done = client.post(link, new_password())

    assert done.status_code == 302
    assert done["Location"] == "/password-reset/done/"
    assert signs_in("kim@example.org", NEW_PASSWORD)
    assert not signs_in("kim@example.org", PASSWORD)
    stored = LinkToken.objects.get()
    assert stored.used_at is not None
    assert stored.token_hash == hashlib.sha256(token_of(link).encode()).hexdigest()


@pytest.mark.django_db
def test_only_the_hash_of_the_token_is_stored_and_the_sent_record_shows_a_prefix(inbox):
    UserFactory.create(email="kim@example.org")

    link = reset_link(inbox, "kim@example.org")
    token = token_of(link)

    assert rows_holding(token) == []
    assert rows_holding(token[8:]) == []
    record = Message.objects.get()
    assert record.status == "sent"
    assert f"{token[:8]}…" in record.body_text
    assert f"{token[:8]}…" in record.body_html


@pytest.mark.django_db
def test_the_same_link_a_second_time_is_refused_and_changes_nothing(inbox):
    user = UserFactory.create(email="kim@example.org")
    link = reset_link(inbox, "kim@example.org")
    Client().post(link, new_password())

    get = Client().get(link)
    post = Client().post(link, new_password("someone-elses-secret-5"))

    assert get.status_code == post.status_code == 410
    assert "This link has already been used" in post.content.decode()
    assert "Sign in" in post.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_an_expired_link_is_refused_with_a_way_to_ask_again(inbox):
    user = UserFactory.create(email="kim@example.org")
    with time_machine.travel(NOW, tick=False):
        link = reset_link(inbox, "kim@example.org")

    with time_machine.travel(NOW + dt.timedelta(hours=1, minutes=59), tick=False):
        still = Client().get(link)
    with time_machine.travel(NOW + dt.timedelta(hours=2, seconds=1), tick=False):
        late = Client().post(link, new_password())

    assert still.status_code == 200
    assert late.status_code == 410
    html = late.content.decode()
    assert "This link has expired" in html
    assert "2 hours" in html
    assert 'href="/password-reset/"' in html
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_refused_new_password_keeps_the_link_usable(inbox):
    user = UserFactory.create(email="kim@example.org", first_name="Kimberly")
    link = reset_link(inbox, "kim@example.org")
    client = Client()

    short = client.post(link, new_password("short"))
    different = client.post(
        link, {"new_password1": NEW_PASSWORD, "new_password2": "not-the-same-42"}
    )
    good = client.post(link, new_password())

    assert short.status_code == different.status_code == 200
    assert "This password is too short" in short.content.decode()
    assert different.context["form"].errors["new_password2"]
    assert good.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_email(inbox):
    UserFactory.create(email="kim@example.org")

    known = Client().post("/password-reset/", {"email": "kim@example.org"}, follow=True)
    inbox.deliver()
    unknown = Client().post("/password-reset/", {"email": "nobody@example.org"}, follow=True)

    # Each client has its own random CSRF token (the language switch's form): not a difference
    # that tells anything about the address.
    assert without_csrf_tokens(unknown.content) == without_csrf_tokens(known.content)
    assert unknown.redirect_chain == known.redirect_chain
    assert inbox.deliver() == []
    nobody = Message.objects.exclude(status="sent").get()
    assert (nobody.status, nobody.context) == ("skipped", {"user": None})
    assert "no account" in nobody.last_error


@pytest.mark.django_db
def test_an_unknown_address_costs_the_request_the_same_broker_work_as_a_known_one(
    django_capture_on_commit_callbacks,
):
    """The answer's time must not tell a known address: each request wakes the dispatcher once
    after its commit (a slow or unreachable broker then slows both alike)."""
    UserFactory.create(email="kim@example.org")

    with django_capture_on_commit_callbacks() as known:
        Client().post("/password-reset/", {"email": "kim@example.org"})
    with django_capture_on_commit_callbacks() as unknown:
        Client().post("/password-reset/", {"email": "nobody@example.org"})

    assert len(known) == len(unknown) == 1
    assert Message.objects.count() == 2


def _statements(email: str) -> list[str]:
    """The SQL a reset request for `email` runs, its values left out."""
    with CaptureQueriesContext(connection) as captured:
        assert Client().post("/password-reset/", {"email": email}).status_code == 302
    return [_shape(query["sql"]) for query in captured.captured_queries]


def _shape(sql: str) -> str:
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r'"s\d+_x\d+"', "?", sql)  # savepoint names
    return re.sub(r"\b\d+\b", "?", sql)


@pytest.mark.django_db
def test_a_known_and_an_unknown_address_cost_the_request_the_same_database_work():
    """Known 179 ms, unknown 149 ms: the outbox row (a write, and its commit) told them apart.
    Both now write one row, the unknown address's about no account, which the worker skips."""
    UserFactory.create(email="kim@example.org")
    UserFactory.create(email="gone@example.org", is_active=False)
    Client().post("/password-reset/", {"email": "warm@example.org"})

    known = _statements("kim@example.org")

    assert any(statement.startswith("INSERT") for statement in known)
    assert _statements("nobody@example.org") == known
    assert _statements("gone@example.org") == known


@pytest.mark.django_db
def test_an_inactive_account_gets_no_reset_email(inbox):
    UserFactory.create(email="gone@example.org", is_active=False)

    answer = Client().post("/password-reset/", {"email": "gone@example.org"}, follow=True)

    assert "Check your email" in answer.content.decode()
    assert inbox.deliver() == []
    assert Message.objects.get().context == {"user": None}  # as for an unknown address


@pytest.mark.django_db
def test_an_account_deactivated_before_the_email_goes_out_is_not_sent_one(inbox):
    user = UserFactory.create(email="kim@example.org")
    Client().post("/password-reset/", {"email": "kim@example.org"})
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert inbox.deliver() == []

    row = Message.objects.get()
    assert row.status == "skipped"
    assert "not active" in row.last_error
    assert not LinkToken.objects.exists()


@pytest.mark.django_db
def test_a_second_email_has_its_own_link_and_using_either_voids_the_other(inbox):
    user = UserFactory.create(email="kim@example.org")
    first = reset_link(inbox, "kim@example.org")
    second = reset_link(inbox, "kim@example.org")
    assert first != second
    assert Client().get(first).status_code == Client().get(second).status_code == 200

    Client().post(second, new_password())
    older = Client().post(first, new_password("someone-elses-secret-5"))

    assert older.status_code == 410
    assert "already been used" in older.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not LinkToken.objects.filter(used_at__isnull=True).exists()


@pytest.mark.django_db
def test_an_email_sent_again_after_a_lost_record_carries_a_second_working_link(inbox):
    """At least once: a worker that died after delivering and before recording sends again."""
    UserFactory.create(email="kim@example.org")
    first = reset_link(inbox, "kim@example.org")
    Message.objects.update(status="pending", sent_at=None)

    (again,) = inbox.deliver()
    second = again.link("/password-reset/")

    assert second != first
    assert LinkToken.objects.count() == 2
    assert Client().get(first).status_code == Client().get(second).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["tampered", "another_account"])
def test_a_link_that_is_not_a_reset_link_of_its_account_does_not_work(inbox, change):
    user = UserFactory.create(email="kim@example.org")
    other = UserFactory.create(email="lee@example.org")
    link = reset_link(inbox, "kim@example.org")
    uid, token = link.rstrip("/").split("/")[-2:]
    if change == "tampered":
        forged = f"/password-reset/{uid}/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}/"
    else:
        forged = link.replace(f"/{uid}/", f"/{_uid(other)}/")

    get = Client().get(forged)
    post = Client().post(forged, new_password())

    assert get.status_code == post.status_code == 404
    assert "This link does not work" in post.content.decode()
    for account in (user, other):
        account.refresh_from_db()
        assert account.check_password(PASSWORD)
    assert LinkToken.objects.get().used_at is None


def _uid(user: User) -> str:
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return urlsafe_base64_encode(force_bytes(user.pk))


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_set_the_password_once(inbox):
    """Two submissions of the same link in two connections at once: the conditional UPDATE lets
    one through; the other is refused and its password is never set."""
    user = UserFactory.create(email="kim@example.org")
    link = reset_link(inbox, "kim@example.org")
    passwords = ["first-of-two-clicks-1", "second-of-two-clicks-2"]
    start = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def click(password: str) -> None:
        try:
            start.wait()
            statuses[password] = Client().post(link, new_password(password)).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=[p]) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses.values()) == [302, 410]
    (winner,) = [p for p, status in statuses.items() if status == 302]
    user.refresh_from_db()
    assert user.check_password(winner)
    assert LinkToken.objects.get().used_at is not None


@pytest.mark.django_db
def test_expired_links_are_recognised_for_30_days_then_forgotten_by_the_daily_prune(inbox):
    from django.conf import settings

    from accounts.tasks import prune_link_tokens

    UserFactory.create(email="kim@example.org")
    with time_machine.travel(NOW, tick=False):
        link = reset_link(inbox, "kim@example.org")

    with time_machine.travel(NOW + dt.timedelta(days=30), tick=False):
        assert prune_link_tokens() == 0
        assert Client().get(link).status_code == 410
    with time_machine.travel(NOW + dt.timedelta(days=30, hours=3), tick=False):
        assert prune_link_tokens() == 1
        assert Client().get(link).status_code == 404
    assert not LinkToken.objects.exists()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.tasks.prune_link_tokens" in tasks
