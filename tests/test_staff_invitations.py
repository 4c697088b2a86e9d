"""New staff accounts come from an invitation with a role from a fixed list
(docs/security.md#admin)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Invitation, Role, User
from notifications.models import Message
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fresh-staff-password-7"


def test_a_clinic_admin_invites_a_clinician_who_sets_a_password_and_then_enrols(login, inbox):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    location = LocationFactory.create()
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    sent = admin.post(
        "/invitations/staff/new/",
        {
            "email": "Dr.Kim@Example.org",
            "first_name": "Jae",
            "last_name": "Kim",
            "role": Role.CLINICIAN,
            "location": str(location.pk),
        },
    )

    assert sent.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("dr.kim@example.org", Role.CLINICIAN)
    (message,) = inbox.deliver()
    assert message.to == ["dr.kim@example.org"]
    assert "Clinician" in message.body
    link = message.link("/register/invite/")

    invitee = Client()
    page = invitee.get(link).content.decode()
    assert "date_of_birth" not in page and 'name="password1"' in page
    accepted = invitee.post(
        link,
        {
            "first_name": "Jae",
            "last_name": "Kim",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    assert accepted.status_code == 302 and accepted["Location"].startswith("/mfa/")
    user = User.objects.get(email="dr.kim@example.org")
    assert (user.role, user.is_superuser, user.is_staff) == (Role.CLINICIAN, False, False)
    assert list(user.locations.all()) == [location]
    assert user.check_password(NEW_PASSWORD)
    assert not hasattr(user, "patient_profile")
    # Not signed in until the second factor is set up.
    assert "_auth_user_id" not in invitee.session
    assert invitee.get("/review/").status_code == 302

    enrol = invitee.get("/mfa/").content.decode()
    assert "Set up your authenticator" in enrol
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = invitee.post("/mfa/", {"code": f"{totp(device.bin_key):06d}"})
    assert "Keep these recovery codes safe" in done.content.decode()
    assert invitee.session["_auth_user_id"] == str(user.pk)
    assert invitee.get("/review/").status_code == 200
    invitation.refresh_from_db()
    assert invitation.used_by == user


@pytest.mark.parametrize("role", ["superuser", Role.PATIENT, "admin", ""])
def test_the_staff_invitation_offers_no_role_outside_the_fixed_list(login, role):
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    response = admin.post(
        "/invitations/staff/new/",
        {
            "email": "someone@example.org",
            "first_name": "S",
            "last_name": "T",
            "role": role,
            "is_superuser": "on",
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode() or "role" in (
        response.context["form"].errors
    )
    assert not Invitation.objects.exists()
    assert not Message.objects.exists()


def test_the_staff_invitation_lists_exactly_the_four_staff_roles(login):
    admin = login(UserFactory.create(role=Role.CLINIC_ADMIN))

    form = admin.get("/invitations/staff/new/").context["form"]

    assert [value for value, _ in form.fields["role"].choices if value] == [
        Role.CLINIC_ADMIN,
        Role.FRONT_DESK,
        Role.CLINICIAN,
        Role.NURSE,
    ]


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.CLINICIAN, Role.NURSE, Role.PATIENT])
def test_only_clinic_admins_invite_staff(login, role):
    client = login(UserFactory.create(role=role))

    response = client.post(
        "/invitations/staff/new/",
        {"email": "x@example.org", "first_name": "X", "role": Role.CLINIC_ADMIN},
    )

    assert response.status_code in (302, 403)
    assert not Invitation.objects.exists()
