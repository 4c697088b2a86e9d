"""The Django-admin permissions of clinic administrators: the configuration, nothing clinical."""

from __future__ import annotations

from typing import Any

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
    ("accounts", "user"),
]
# ... and may only look at.
VIEWED = [("scheduling", "series"), ("scheduling", "session"), ("notifications", "message")]


def clinic_admin_group() -> Group:
    group, _ = Group.objects.get_or_create(name=GROUP)
    return group


def ensure_clinic_admin_permissions(**kwargs: Any) -> None:
    """Run after every migrate (and test flush): the group and its permissions exist."""
    wanted = Q(pk__in=[])
    for app_label, model in MANAGED:
        wanted |= Q(content_type__app_label=app_label, content_type__model=model)
    for app_label, model in VIEWED:
        wanted |= Q(
            content_type__app_label=app_label, content_type__model=model, codename=f"view_{model}"
        )
    clinic_admin_group().permissions.set(Permission.objects.filter(wanted))
