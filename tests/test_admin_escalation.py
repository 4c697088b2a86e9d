"""Clinic administrators manage configuration in the Django admin, never privileges
(docs/security.md#admin).

One test walks every URL of every registered model admin (changelist, add, change, delete,
history and custom ones such as a user's password page) as a clinic admin, GETs it and POSTs the
dangerous fields for the admin's own account and for a patient's, and checks both the answer and
that no privilege, password or membership changed in the database.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import URLPattern, reverse

from accounts.models import Role, User
from tests.factories import PASSWORD, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

REFUSED_OR_IGNORED = {200, 302, 403, 404, 405}


def _security_state() -> list[object]:
    """Everything that decides what a person may do, for every account."""
    rows = []
    for user in User.objects.order_by("pk"):
        rows.append(
            (
                user.pk,
                user.email,
                user.role,
                user.is_superuser,
                user.is_staff,
                user.is_active,
                user.password,
                sorted(user.groups.values_list("pk", flat=True)),
                sorted(user.user_permissions.values_list("pk", flat=True)),
            )
        )
    groups = [
        (group.name, sorted(group.permissions.values_list("pk", flat=True)))
        for group in Group.objects.order_by("name")
    ]
    state: list[object] = [rows, groups, User.objects.count(), Group.objects.count()]
    return state


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in admin.site._registry}


def _dangerous(target: User | None) -> dict[str, object]:
    """A change form that is otherwise valid, plus every field that grants or takes over."""
    data: dict[str, object] = {
        "is_superuser": "on",
        "is_staff": "on",
        "role": Role.CLINICIAN,
        "groups": [str(pk) for pk in Group.objects.values_list("pk", flat=True)],
        "user_permissions": [
            str(pk)
            for pk in Permission.objects.filter(
                content_type__app_label__in=["intake", "review", "accounts", "auth"]
            ).values_list("pk", flat=True)
        ],
        "password": "a-password-set-by-someone-else",
        "password1": "a-password-set-by-someone-else",
        "password2": "a-password-set-by-someone-else",
        "usable_password": "true",
        "is_active": "on",
    }
    if target is not None:
        data.update(
            email=target.email,
            first_name=target.first_name,
            last_name=target.last_name,
            last_login_0="",
            date_joined_0=target.date_joined.strftime("%Y-%m-%d"),
            date_joined_1=target.date_joined.strftime("%H:%M:%S"),
        )
    return data


def _admin_urls(own: User, patient: User) -> list[tuple[str, User | None, str]]:
    """(url, user the form is about, view name) for every URL of every registered model admin."""
    urls: list[tuple[str, User | None, str]] = []
    for model, model_admin in admin.site._registry.items():
        if model is User:
            objects: list = [own, patient]
        else:
            objects = [obj for obj in [model._default_manager.first()] if obj is not None]
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            name = f"admin:{pattern.name}"
            if pattern.pattern.converters:
                for obj in objects:
                    target = obj if model is User else None
                    urls.append((reverse(name, args=[obj.pk]), target, pattern.name))
            else:
                urls.append((reverse(name), None, pattern.name))
    return urls


def test_a_clinic_admin_cannot_escalate_through_any_admin_url(login):
    LocationFactory.create()
    own = UserFactory.create(role=Role.CLINIC_ADMIN, email="clinic.admin@example.org")
    patient = UserFactory.create(role=Role.PATIENT, email="a.patient@example.org")
    client = login(own)
    urls = _admin_urls(own, patient)
    before, counts = _security_state(), _row_counts()

    for url, target, name in urls:
        got = client.get(url)
        assert got.status_code in REFUSED_OR_IGNORED, (url, got.status_code)
        if name.endswith("_delete") and target is None:
            # Deleting a location or a template is a clinic admin's job, not an escalation.
            continue
        data = _dangerous(target)
        if name == "accounts_user_changelist":
            data.update(
                action="delete_selected",
                _selected_action=[str(own.pk), str(patient.pk)],
                post="yes",
            )
        posted = client.post(url, data)
        assert posted.status_code in REFUSED_OR_IGNORED, (url, posted.status_code)
        assert _security_state() == before, url
        assert _row_counts() == counts, url

    # The session was never given anything new: a patient's summary is still out of reach.
    assert client.get(reverse("review:queue")).status_code == 403
    own.refresh_from_db()
    assert (own.role, own.is_superuser) == (Role.CLINIC_ADMIN, False)
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)


def test_the_change_page_of_a_clinic_admins_own_account_ignores_privilege_fields(login):
    own = UserFactory.create(role=Role.CLINIC_ADMIN, first_name="Ada")
    client = login(own)
    url = reverse("admin:accounts_user_change", args=[own.pk])

    page = client.get(url).content.decode()
    data = _dangerous(own) | {"first_name": "Adaline"}
    response = client.post(url, data)

    assert 'name="is_superuser"' not in page and 'name="role"' not in page
    assert 'name="groups"' not in page and 'name="user_permissions"' not in page
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.first_name == "Adaline"  # the allowed field changed...
    assert (own.role, own.is_superuser) == (Role.CLINIC_ADMIN, False)  # ... and nothing else
    assert not own.user_permissions.exists()
    assert list(own.groups.values_list("name", flat=True)) == ["Clinic administrators"]


def test_nobody_sets_another_persons_password_in_the_admin(login):
    superuser = UserFactory.create(role=Role.CLINIC_ADMIN, is_superuser=True, is_staff=True)
    patient = UserFactory.create(role=Role.PATIENT)
    client = login(superuser)

    response = client.post(
        f"/admin/accounts/user/{patient.pk}/password/",
        {"password1": "set-by-the-superuser-1", "password2": "set-by-the-superuser-1"},
    )

    assert response.status_code in (302, 403, 404)
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)


def test_staff_get_a_password_reset_link_by_email_from_the_admin(login, inbox):
    admin_user = UserFactory.create(role=Role.CLINIC_ADMIN)
    nurse = UserFactory.create(role=Role.NURSE)
    client = login(admin_user)

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "send_password_reset", "_selected_action": [str(nurse.pk)]},
    )

    assert response.status_code == 302
    sent = inbox.deliver()
    assert [message.to for message in sent] == [[nurse.email]]
    link = sent[0].link("/password-reset/")
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)
    chosen = "the-nurses-own-secret-4"
    assert (
        Client().post(link, {"new_password1": chosen, "new_password2": chosen}).status_code == 302
    )
    nurse.refresh_from_db()
    assert nurse.check_password(chosen)


def test_a_superuser_may_still_change_roles(login):
    superuser = UserFactory.create(role=Role.CLINIC_ADMIN, is_superuser=True, is_staff=True)
    nurse = UserFactory.create(role=Role.NURSE)
    client = login(superuser)
    url = reverse("admin:accounts_user_change", args=[nurse.pk])

    response = client.post(url, _dangerous(nurse) | {"is_superuser": "", "is_staff": ""})

    assert response.status_code == 302, response.content.decode()[:2000]
    nurse.refresh_from_db()
    assert nurse.role == Role.CLINICIAN


def test_the_clinic_admin_group_may_only_view_and_change_users():
    from accounts.permissions import clinic_admin_group

    codenames = set(
        clinic_admin_group()
        .permissions.filter(content_type__app_label__in=["accounts", "auth"])
        .values_list("codename", flat=True)
    )

    assert codenames == {"view_user", "change_user"}
