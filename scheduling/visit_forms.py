"""The forms of visits: the desk's choice of a visit, and a patient's choice of a free slot
(docs/visits.md#booking-a-visit). They read and normalise; the services book."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Role, User
from locations.models import Location
from scheduling.models import VisitKind, VisitMode


def clinicians() -> QuerySet[User]:
    return User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by(
        "first_name", "last_name", "email"
    )


class PersonChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.email


def _local_instant(location: Location, day: dt.date, time: dt.time) -> dt.datetime | None:
    """The aware instant of a local day and time at the location; None for a time the clocks
    skip that day."""
    zone = location.zone
    naive = dt.datetime.combine(day, time)
    aware = naive.replace(tzinfo=zone)
    back = aware.astimezone(dt.UTC).astimezone(zone)
    if back.replace(tzinfo=None) != naive:
        return None
    return aware


class VisitForm(forms.Form):
    """The desk's visit: kind, clinician, location, local day and time, length, room or video."""

    kind = forms.ChoiceField(choices=VisitKind.choices)
    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True))
    clinician = PersonChoiceField(queryset=clinicians())
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    minutes = forms.IntegerField(min_value=10, max_value=120, initial=30)
    mode = forms.ChoiceField(choices=VisitMode.choices, initial=VisitMode.ROOM)
    room = forms.CharField(max_length=50, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        location, day, time = data.get("location"), data.get("day"), data.get("time")
        if location and day and time:
            starts = _local_instant(location, day, time)
            if starts is None:
                raise forms.ValidationError(
                    "That time does not exist on that day (the clocks change)."
                )
            data["starts_at"] = starts
        return data


class SlotForm(forms.Form):
    """A free slot a patient chose: a clinician and an instant from the page's own list."""

    clinician = forms.IntegerField(min_value=1)
    starts_at = forms.DateTimeField(
        error_messages={"invalid": gettext_lazy("Choose one of the times shown.")}
    )

    def clean_starts_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["starts_at"]
        if value.tzinfo is None:
            raise forms.ValidationError(gettext("Choose one of the times shown."))
        return value


class MoveVisitForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
