"""Patient registration: self sign-up with email verification, and front-desk invitations.

The emails are read as they arrive at the real SMTP peer (the `inbox` fixture), sent from the
outbox through the worker's own send path; links are followed from inside them."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from accounts import services
from accounts.models import Invitation, LinkToken, PatientProfile, Role, User
from notifications.models import Message
from tests.factories import LocationFactory
from tests.mailbox import rows_holding

NEW_PASSWORD = "a-fresh-and-long-secret-42"
ATTACKER_PASSWORD = "the-attacker-knows-this-9"
TODAY = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


def sign_up_data(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Dana",
        "last_name": "Whitfield",
        "email": "dana.whitfield@example.org",
        "date_of_birth": "1981-03-14",
    }
    data.update(overrides)
    return data


def password_data(password: str = NEW_PASSWORD, again: str | None = None) -> dict[str, str]:
    return {"password1": password, "password2": password if again is None else again}


def link_in(message, path_prefix: str) -> str:
    """The path of the first absolute link in the email's text part that starts with the prefix."""
    return message.link(path_prefix)


def without_csrf_tokens(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def signs_in(client: Client, email: str, password: str) -> bool:
    """Through the sign-in page: django-axes needs the request, which Client.login does not pass."""
    return client.post("/login/", {"username": email, "password": password}).status_code == 302


def invite(client: Client, **overrides: object):
    data: dict[str, object] = {
        "email": "robin.ames@example.org",
        "first_name": "Robin",
        "location": "",
    }
    data.update(overrides)
    return client.post("/invitations/new/", data)


def accept_data(**overrides: str) -> dict[str, str]:
    data = {**sign_up_data(first_name="Robin", last_name="Ames"), **password_data()}
    data.update(overrides)
    del data["email"]
    return data


def account_state(email: str = "dana.whitfield@example.org") -> tuple[object, ...]:
    """Everything the verification link may change, to compare before and after."""
    user = User.objects.get(email=email)
    profile = PatientProfile.objects.get(user=user)
    return (user.password, user.is_active, user.last_login, profile.email_verified_at)


def signed_up_link(inbox, **overrides: str) -> str:
    """Sign up in a browser of its own and return the verification link that was emailed."""
    Client().post("/register/", sign_up_data(**overrides))
    return link_in(inbox.deliver()[-1], "/register/verify/")


# --- Self sign-up --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signing_up_creates_an_inactive_patient_without_a_password_and_sends_one_email(
    client, inbox
):
    response = client.post("/register/", sign_up_data(email=" Dana.Whitfield@Example.org "))

    assert response.status_code == 302
    assert response["Location"] == "/register/sent/"
    user = User.objects.get(email="dana.whitfield@example.org")
    assert user.role == Role.PATIENT
    assert not user.is_active
    assert not user.has_usable_password()
    assert (user.first_name, user.last_name) == ("Dana", "Whitfield")
    assert user.patient_profile.date_of_birth == dt.date(1981, 3, 14)
    assert user.patient_profile.email_verified_at is None
    # Planned in the sign-up's transaction: what it is and about whom, no address nor text.
    row = Message.objects.get()
    assert (row.kind, row.group, row.context) == (
        "verify_email",
        f"user:{user.pk}",
        {"user": user.pk},
    )
    assert (row.recipient, row.body_text, row.status) == ("", "", "pending")
    sent = inbox.deliver()
    assert len(sent) == 1
    message = sent[0]
    assert message.to == ["dana.whitfield@example.org"]
    assert "Confirm your email" in message.subject
    assert "choose your password" in message.body
    assert settings.SITE_NAME in message.body
    assert link_in(message, "/register/verify/") in message.html


@pytest.mark.django_db
def test_a_password_typed_into_the_sign_up_form_is_ignored(client, inbox):
    client.post("/register/", {**sign_up_data(), **password_data(ATTACKER_PASSWORD)})

    user = User.objects.get(email="dana.whitfield@example.org")
    assert not user.has_usable_password()
    assert not user.check_password(ATTACKER_PASSWORD)


