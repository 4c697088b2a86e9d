from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import signals  # noqa: F401  (connects the sign-in receivers)
        from accounts.permissions import ensure_clinic_admin_permissions

        post_migrate.connect(ensure_clinic_admin_permissions, sender=self)
