from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import (
            consent,
            emails,
            signals,  # noqa: F401  (connects the sign-in receivers)
        )
        from accounts.permissions import ensure_clinic_admin_permissions
        from notifications import registry

        # Every app's signal, not only this one's: the handler waits for the last app.
        post_migrate.connect(ensure_clinic_admin_permissions, dispatch_uid="clinic-admin-group")
        # Account emails are outbox rows resolved at send time (accounts.emails).
        emails.register()
        # Consent to texts is read again right before each text is delivered.
        registry.register_text_gate(consent.texts_refused)


class ClinicAdminConfig(admin_apps.AdminConfig):
    """The Django admin on the app's own site: sign-in through /login/, verified sessions only."""

    default = False  # named in INSTALLED_APPS instead of django.contrib.admin

    default_site = "accounts.admin_site.ClinicAdminSite"