@pytest.mark.django_db
def test_opening_the_link_shows_the_choose_password_form_and_changes_nothing(inbox):
    link = signed_up_link(inbox)
    before = account_state()
    scanner = Client()

    first = scanner.get(link)
    second = scanner.get(link)

    assert first.status_code == second.status_code == 200
    html = first.content.decode()
    assert "Choose your password" in html
    assert "dana.whitfield@example.org" in html
    assert re.search(r'<form method="post"', html)
    for name in ("password1", "password2"):
        assert f'for="id_{name}"' in html
    assert 'autocomplete="new-password"' in html
    assert "at least 10 characters" in html
    assert account_state() == before
    assert not User.objects.get(email="dana.whitfield@example.org").has_usable_password()
    assert "_auth_user_id" not in scanner.session


@pytest.mark.django_db
def test_choosing_a_password_activates_the_patient_and_signs_them_in(inbox):
    link = signed_up_link(inbox)
    client = Client()

    response = client.post(link, password_data(), follow=True)

    user = User.objects.get(email="dana.whitfield@example.org")
    assert response.redirect_chain[-1][0] == user.get_home_url()
    assert response.status_code == 200
    assert "your email address is confirmed" in response.content.decode()
    assert response.context["user"] == user
    assert user.is_active
    assert user.check_password(NEW_PASSWORD)
    assert user.patient_profile.email_verified_at is not None
    assert signs_in(Client(), "dana.whitfield@example.org", NEW_PASSWORD)


@pytest.mark.django_db
def test_mismatched_passwords_are_refused_next_to_the_field_and_change_nothing(inbox):
    link = signed_up_link(inbox)
    before = account_state()
    client = Client()

    response = client.post(link, password_data(again="something-else-entirely"))

    assert response.status_code == 200
    assert "The two passwords are not the same." in response.content.decode()
    assert response.context["form"].errors["password2"] == ["The two passwords are not the same."]
    assert account_state() == before
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_weak_password_is_refused_next_to_the_field_and_changes_nothing(inbox):
    link = signed_up_link(inbox)
    before = account_state()

    short = Client().post(link, password_data("password"))
    like_the_name = Client().post(link, password_data("danawhitfield"))

    assert "This password is too short" in short.content.decode()
    assert short.context["form"].errors["password1"]
    assert "too similar" in " ".join(like_the_name.context["form"].errors["password1"])
    assert account_state() == before


@pytest.mark.django_db
def test_posting_the_link_again_says_already_verified_and_does_not_sign_in(inbox):
    link = signed_up_link(inbox)
    Client().post(link, password_data())
    other_browser = Client()

    response = other_browser.post(link, password_data("a-different-long-secret-3"))

    assert response.status_code == 200
    assert "already confirmed" in response.content.decode()
    assert "_auth_user_id" not in other_browser.session
    user = User.objects.get(email="dana.whitfield@example.org")
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password("a-different-long-secret-3")


@pytest.mark.django_db
def test_a_sign_up_with_someone_elses_address_cannot_take_over_their_account(inbox):
    """Pre-hijacking: the attacker registers the victim's address before the victim does."""
    attacker = Client()
    attacker.post(
        "/register/",
        {**sign_up_data(first_name="Mallory"), **password_data(ATTACKER_PASSWORD)},
    )
    # The victim, who owns the mailbox, later signs up too and gets a fresh link.
    Client().post("/register/", sign_up_data())
    sent = inbox.deliver()
    assert [m.to for m in sent] == [["dana.whitfield@example.org"]] * 2
    owner = Client()

    owner.post(link_in(sent[-1], "/register/verify/"), password_data())

    user = User.objects.get(email="dana.whitfield@example.org")
    assert user.is_active
    assert user.check_password(NEW_PASSWORD)
    assert "_auth_user_id" in owner.session
    for guess in (ATTACKER_PASSWORD, NEW_PASSWORD.upper(), "", "!"):
        assert not signs_in(attacker, "dana.whitfield@example.org", guess)
    assert "_auth_user_id" not in attacker.session


@pytest.mark.django_db
def test_the_check_your_email_page_tells_how_long_the_link_works(client):
    response = client.post("/register/", sign_up_data(), follow=True)

    html = response.content.decode()
    assert "Check your email" in html
    assert "48 hours" in html


