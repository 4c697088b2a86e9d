"""The roster's forms: a week to show, and a shift's local day and times
(docs/roles/clinic-admin.md#the-roster)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet

from accounts.models import Role, User
from clinic.querystrings import DayField
from locations.models import Location, NurseShift


class WeekQuery(forms.Form):
    """?week=YYYY-MM-DD: any day of the week shown; none, or one that is no date, is this week."""

    week = DayField(required=False)


def nurses_of(location: Location) -> QuerySet[User]:
    """The nurses who may be put on the roster of a location: its active nurse accounts."""
    return location.staff.filter(role=Role.NURSE, is_active=True).order_by(
        "first_name", "last_name", "email"
    )


class NurseChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class ShiftTimesForm(forms.Form):
    """A shift's local day, start and end at a location; `bounds` are the aware instants.

    The times are read in the location's zone on that day, so 08:00 is 08:00 on either side of
    a change of the clocks; a time the clocks skip that day is refused rather than shifted."""

    day = DayField(label="Day", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    starts = forms.TimeField(
        label="Starts", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends = forms.TimeField(
        label="Ends", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def __init__(self, *args: Any, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location = location

    @classmethod
    def initial_for(cls, shift: NurseShift) -> dict[str, Any]:
        starts = shift.starts_at.astimezone(shift.location.zone)
        ends = shift.ends_at.astimezone(shift.location.zone)
        return {"day": starts.date(), "starts": starts.time(), "ends": ends.time()}

    def _instant(self, day: dt.date, time: dt.time, field: str) -> dt.datetime | None:
        zone = self.location.zone
        instant = dt.datetime.combine(day, time, tzinfo=zone)
        if instant.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != instant.replace(
            tzinfo=None
        ):
            self.add_error(
                field,
                f"{time:%H:%M} does not exist on {day:%a} {day.day} {day:%b}: "
                "the clocks go forward that night.",
            )
            return None
        return instant

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, starts, ends = data.get("day"), data.get("starts"), data.get("ends")
        if day is None or starts is None or ends is None:
            return data
        if ends <= starts:
            self.add_error("ends", "The shift must end after it starts.")
            return data
        starts_at = self._instant(day, starts, "starts")
        ends_at = self._instant(day, ends, "ends")
        if starts_at and ends_at:
            data["starts_at"], data["ends_at"] = starts_at, ends_at
        return data

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return self.cleaned_data["starts_at"], self.cleaned_data["ends_at"]


class ShiftForm(ShiftTimesForm):
    """A new shift: which of the location's nurses, and when."""

    field_order = ["nurse", "day", "starts", "ends"]

    def __init__(self, *args: Any, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, location=location, **kwargs)
        self.fields["nurse"] = NurseChoiceField(
            label="Nurse", queryset=nurses_of(location), empty_label="Choose a nurse"
        )
        self.order_fields(self.field_order)


def clinicians_of(location: Location) -> QuerySet[User]:
    """The clinicians who may be put on the roster of a location: its active clinicians."""
    return location.staff.filter(role=Role.CLINICIAN, is_active=True).order_by(
        "first_name", "last_name", "email"
    )


class ClinicianShiftForm(ShiftTimesForm):
    """A new clinician shift, for visits (docs/visits.md#clinician-shifts)."""

    field_order = ["clinician", "day", "starts", "ends"]

    def __init__(self, *args: Any, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, location=location, **kwargs)
        self.fields["clinician"] = NurseChoiceField(
            label="Clinician", queryset=clinicians_of(location), empty_label="Choose a clinician"
        )
        self.order_fields(self.field_order)


class ClinicianShiftDeleteForm(forms.Form):
    delete = forms.IntegerField(min_value=1)
    week = DayField(required=False)
