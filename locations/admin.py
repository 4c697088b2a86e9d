from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from clinic.admin_fields import NamedDateTimeAdmin
from clinic.phones import PhoneField
from locations.models import Chair, Closure, Location, NurseShift, OpeningHours

# Stacked, not tabular: a tabular inline names its inputs only by the column header, which a
# screen reader does not announce (axe: unlabelled inputs, unnamed selects, an empty header).


class OpeningHoursInline(admin.StackedInline[OpeningHours, Location]):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.StackedInline[Closure, Location]):
    model = Closure
    extra = 0


class ChairInline(admin.StackedInline[Chair, Location]):
    model = Chair
    extra = 0


class LocationForm(forms.ModelForm[Location]):
    phone = PhoneField(label="Phone", required=False)

    class Meta:
        model = Location
        fields = "__all__"  # noqa: DJ007  # the admin's own choice of fields, as before


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    form = LocationForm
    list_display = ["name", "time_zone", "nurse_monitor_capacity", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline, ClosureInline, ChairInline]


@admin.register(NurseShift)
class NurseShiftAdmin(NamedDateTimeAdmin[NurseShift]):
    """Shifts read and are typed in the location's own time, labelled with its zone."""

    list_display = ["nurse", "location", "local_shift"]
    list_filter = ["location"]
    list_select_related = ["nurse", "location"]
    date_hierarchy = "starts_at"

    @admin.display(description="Shift (location's local time)", ordering="starts_at")
    def local_shift(self, shift: NurseShift) -> str:
        starts = shift.starts_at.astimezone(shift.location.zone)
        ends = shift.ends_at.astimezone(shift.location.zone)
        return f"{starts:%a %-d %b %Y, %-H:%M}–{ends:%-H:%M} {ends.tzname()}"

    def get_form(
        self,
        request: HttpRequest,
        obj: NurseShift | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[NurseShift]]:
        form = super().get_form(request, obj, change, **kwargs)
        abbreviation = timezone.now().astimezone(_zone_for(request, obj)).tzname()
        for name in ("starts_at", "ends_at"):
            form.base_fields[name].help_text = f"In the location's local time ({abbreviation})."
        return form

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        shift = self.get_object(request, object_id) if object_id else None
        # Typed times are read, and saved times shown, in that zone; the response is rendered
        # inside it too (a TemplateResponse renders late, after the view returns).
        with timezone.override(_zone_for(request, shift)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()
            return response


def _zone_for(request: HttpRequest, shift: NurseShift | None) -> zoneinfo.ZoneInfo:
    """An existing shift's location's zone; for a new one, the admin's first location's."""
    if shift is not None:
        return shift.location.zone
    first = Location.objects.filter(staff=request.user.pk).order_by("pk").first()
    return first.zone if first else Location.default_zone()
