from __future__ import annotations

from django.contrib import admin

from locations.models import Chair, Closure, Location, NurseShift, OpeningHours


class OpeningHoursInline(admin.TabularInline[OpeningHours, Location]):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline[Closure, Location]):
    model = Closure
    extra = 0


class ChairInline(admin.TabularInline[Chair, Location]):
    model = Chair
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    list_display = ["name", "time_zone", "nurse_monitor_capacity", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline, ClosureInline, ChairInline]


@admin.register(NurseShift)
class NurseShiftAdmin(admin.ModelAdmin[NurseShift]):
    list_display = ["nurse", "location", "starts_at", "ends_at"]
    list_filter = ["location"]
    list_select_related = ["nurse", "location"]
    date_hierarchy = "starts_at"
