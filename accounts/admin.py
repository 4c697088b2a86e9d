"""Accounts in the admin: clinic admins manage people's details, never their privileges.

Only a superuser changes a role, is_staff, is_superuser, groups or permissions: for anyone else
those fields are not in the form (so a posted value is ignored) and `save_model` /
`save_related` refuse a change that got through anyway. Nobody sets another person's password
here: the password page is gone and staff get a reset link by email (the action below). Accounts
are not added here either; new staff come from an invitation (/invitations/staff/new/).
Clinic admins see staff accounts only: a patient's email changed here would let whoever changed
it reset the patient's password and read their record.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import URLPattern
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import emails
from accounts.models import STAFF_ROLES, User

# Fields that grant access: a superuser's to change.
PRIVILEGES = ("role", "is_staff", "is_superuser")
PRIVILEGE_RELATIONS = ("groups", "user_permissions")

# Authenticator keys and recovery-code hashes have no business on a page.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


def _privileges(user: User) -> tuple[Any, ...]:
    return (
        *(getattr(user, field) for field in PRIVILEGES),
        user.password,
        sorted(user.groups.values_list("pk", flat=True)),
        sorted(user.user_permissions.values_list("pk", flat=True)),
    )


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "locations"]
    search_fields = ["email", "first_name", "last_name"]
    filter_horizontal = ["locations", "groups", "user_permissions"]
    actions = ["send_password_reset"]

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        access: tuple[str, ...] = ("is_active", *PRIVILEGES[1:])
        if request.user.is_superuser:
            access += PRIVILEGE_RELATIONS
        return (
            (None, {"fields": ("email",)}),
            ("Person", {"fields": ("first_name", "last_name")}),
            ("Work", {"fields": ("role", "locations")}),
            ("Access", {"fields": access}),
            ("Dates", {"fields": ("last_login", "date_joined")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        readonly = ["last_login", "date_joined"]
        if not request.user.is_superuser:
            readonly += PRIVILEGES
        return readonly

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        return users.filter(role__in=STAFF_ROLES, is_superuser=False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # staff come from an invitation, which lets them choose their password

    def get_urls(self) -> list[URLPattern]:
        # Without the "set this person's password" page, for everyone.
        return [
            url
            for url in super().get_urls()
            if getattr(url, "name", None) != "auth_user_password_change"
        ]

    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        if change and not request.user.is_superuser:
            stored = User.objects.get(pk=obj.pk)
            if any(getattr(obj, f) != getattr(stored, f) for f in (*PRIVILEGES, "password")):
                raise PermissionDenied
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm[User], formsets: Any, change: bool
    ) -> None:
        user = form.instance
        before = _privileges(user)
        super().save_related(request, form, formsets, change)
        # The change view runs in a transaction: refusing here undoes the whole save.
        if not request.user.is_superuser and _privileges(user) != before:
            raise PermissionDenied

    @admin.action(description="Send a password reset link", permissions=["change"])
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """The person chooses their own password from an emailed link (as /password-reset/)."""
        sent = 0
        with transaction.atomic():
            for user in queryset:
                if emails.can_reset_password(user):
                    emails.plan_password_reset(user)
                    sent += 1
        self.message_user(request, f"Password reset links sent: {sent}.", messages.SUCCESS)
