from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from paperwork.models import ClinicIdentity, ProviderIdentity


@admin.register(ClinicIdentity)
class ClinicIdentityAdmin(admin.ModelAdmin[ClinicIdentity]):
    """The clinic as it bills (docs/paperwork.md#who-and-what): one row."""

    list_display = ["legal_name", "npi", "tin", "submits_claims"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ClinicIdentity.objects.exists()


@admin.register(ProviderIdentity)
class ProviderIdentityAdmin(admin.ModelAdmin[ProviderIdentity]):
    list_display = ["user", "npi", "credentials"]
    raw_id_fields = ["user"]
