from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import Role, User
from tests.conftest import current_code
from tests.factories import PASSWORD

HOME_HEADINGS = {
    Role.PATIENT: "Your intake questionnaire",
    Role.FRONT_DESK: "Front desk",
    Role.NURSE: "Today's infusions",
    Role.CLINICIAN: "Review queue",
    Role.CLINIC_ADMIN: "Clinic configuration",
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_each_role_signs_in_and_lands_on_its_own_home(client, make_user, role):
    user = make_user(role=role, email=f"{role}@example.org")

    response = client.post(
        "/login/", {"username": "  " + user.email.upper(), "password": PASSWORD}, follow=True
    )
    if user.is_clinic_staff:
        # Staff then pass the second factor before anything else opens.
        assert response.redirect_chain[-1][0].startswith("/mfa/")
        assert client.get(user.get_home_url()).status_code == 302
        response = client.post(
            response.redirect_chain[-1][0], {"code": current_code(user)}, follow=True
        )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == user.get_home_url()
    assert HOME_HEADINGS[role] in response.content.decode()
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_a_message(client, make_user):
    user = make_user(role=Role.NURSE)

    response = client.post("/login/", {"username": user.email, "password": "wrong-password"})

    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()
    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.django_db
def test_a_role_home_refuses_other_roles_with_the_friendly_403(make_user, login):
    client = login(make_user(role=Role.PATIENT))

    response = client.get("/desk/")

    assert response.status_code == 403
    assert "This page is not available to you" in response.content.decode()


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_the_login_page(client):
    response = client.get("/home/nurse/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_signing_out_ends_the_session(make_user, login):
    client = login(make_user(role=Role.FRONT_DESK))

    response = client.post("/logout/")

    assert response.status_code == 302
    assert client.get("/desk/").status_code == 302


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(make_user):
    """The suite runs with a fast hasher (tests/conftest.py); the app's settings hash with Argon2
    and still verify PBKDF2 hashes from before."""
    from clinic import settings as app_settings

    with override_settings(PASSWORD_HASHERS=app_settings.PASSWORD_HASHERS):
        user = make_user()
        stored = User.objects.get(pk=user.pk)

        assert stored.password.startswith("argon2$")
        assert stored.check_password(PASSWORD)


@pytest.mark.django_db
def test_emails_are_unique_whatever_their_case(make_user):
    from django.db import IntegrityError

    make_user(email="someone@example.org")
    with pytest.raises(IntegrityError):
        User.objects.create(email="SomeOne@Example.org")
