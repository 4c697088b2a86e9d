"""The Django admin site, reachable only through the app's own sign-in.

Its login page redirects to /login/, so signing in to the admin always passes the password, the
second factor and the lockout. Only a session verified by the second factor (django-otp's
`is_verified`) opens it; a signed-in person without that is refused rather than sent round.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse


class ClinicAdminSite(admin.AdminSite):
    site_header = "Clinic settings"
    site_title = "Clinic settings"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active and user.is_staff and getattr(user, "is_verified", lambda: False)()
        )

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.user.is_authenticated:
            # Signed in but not allowed here: a redirect to /login/ would come straight back.
            raise PermissionDenied
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, reverse("accounts:login"))