@pytest.mark.django_db
def test_an_unverified_patient_cannot_sign_in_before_using_the_link(client, inbox):
    client.post("/register/", {**sign_up_data(), **password_data()})

    response = client.post(
        "/login/", {"username": "dana.whitfield@example.org", "password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_person_under_18_is_refused_with_a_clear_message_and_no_account_is_made(client, inbox):
    with time_machine.travel(TODAY, tick=False):
        response = client.post("/register/", sign_up_data(date_of_birth="2008-06-16"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "This service is for adults (18 or over)" in html
    assert response.context["form"].errors["date_of_birth"]
    # Everything else the person typed is kept.
    assert 'value="dana.whitfield@example.org"' in html
    assert not User.objects.exists()
    assert not Message.objects.exists()
    assert inbox.deliver() == []


@pytest.mark.django_db
def test_a_person_who_turns_18_today_may_register(client, inbox):
    with time_machine.travel(TODAY, tick=False):
        response = client.post("/register/", sign_up_data(date_of_birth="2008-06-15"))

    assert response.status_code == 302
    assert User.objects.filter(email="dana.whitfield@example.org").exists()


@pytest.mark.django_db
def test_the_sign_up_form_is_labelled_and_asks_for_no_password(client):
    html = client.get("/register/").content.decode()

    for name in ("first_name", "last_name", "email", "date_of_birth"):
        assert f'for="id_{name}"' in html
    assert 'type="date"' in html
    assert 'type="password"' not in html
    assert "password1" not in html


@pytest.mark.django_db
def test_an_email_already_registered_gets_the_same_answer_and_its_owner_is_told(make_user, inbox):
    make_user(email="taken@example.org", first_name="Owner")
    new_address = Client().post("/register/", sign_up_data(email="fresh@example.org"), follow=True)
    inbox.deliver()

    taken = Client().post("/register/", sign_up_data(email="TAKEN@example.org"), follow=True)

    assert taken.status_code == new_address.status_code == 200
    assert taken.redirect_chain == new_address.redirect_chain
    # Each client has its own random CSRF token (the language switch's form): not a difference
    # that tells anything about the address.
    assert without_csrf_tokens(taken.content) == without_csrf_tokens(new_address.content)
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    owner = User.objects.get(email="taken@example.org")
    assert owner.first_name == "Owner"
    assert owner.has_usable_password()
    sent = inbox.deliver()
    assert len(sent) == 1
    message = sent[0]
    assert message.to == ["taken@example.org"]
    assert "tried to create" in message.subject
    assert f"{settings.SITE_URL}/password-reset/" in message.body
    assert "/register/verify/" not in message.body


@pytest.mark.django_db
def test_registering_again_before_verifying_sends_a_fresh_link_and_changes_nothing(client, inbox):
    client.post("/register/", sign_up_data())

    client.post("/register/", sign_up_data(first_name="Someone", date_of_birth="1970-01-01"))

    sent = inbox.deliver()
    assert len(sent) == 2
    assert "Confirm your email" in sent[1].subject
    # Two links, both valid until one is used (at least once: each sending mints its own).
    assert link_in(sent[0], "/register/verify/") != link_in(sent[1], "/register/verify/")
    assert Client().get(link_in(sent[0], "/register/verify/")).status_code == 200
    user = User.objects.get(email="dana.whitfield@example.org")
    assert user.first_name == "Dana"
    assert user.patient_profile.date_of_birth == dt.date(1981, 3, 14)
    assert not user.has_usable_password()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_verification_link_is_refused_with_an_offer_to_resend(client, inbox, method):
    link = signed_up_link(inbox)
    tampered = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    before = account_state()

    response = getattr(client, method)(tampered, password_data())

    assert response.status_code == 404
    html = response.content.decode()
    assert "This link does not work" in html
    assert 'action="/register/resend/"' in html
    assert account_state() == before
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_token_minted_for_another_purpose_is_refused(client, make_user):
    from accounts import links
    from accounts.models import TokenPurpose

    user = make_user(is_active=False)
    PatientProfile.objects.create(user=user, date_of_birth=dt.date(1980, 1, 1))
    reset = links.mint(
        TokenPurpose.PASSWORD_RESET, user=user, expires_at=TODAY + dt.timedelta(days=9999)
    )

    get = client.get(f"/register/verify/{reset}/")
    post = client.post(f"/register/verify/{reset}/", password_data())

    assert get.status_code == post.status_code == 404
    user.refresh_from_db()
    assert not user.is_active
    assert not user.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_an_expired_verification_link_is_refused_and_a_new_one_can_be_requested(client, inbox):
    with time_machine.travel(TODAY, tick=False):
        link = signed_up_link(inbox)

    with time_machine.travel(TODAY + dt.timedelta(hours=48, minutes=1), tick=False):
        get = client.get(link)
        post = client.post(link, password_data())
        resent = client.post("/register/resend/", {"email": "dana.whitfield@example.org"})
        sent = inbox.deliver()

    assert get.status_code == post.status_code == 410
    assert "This link has expired" in post.content.decode()
    user = User.objects.get(email="dana.whitfield@example.org")
    assert not user.is_active
    assert not user.has_usable_password()
    assert resent.status_code == 302
    assert resent["Location"] == "/register/sent/"
    assert len(sent) == 1
    new_link = link_in(sent[0], "/register/verify/")
    with time_machine.travel(TODAY + dt.timedelta(hours=49), tick=False):
        assert client.post(new_link, password_data()).status_code == 302
    user.refresh_from_db()
    assert user.is_active


@pytest.mark.django_db
def test_a_link_that_expires_while_the_form_is_open_is_refused_on_submit(client, inbox):
    with time_machine.travel(TODAY, tick=False):
        link = signed_up_link(inbox)

    with time_machine.travel(TODAY + dt.timedelta(hours=47, minutes=59), tick=False):
        form = client.get(link)
    with time_machine.travel(TODAY + dt.timedelta(hours=48, minutes=1), tick=False):
        submitted = client.post(link, password_data())

    assert form.status_code == 200
    assert submitted.status_code == 410
    assert not User.objects.get(email="dana.whitfield@example.org").is_active


@pytest.mark.django_db
def test_a_link_still_works_just_before_48_hours(client, inbox):
    with time_machine.travel(TODAY, tick=False):
        link = signed_up_link(inbox)

    with time_machine.travel(TODAY + dt.timedelta(hours=47, minutes=59), tick=False):
        response = client.post(link, password_data())

    assert response.status_code == 302
    assert User.objects.get(email="dana.whitfield@example.org").is_active


@pytest.mark.django_db
def test_opening_a_used_link_says_already_verified_and_does_not_sign_in(inbox):
    link = signed_up_link(inbox)
    Client().post(link, password_data())
    other_browser = Client()

    response = other_browser.get(link)

    assert response.status_code == 200
    assert "already confirmed" in response.content.decode()
    assert "Choose your password" not in response.content.decode()
    assert "_auth_user_id" not in other_browser.session


@pytest.mark.django_db
def test_an_old_link_never_reactivates_a_patient_the_clinic_deactivated(client, inbox):
    link = signed_up_link(inbox)
    Client().post(link, password_data())
    User.objects.filter(email="dana.whitfield@example.org").update(is_active=False)

    get = client.get(link)
    post = client.post(link, password_data("a-different-long-secret-3"))

    assert "already confirmed" in get.content.decode()
    assert "already confirmed" in post.content.decode()
    user = User.objects.get(email="dana.whitfield@example.org")
    assert not user.is_active
    assert user.check_password(NEW_PASSWORD)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_verification_link_carries_a_random_token_of_which_only_the_hash_is_stored(
    client, inbox
):
    with time_machine.travel(TODAY, tick=False):
        client.post("/register/", sign_up_data())
        message = inbox.deliver()[0]
    user = User.objects.get(email="dana.whitfield@example.org")
    link = link_in(message, "/register/verify/")
    token = link.removeprefix("/register/verify/").rstrip("/")

    stored = LinkToken.objects.get()

    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert (stored.purpose, stored.user, stored.used_at) == ("verify_email", user, None)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.expires_at == TODAY + dt.timedelta(hours=48)
    for private in ("dana", "whitfield", "example.org", "1981"):
        assert private not in link.lower()
    # Not in any column: the outbox's record of the email shows the token's first characters.
    assert rows_holding(token) == []
    record = Message.objects.get()
    assert (record.status, record.recipient) == ("sent", "dana.whitfield@example.org")
    assert f"/register/verify/{token[:8]}…" in record.body_text
    assert str(record.public_id) == message.message_id


@pytest.mark.django_db
def test_the_verification_claim_lets_only_one_of_two_submissions_through(inbox):
    link = signed_up_link(inbox)
    token = link.removeprefix("/register/verify/").rstrip("/")
    services.verify_email(token, password=NEW_PASSWORD)

    with pytest.raises(services.AlreadyVerified):
        services.verify_email(token, password=ATTACKER_PASSWORD)

    assert User.objects.get(email="dana.whitfield@example.org").check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_asking_for_a_new_link_answers_the_same_for_any_address(client, make_user, inbox):
    make_user(email="active@example.org")

    unknown = client.post("/register/resend/", {"email": "nobody@example.org"}, follow=True)
    active = client.post("/register/resend/", {"email": "active@example.org"}, follow=True)

    assert without_csrf_tokens(unknown.content) == without_csrf_tokens(active.content)
    assert "Check your email" in unknown.content.decode()
    assert not Message.objects.exists()
    assert inbox.deliver() == []


@pytest.mark.django_db
def test_the_login_page_links_to_account_creation(client):
    html = client.get("/login/").content.decode()

    assert 'href="/register/"' in html
    assert "Create an account" in html


# --- Invitations ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_front_desk_invites_a_patient_by_email_and_only_a_hash_is_stored(
    make_user, login, inbox
):
    desk = make_user(role=Role.FRONT_DESK)
    location = LocationFactory.create(name="Stamford")
    client = login(desk)

    with time_machine.travel(TODAY, tick=False):
        response = invite(client, location=str(location.pk))

    assert response.status_code == 302
    assert response["Location"] == "/invitations/new/"
    invitation = Invitation.objects.get()
    assert invitation.email == "robin.ames@example.org"
    assert invitation.first_name == "Robin"
    assert invitation.location == location
    assert invitation.invited_by == desk
    assert invitation.expires_at == TODAY + dt.timedelta(days=7)
    assert invitation.used_at is None
    assert not LinkToken.objects.exists()  # minted when the email is sent
    with time_machine.travel(TODAY, tick=False):
        sent = inbox.deliver()
    assert len(sent) == 1
    message = sent[0]
    assert message.to == ["robin.ames@example.org"]
    assert settings.SITE_NAME in message.subject
    assert "for 7 days" in message.body
    link = link_in(message, "/register/invite/")
    token = link.removeprefix("/register/invite/").rstrip("/")
    stored = LinkToken.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (stored.invitation, stored.expires_at) == (invitation, invitation.expires_at)
    assert rows_holding(token) == []
    # (Within the same travelled time: staff sessions end after 15 idle minutes.)
    with time_machine.travel(TODAY, tick=False):
        page = client.get("/invitations/new/").content.decode()
    assert "Invitation sent to robin.ames@example.org" in page


@pytest.mark.django_db
def test_invitation_links_carry_no_email_or_name(make_user, login, inbox):
    invite(login(make_user(role=Role.FRONT_DESK)))

    link = link_in(inbox.deliver()[0], "/register/invite/")

    for private in ("robin", "ames", "example.org", "%40"):
        assert private not in link.lower()
    assert len(link.removeprefix("/register/invite/").rstrip("/")) >= 43


@pytest.mark.django_db
def test_the_invitation_page_lists_recent_invitations_in_a_captioned_table(make_user, login):
    client = login(make_user(role=Role.CLINIC_ADMIN))
    invite(client, email="first@example.org")
    invite(client, email="second@example.org")

    html = client.get("/invitations/new/").content.decode()

    table = html[html.index("<table") :]
    assert "<caption>" in table
    assert table.index("second@example.org") < table.index("first@example.org")
    assert "Not used yet" in table
    assert Invitation.objects.count() == 2


@pytest.mark.django_db
def test_the_front_desk_home_links_to_the_invitation_page(make_user, login):
    html = login(make_user(role=Role.FRONT_DESK)).get("/desk/").content.decode()

    assert 'href="/invitations/new/"' in html
    assert "Invite a patient" in html


@pytest.mark.django_db
def test_inviting_an_address_that_already_has_an_account_is_refused_for_staff(
    make_user, login, inbox
):
    make_user(email="robin.ames@example.org")

    response = invite(login(make_user(role=Role.FRONT_DESK)))

    assert response.status_code == 200
    assert "already has an account" in response.content.decode()
    assert not Invitation.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE, Role.CLINICIAN])
def test_other_roles_get_the_friendly_403_on_the_invitation_page(make_user, login, role):
    client = login(make_user(role=role))

    get = client.get("/invitations/new/")
    post = invite(client)

    assert get.status_code == 403
    assert post.status_code == 403
    assert "This page is not available to you" in get.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in_from_the_invitation_page(client):
    response = client.get("/invitations/new/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.fixture
def invitation_link(make_user, login, inbox):
    """A fresh invitation sent by the front desk for robin.ames@example.org at a location."""
    location = LocationFactory.create(name="Westport")
    invite(login(make_user(role=Role.FRONT_DESK)), location=str(location.pk))
    return link_in(inbox.deliver()[-1], "/register/invite/")


@pytest.mark.django_db
def test_the_invitation_form_shows_the_email_without_letting_it_change(invitation_link):
    response = Client().get(invitation_link)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="robin.ames@example.org"' in html
    assert re.search(r'<input[^>]*name="email"[^>]*disabled', html)
    assert 'value="Robin"' in html
    assert 'for="id_date_of_birth"' in html


@pytest.mark.django_db
def test_accepting_an_invitation_creates_an_active_verified_patient_at_the_location(
    invitation_link, inbox
):
    client = Client()

    response = client.post(
        invitation_link, {**accept_data(), "email": "attacker@example.org"}, follow=True
    )

    user = User.objects.get(email="robin.ames@example.org")
    assert not User.objects.filter(email="attacker@example.org").exists()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == user.get_home_url()
    assert response.context["user"] == user
    assert user.role == Role.PATIENT
    assert user.is_active
    assert user.check_password(NEW_PASSWORD)
    assert (user.first_name, user.last_name) == ("Robin", "Ames")
    profile = user.patient_profile
    invitation = Invitation.objects.get()
    assert invitation.used_at is not None
    assert invitation.used_by == user
    assert profile.email_verified_at == invitation.used_at
    assert profile.date_of_birth == dt.date(1981, 3, 14)
    assert profile.preferred_location.name == "Westport"
    assert LinkToken.objects.get().used_at == invitation.used_at
    assert inbox.deliver() == []


@pytest.mark.django_db
def test_a_second_use_of_the_same_invitation_link_is_refused(invitation_link):
    Client().post(invitation_link, accept_data())

    second_get = Client().get(invitation_link)
    second_post = Client().post(invitation_link, accept_data(first_name="Other"))

    assert second_get.status_code == second_post.status_code == 410
    assert "already been used" in second_post.content.decode()
    assert User.objects.filter(role=Role.PATIENT).count() == 1
    assert User.objects.get(role=Role.PATIENT).first_name == "Robin"


@pytest.mark.django_db
def test_the_claim_lets_only_one_of_two_submissions_through(invitation_link):
    token = invitation_link.removeprefix("/register/invite/").rstrip("/")
    details = services.PatientDetails("Robin", "Ames", dt.date(1981, 3, 14), NEW_PASSWORD)
    services.accept_invitation(token, details)

    with pytest.raises(services.InvitationUnavailable):
        services.accept_invitation(token, details)

    assert User.objects.filter(email="robin.ames@example.org").count() == 1


@pytest.mark.django_db
def test_an_expired_invitation_is_refused(make_user, login, inbox):
    with time_machine.travel(TODAY, tick=False):
        invite(login(make_user(role=Role.FRONT_DESK)))
        link = link_in(inbox.deliver()[0], "/register/invite/")

    with time_machine.travel(TODAY + dt.timedelta(days=7, seconds=1), tick=False):
        get = Client().get(link)
        post = Client().post(link, accept_data())

    assert get.status_code == post.status_code == 410
    assert "This invitation has expired" in post.content.decode()
    assert not User.objects.filter(email="robin.ames@example.org").exists()
    assert Invitation.objects.get().used_at is None


@pytest.mark.django_db
def test_an_unknown_invitation_token_gets_a_friendly_page(client):
    response = client.get("/register/invite/not-a-real-token/")

    assert response.status_code == 404
    assert "This invitation link does not work" in response.content.decode()


@pytest.mark.django_db
def test_an_under_18_invited_person_is_refused_and_the_invitation_stays_usable(invitation_link):
    with time_machine.travel(TODAY, tick=False):
        response = Client().post(invitation_link, accept_data(date_of_birth="2010-01-01"))

    assert response.status_code == 200
    assert "This service is for adults (18 or over)" in response.content.decode()
    assert not User.objects.filter(email="robin.ames@example.org").exists()
    assert Invitation.objects.get().used_at is None


@pytest.mark.django_db
def test_an_invited_address_that_registered_meanwhile_is_told_to_sign_in(
    invitation_link, make_user
):
    make_user(email="robin.ames@example.org")

    response = Client().post(invitation_link, accept_data())

    assert response.status_code == 200
    html = response.content.decode()
    assert "You already have an account" in html
    assert 'href="/login/"' in html
    assert User.objects.filter(email="robin.ames@example.org").count() == 1
    assert Invitation.objects.get().used_at is None
