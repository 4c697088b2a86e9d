from __future__ import annotations

from django.contrib import admin

from clinic.admin_fields import NamedDateTimeAdmin
from scheduling.models import CalendarFeed, Hold, Series, Session, WaitlistEntry

SESSION_COLUMNS = ("number", "starts_at", "ends_at", "chair", "nurse", "status")


class SessionInline(admin.TabularInline[Session, Series]):
    model = Session
    extra = 0
    fields = SESSION_COLUMNS
    readonly_fields = SESSION_COLUMNS
    can_delete = False
    show_change_link = True


@admin.register(Series)
class SeriesAdmin(NamedDateTimeAdmin[Series]):
    """Read-mostly: bookings go through the front desk's planner, which keeps the rules."""

    list_display = ["public_id", "location", "status", "created_at"]
    list_filter = ["location", "status"]
    readonly_fields = ["public_id", "plan", "patient", "location", "booked_by", "created_at"]
    inlines = [SessionInline]


@admin.register(Session)
class SessionAdmin(NamedDateTimeAdmin[Session]):
    list_display = ["public_id", "location", "starts_at", "chair", "status"]
    list_filter = ["location", "status"]
    date_hierarchy = "starts_at"
    list_select_related = ["location", "chair"]
    readonly_fields = [
        "public_id",
        "series",
        "number",
        "patient",
        "location",
        "chair",
        "nurse",
        "starts_at",
        "setup_ends_at",
        "ends_at",
    ]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin[WaitlistEntry]):
    list_display = ["location", "earliest_date", "latest_date", "window_starts", "status"]
    list_filter = ["location", "status"]
    raw_id_fields = ["session"]


admin.site.register(Hold, NamedDateTimeAdmin)
admin.site.register(CalendarFeed)
