from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.dateformat import format as format_date
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from locations.models import Location, Weekday
from scheduling import planner
from scheduling.models import ReminderRule
from worklist.models import Cause

# "Reply CANCEL" in a text unsubscribes whoever follows it (carriers' opt-out words); "Reply
# STOP to opt out" is what it is meant for.
ASKS_FOR_AN_OPT_OUT_WORD = re.compile(
    r"\b(reply|text|send)\b\W+(with\W+)?(STOPALL|UNSUBSCRIBE|CANCEL|END|QUIT|REVOKE|OPTOUT)\b",
    re.IGNORECASE,
)

# ISO formats, as date and time inputs need, whatever the language's own.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Every time typed for the planner steps on its grid (seconds, as the input's `step` counts), so
# the browser never refuses a time the planner booked; templates read it from a form's widget.
TIME_STEP = planner.SLOT_MINUTES * 60
TIME = forms.TimeInput(attrs={"type": "time", "step": TIME_STEP}, format="%H:%M")


# How far ahead a series may start: the planner looks some months past the first date.
PLAN_AHEAD = dt.timedelta(days=366)


def next_weekday(day: dt.date) -> dt.date:
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    return day


class PlanRequestForm(forms.Form):
    """Where and when the patient would like the series: the planner's input."""

    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    first_date = forms.DateField(label=_("First possible date"), widget=DATE)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Preferred weekdays"),
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one weekday.")},
    )
    window_starts = forms.TimeField(label=_("Preferred start, from"), widget=TIME)
    window_ends = forms.TimeField(label=_("to"), widget=TIME)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("window_starts"), cleaned.get("window_ends")
        if starts and ends and ends < starts:
            self.add_error("window_ends", _("The end of the window is before its start."))
        first, location = cleaned.get("first_date"), cleaned.get("location")
        # Today at the chosen location, not the server's: the evening in Irvine is tomorrow in UTC.
        if first and location:
            today = location.local_today()
            if first < today:
                self.add_error("first_date", _("Choose today or a later date."))
            elif first > today + PLAN_AHEAD:
                self.add_error("first_date", _("Choose a first date within the next year."))
        return cleaned

    def to_request(self, plan: Any) -> planner.Request:
        data = self.cleaned_data
        return planner.Request(
            shape=planner.PlanShape.from_plan(plan),
            first_date=data["first_date"],
            weekdays=frozenset(data["weekdays"]),
            windows=(planner.Window(data["window_starts"], data["window_ends"]),),
        )


def parse_choice(value: str) -> tuple[dt.date, dt.time]:
    """'2027-02-01T09:00' from a proposal's select: a local date and time."""
    parsed = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M")
    return parsed.date(), parsed.time()


