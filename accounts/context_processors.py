from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.models import Role

# (label, url name) per role; the first entry is the role's home.
_NAVIGATION: dict[str, list[tuple[StrOrPromise, str]]] = {
    Role.PATIENT: [
        (_("My care"), "scheduling:patient_home"),
        (_("My appointments"), "scheduling:my_sessions"),
        (_("My progress"), "outcomes:mine"),
    ],
    Role.FRONT_DESK: [
        ("Front desk", "scheduling:desk"),
        ("Intakes", "review:queue"),
        ("Invite a patient", "accounts:invite"),
    ],
    Role.NURSE: [("Today", "charting:day"), ("My shifts", "accounts:home_nurse")],
    Role.CLINICIAN: [
        ("Review queue", "review:queue"),
        ("Protocols", "review:templates"),
        ("Charts to co-sign", "charting:to_cosign"),
    ],
    Role.CLINIC_ADMIN: [
        ("Clinic", "accounts:home_clinic_admin"),
        ("Bookings", "scheduling:desk"),
        ("Invite a patient", "accounts:invite"),
        ("Invite staff", "accounts:invite_staff"),
        ("Locked accounts", "accounts:locked"),
        ("Audit log", "audit:search"),
        ("Settings", "admin:index"),
    ],
}


@functools.cache
def _items(role: str) -> list[tuple[StrOrPromise, str]]:
    """(label, path) per role, reversed once per process: the paths never change while it runs."""
    return [(label, reverse(name)) for label, name in _NAVIGATION.get(role, [])]


@functools.cache
def _layout_urls() -> dict[str, str]:
    """The paths the site layout links to on every page, reversed once per process."""
    names = ["home", "logout", "login", "session_status", "keep_alive", "set_language"]
    return {name: reverse(f"accounts:{name}") for name in names}


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = _items(user.role) if user is not None and user.is_authenticated else []
    staff = user is not None and user.is_authenticated and user.is_clinic_staff
    return {
        "nav_items": items,
        "layout_urls": _layout_urls(),
        "site_name": settings.SITE_NAME,
        "idle_seconds": settings.STAFF_IDLE_SECONDS if staff else None,
    }
