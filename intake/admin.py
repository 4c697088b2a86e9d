from __future__ import annotations

from django.contrib import admin

from clinic.admin_fields import NamedDateTimeAdmin
from intake.models import ConsentText


@admin.register(ConsentText)
class ConsentTextAdmin(NamedDateTimeAdmin[ConsentText]):
    """Publishing a new version: add a row with a new version; signatures keep the old one."""

    list_display = ["kind", "version", "title", "published_at"]
    list_filter = ["kind"]
