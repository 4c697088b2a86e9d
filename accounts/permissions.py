"""The Django-admin permissions of clinic administrators: the configuration, nothing clinical."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

GROUP = "Clinic administrators"

# (app label, model) the clinic admin adds, changes and deletes in the admin.
MANAGED = [
    ("locations", "location"),
    ("locations", "openinghours"),
    ("locations", "closure"),
    ("locations", "chair"),
    ("locations", "nurseshift"),
    ("review", "protocoltemplate"),
    ("scheduling", "reminderrule"),
    ("intake", "consenttext"),
]
# ... may look at and change in part: names, email, locations and whether an account is active
# (accounts.admin.UserAdmin keeps privileges to superusers); new staff come from an invitation.
LIMITED = [("accounts", "user")]
# ... and may only look at.
VIEWED = [("scheduling", "series"), ("scheduling", "session"), ("notifications", "message")]


def clinic_admin_group() -> Group:
    group, _ = Group.objects.get_or_create(name=GROUP)
    return group


def ensure_clinic_admin_permissions(sender: AppConfig, **kwargs: Any) -> None:
    """After every migrate (and test flush): the group and its permissions exist.

    post_migrate is sent once per app, in INSTALLED_APPS order, and each app's permissions are
    created by its own signal. So this runs on the signal of the last app, when the permissions
    of every app exist (on a fresh install's first start the later apps' ones were once missing).
    """
    if sender is not _last_migrated_app():
        return
    wanted = Q(pk__in=[])
    for app_label, model in MANAGED:
        wanted |= Q(content_type__app_label=app_label, content_type__model=model)
    for app_label, model in LIMITED:
        wanted |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"view_{model}", f"change_{model}"],
        )
    for app_label, model in VIEWED:
        wanted |= Q(
            content_type__app_label=app_label, content_type__model=model, codename=f"view_{model}"
        )
    clinic_admin_group().permissions.set(Permission.objects.filter(wanted))


def _last_migrated_app() -> AppConfig:
    """The app whose post_migrate comes last (Django sends it to apps with a models module)."""
    return [config for config in apps.get_app_configs() if config.models_module is not None][-1]