class BookForm(forms.Form):
    """One chosen start per session; the booking service checks them again under its lock."""

    def __init__(self, *args: Any, sessions: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number in range(1, sessions + 1):
            self.fields[f"session_{number}"] = forms.CharField(
                label=format_lazy(_("Session {number}"), number=number)
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, value in list(cleaned.items()):
            try:
                cleaned[name] = parse_choice(value)
            except (TypeError, ValueError):
                self.add_error(name, _("Choose a date and time from the list."))
        return cleaned

    def choices(self) -> list[tuple[dt.date, dt.time]]:
        return [self.cleaned_data[f"session_{n}"] for n in range(1, len(self.fields) + 1)]


class MoveForm(forms.Form):
    date = forms.DateField(widget=DATE)
    time = forms.TimeField(widget=TIME)
    and_following = forms.BooleanField(
        label="Move the following sessions of the series by as many days", required=False
    )
    # From the desk's calendar (docs/roles/front-desk.md#the-desks-calendar): the chair dropped
    # on or chosen (blank: the best fit), where the desk saw the session (scheduling.calendar.
    # session_version), and where to go back to.
    chair = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    seen = forms.CharField(required=False, max_length=40)
    back = forms.ChoiceField(
        required=False,
        choices=[("", ""), ("calendar", "calendar"), ("session", "session"), ("week", "week")],
    )


class SlotForm(forms.Form):
    """An empty slot of the desk's day calendar: its chair and local start (the query string of
    the slot page)."""

    chair = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    time = forms.TimeField(required=False, widget=TIME)


class BookSlotForm(forms.Form):
    """Book one session in an empty slot for a patient's approved plan."""

    plan = forms.UUIDField()
    chair = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    time = forms.TimeField(widget=TIME)


class DeclineSeriesForm(forms.Form):
    """Why the desk declines a series booked online: the patient reads it (by email)."""

    reason = forms.CharField(
        max_length=200,
        strip=True,
        help_text="The patient reads this: neutral words, no clinical detail.",
    )


class CancelForm(forms.Form):
    and_following = forms.BooleanField(label="Cancel the rest of the series too", required=False)
    reason = forms.CharField(max_length=200, required=False)


class UndoCheckInForm(forms.Form):
    reason = forms.CharField(
        max_length=200, error_messages={"required": "Say why the check-in was a mistake."}
    )


class WaitlistForm(forms.Form):
    earliest_date = forms.DateField(widget=DATE)
    latest_date = forms.DateField(widget=DATE)
    window_starts = forms.TimeField(label=_("From"), widget=TIME)
    window_ends = forms.TimeField(label=_("To"), widget=TIME)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        earliest, latest = cleaned.get("earliest_date"), cleaned.get("latest_date")
        if earliest and latest and latest < earliest:
            self.add_error("latest_date", _("The last date is before the first."))
        starts, ends = cleaned.get("window_starts"), cleaned.get("window_ends")
        if starts and ends and ends <= starts:
            self.add_error("window_ends", _("The end of the window is before its start."))
        return cleaned


# Dates of birth as the desk types them: ISO, and the US month/day/year.
BIRTH_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")
# A query of digits and what people write between them, "(949) 555-0123" or "+1 949 555 0123".
PHONE_LIKE = re.compile(r"[\d\s()+.\-]+")


@dataclass(frozen=True)
class PatientQuery:
    """What the desk typed, read as a phone, a date of birth, or words of a name or email."""

    phone_digits: str = ""
    date_of_birth: dt.date | None = None
    words: tuple[str, ...] = ()


class SearchForm(forms.Form):
    q = forms.CharField(label="Find a patient", max_length=100, required=False)

    def query(self) -> PatientQuery | None:
        """The typed search, normalised; None when nothing was typed (or the form is invalid)."""
        if not self.is_valid() or not (text := self.cleaned_data["q"].strip()):
            return None
        for format in BIRTH_DATE_FORMATS:
            try:
                return PatientQuery(date_of_birth=dt.datetime.strptime(text, format).date())
            except ValueError:
                pass
        digits = re.sub(r"\D", "", text)
        if PHONE_LIKE.fullmatch(text) and len(digits) >= 4:
            return PatientQuery(phone_digits=digits)
        return PatientQuery(words=tuple(text.split()[:4]))


class ReminderRuleForm(forms.ModelForm[ReminderRule]):
    """One kind of message at one location. Texts are checked as templates here, so a mistake
    in a tag is a message on the page rather than a message that fails when it is sent."""

    class Meta:
        model = ReminderRule
        fields = [
            "enabled",
            "hours",
            "local_time",
            "email_subject",
            "email_text",
            "email_html",
            "sms_text",
        ]
        labels = {
            "enabled": "Send this message",
            "hours": "Hours",
            "local_time": "Local time (fasting reminder)",
            "email_subject": "Email subject",
            "email_text": "Email text",
            "email_html": "Email HTML",
            "sms_text": "Text message",
        }
        help_texts = {
            "email_subject": "Leave blank for the default. You can use {{ first_name }}, "
            "{{ clinic }}, {{ location.name }}, {{ when }} and {{ link }}.",
            "sms_text": "At most 320 characters. Never put clinical detail in a message.",
        }
        widgets = {
            "local_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "email_text": forms.Textarea(attrs={"rows": 4}),
            "email_html": forms.Textarea(attrs={"rows": 3}),
            "sms_text": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hours"].error_messages["invalid"] = "Give a whole number of hours."
        self.fields["hours"].widget.attrs.update(min=1, max=720)

    def clean_hours(self) -> int | None:
        hours = self.cleaned_data.get("hours")
        if hours is not None and not 1 <= hours <= 720:
            raise forms.ValidationError("Give between 1 and 720 hours (30 days).")
        return hours

    def _template(self, name: str) -> str:
        from django.template import Template, TemplateSyntaxError

        text = self.cleaned_data.get(name, "")
        try:
            Template(text)
        except TemplateSyntaxError as error:
            raise forms.ValidationError(
                "This text has a mistake in a {{ }} or {%% %%} tag: %(error)s",
                params={"error": error},
            ) from error
        return str(text)

    def clean_email_subject(self) -> str:
        return self._template("email_subject")

    def clean_email_text(self) -> str:
        return self._template("email_text")

    def clean_email_html(self) -> str:
        return self._template("email_html")

    def clean_sms_text(self) -> str:
        text = self._template("sms_text")
        if ASKS_FOR_AN_OPT_OUT_WORD.search(text):
            raise forms.ValidationError(
                "Carriers treat CANCEL, END, QUIT and the like as opting out of every text: ask "
                'for "Reply C to confirm, R to reschedule" instead.'
            )
        return text


class TaskFilterForm(forms.Form):
    """The worklist's filters, read from the query string (clinic.querystrings)."""

    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True), required=False, empty_label="All"
    )
    kind = forms.ChoiceField(choices=[("", "All"), *Cause.choices], required=False)
    mine = forms.BooleanField(required=False, label="Assigned to me")


class MyAppointmentForm(forms.Form):
    """Where a patient's confirm or cancel returns to: their home or their appointments."""

    back = forms.ChoiceField(
        choices=[("home", "My care"), ("sessions", "My appointments")], required=False
    )

    def next_url(self) -> str:
        back = self.cleaned_data.get("back") if self.is_valid() else ""
        return reverse(
            "scheduling:my_sessions" if back == "sessions" else "scheduling:patient_home"
        )


# --- Patients booking their own series (scheduling/views/self_service.py) ----------------------


class LocationWithZoneField(forms.ModelChoiceField):  # type: ignore[type-arg]  # django-stubs' generic
    """A location shown with its time zone: every time on the next pages is in it."""

    def label_from_instance(self, obj: Any) -> str:
        return gettext("%(name)s — %(zone)s") % {"name": obj.name, "zone": obj.zone_label()}


class SelfPlanRequestForm(PlanRequestForm):
    """The patient's preferences: only locations that take bookings online, a first date
    inside the location's notice and its booking horizon."""

    location = LocationWithZoneField(
        label=_("Clinic"),
        queryset=Location.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": _("Choose one of the clinics in the list.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from scheduling import self_booking

        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = self_booking.locations()  # type: ignore[attr-defined]  # a ModelChoiceField

    def clean(self) -> dict[str, Any]:
        from scheduling import self_booking

        cleaned = super().clean()
        first, location = cleaned.get("first_date"), cleaned.get("location")
        if first and location and "first_date" not in self.errors:
            earliest = self_booking.earliest_first_date(location)
            latest = self_booking.latest_first_date(location)
            if first < earliest:
                self.add_error(
                    "first_date",
                    gettext("%(location)s needs %(hours)s hours' notice: choose %(day)s or later.")
                    % {
                        "location": location.name,
                        "hours": location.self_booking_notice_hours,
                        "day": format_date(earliest, gettext("l j F")),
                    },
                )
            elif first > latest:
                self.add_error(
                    "first_date",
                    gettext(
                        "Online booking opens %(days)s days ahead: choose a date up to %(day)s."
                    )
                    % {
                        "days": location.self_booking_days_ahead,
                        "day": format_date(latest, gettext("l j F")),
                    },
                )
        return cleaned


class RestRequestForm(forms.Form):
    """Preferences for the rest of a series booked in part: the dates follow the plan."""

    weekdays = PlanRequestForm.base_fields["weekdays"]
    window_starts = PlanRequestForm.base_fields["window_starts"]
    window_ends = PlanRequestForm.base_fields["window_ends"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("window_starts"), cleaned.get("window_ends")
        if starts and ends and ends < starts:
            self.add_error("window_ends", _("The end of the window is before its start."))
        return cleaned

    def preferences(self) -> tuple[frozenset[int], tuple[planner.Window, ...]]:
        data = self.cleaned_data
        return frozenset(data["weekdays"]), (
            planner.Window(data["window_starts"], data["window_ends"]),
        )


class SelfBookForm(BookForm):
    """The patient's choice per session, and how many to book now: all, or the first few."""

    def __init__(self, *args: Any, sessions: int, **kwargs: Any) -> None:
        super().__init__(*args, sessions=sessions, **kwargs)
        self.fields["book_first"] = forms.TypedChoiceField(
            label=_("How many to book now"),
            choices=[("", gettext("All %(count)s") % {"count": sessions})]
            + [(n, gettext("The first %(count)s") % {"count": n}) for n in range(1, sessions)],
            coerce=int,
            empty_value=None,
            required=False,
            error_messages={"invalid_choice": _("Choose how many sessions to book now.")},
        )

    def clean(self) -> dict[str, Any]:
        book_first = self.cleaned_data.pop("book_first", None)
        cleaned = super().clean()
        cleaned["book_first"] = book_first
        return cleaned

    def choices(self) -> list[tuple[dt.date, dt.time]]:
        return [self.cleaned_data[f"session_{n}"] for n in range(1, len(self.fields))]


class SelfMoveForm(forms.Form):
    date = forms.DateField(label=_("New date"), widget=DATE)
    time = forms.TimeField(label=_("New time"), widget=TIME)
    and_following = forms.BooleanField(
        label=_("Move my later appointments too, by as many days"), required=False
    )


class PatientNoteForm(forms.Form):
    """A desk note on the patient page: plain words, administrative only."""

    text = forms.CharField(
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write the note first; nothing was saved."},
    )
