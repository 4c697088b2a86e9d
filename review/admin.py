from __future__ import annotations

from django.contrib import admin

from review.models import ProtocolTemplate


@admin.register(ProtocolTemplate)
class ProtocolTemplateAdmin(admin.ModelAdmin[ProtocolTemplate]):
    list_display = [
        "name",
        "is_default",
        "infusions",
        "dose_mg_per_kg",
        "infusion_minutes",
        "span_days",
        "is_active",
    ]
    list_filter = ["is_active"]
