from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from functools import cached_property
from typing import NamedTuple

import holidays
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The zones as people say them ("Eastern time"); the abbreviation of the moment follows ("EST",
# "EDT"). A zone not named here is shown by its abbreviation alone, never by its IANA name.
ZONE_NAMES = {
    "America/New_York": _("Eastern time"),
    "America/Detroit": _("Eastern time"),
    "America/Chicago": _("Central time"),
    "America/Denver": _("Mountain time"),
    "America/Phoenix": _("Mountain time"),
    "America/Los_Angeles": _("Pacific time"),
    "America/Anchorage": _("Alaska time"),
    "Pacific/Honolulu": _("Hawaii time"),
    "America/Puerto_Rico": _("Atlantic time"),
}


@functools.cache
def _holidays_of(country: str, subdivision: str, year: int) -> tuple[tuple[dt.date, str], ...]:
    """One year's public holidays of a country (and subdivision), by date.

    Every booking path asks `Location.openings`, and building the package's calendar costs about
    1.6 ms: a year's holidays are fixed for the installed package, so each is built once per
    process.
    """
    calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return tuple(sorted(calendar.items()))


def holiday_name(name: str) -> str:
    """A holiday's name without the "(observed)" the package adds to the day it moves to."""
    return name.removesuffix(" (observed)").strip()


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(value)s is not an IANA time zone (for example America/New_York).",
            params={"value": value},
        )


class Location(models.Model):
    """A clinic site. Its IANA time zone decides how every time there is shown and entered."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    address = models.TextField()
    phone = models.CharField(max_length=32, blank=True)
    nurse_monitor_capacity = models.PositiveSmallIntegerField(
        default=1,
        help_text=(
            "How many patients one nurse may monitor at once after set-up "
            "(the clinics describe one nurse per patient)."
        ),
    )
    flag_systolic_at = models.PositiveSmallIntegerField(
        "flag systolic at (mmHg)",
        default=160,
        help_text="A reported blood pressure at or above this is flagged as poorly controlled.",
    )
    flag_diastolic_at = models.PositiveSmallIntegerField("flag diastolic at (mmHg)", default=100)
    # Infusion-day rules (docs/product-rules.md#typical-values-are-settings): changed per location.
    fasting_solid_hours = models.PositiveSmallIntegerField(
        default=6, help_text="No solid food for this many hours before the infusion."
    )
    fasting_clear_hours = models.PositiveSmallIntegerField(
        default=2, help_text="Clear liquids allowed until this many hours before."
    )
    vitals_every_minutes = models.PositiveSmallIntegerField(
        default=15,
        help_text="A vitals reading is due this often from the infusion's start to discharge.",
    )
    chart_far_from_booking_minutes = models.PositiveSmallIntegerField(
        "a check-in this far from the booked start is explained at sign-off (minutes)",
        default=60,
    )
    alert_systolic_above = models.PositiveSmallIntegerField(default=180)
    alert_diastolic_above = models.PositiveSmallIntegerField(default=110)
    alert_pulse_above = models.PositiveSmallIntegerField(default=120)
    alert_pulse_below = models.PositiveSmallIntegerField(default=50)
    alert_spo2_below = models.PositiveSmallIntegerField("alert SpO2 below (%)", default=92)
    # The chart's timeline and sign-off (docs/roles/nurse.md#timeline-rules). The plan's chair
    # minutes after the infusion stay what the planner books; this is the least recovery before a
    # discharge is charted.
    min_recovery_minutes = models.PositiveSmallIntegerField(
        default=30,
        help_text="Discharge no sooner than this after the infusion ends, unless the nurse "
        "records why.",
    )
    late_charting_hours = models.PositiveSmallIntegerField(
        default=12,
        help_text="A step may be charted this many hours after it happened, on the session's "
        "day; later corrections are addenda.",
    )
    chart_cosign_required = models.BooleanField(
        "charts need a clinician's co-signature",
        default=False,
        help_text="After the nurse signs, a clinician co-signs each chart.",
    )
    response_after_sessions = models.PositiveSmallIntegerField(
        default=2,
        help_text="Outcomes call nothing a response before this many infusions are completed.",
    )
    # Patients booking their own series (docs/product-rules.md#booking-online): off unless turned
    # on.
    self_booking = models.BooleanField(
        "patients may book their own series",
        default=False,
        help_text="Approved patients without an open urgent flag book, move and cancel online.",
    )
    self_booking_notice_hours = models.PositiveSmallIntegerField(
        "minimum notice for online booking (hours)",
        default=24,
        help_text="Patients cannot book or move a session online to a start sooner than this.",
    )
    self_booking_days_ahead = models.PositiveSmallIntegerField(
        "online booking opens this many days ahead",
        default=90,
        help_text="The latest first date a patient may choose online.",
    )
    self_booking_desk_confirms = models.BooleanField(
        "the desk confirms a self-booked series",
        default=False,
        help_text="A series a patient books opens a task for the front desk to confirm it.",
    )
    # Public holidays (docs/roles/clinic-admin.md#closed-days): from the maintained `holidays`
    # package for the country and subdivision chosen; each can be switched back to open.
    holiday_country = models.CharField(
        max_length=2,
        blank=True,
        help_text="ISO country code whose public holidays close the clinic (for example US); "
        "empty: none.",
    )
    holiday_subdivision = models.CharField(
        max_length=10,
        blank=True,
        help_text="State or province code whose own holidays count too (for example CT).",
    )
    open_on_holidays = ArrayField(
        models.CharField(max_length=100),
        default=list,
        blank=True,
        help_text="Public holidays on which the clinic stays open, by name.",
    )
    check_in_opens_minutes = models.PositiveSmallIntegerField(
        "the desk's check-in opens this many minutes before the start",
        default=60,
        help_text="A patient is checked in on the session's local day only, from this long "
        "before the booked start.",
    )
    # Clinician visits (docs/visits.md#location-settings).
    visits_self_booking = models.BooleanField(
        "patients may book their own visits",
        default=False,
        help_text="Patients book their evaluation and follow-up visits online.",
    )
    evaluation_required = models.BooleanField(
        "an evaluation visit is required before approval",
        default=False,
        help_text="A clinician cannot approve a plan until the patient's evaluation is held.",
    )
    video_room_template = models.CharField(
        "video room address",
        max_length=300,
        blank=True,
        help_text="The video provider's room address with {token} where each visit's own "
        "unguessable token goes (for example https://meet.example.org/clinic-{token}); empty: "
        "no video visits.",
    )
    video_opens_minutes = models.PositiveSmallIntegerField(
        "a video visit's link opens this many minutes before the start",
        default=15,
    )
    follow_up_after_sessions = models.PositiveSmallIntegerField(
        "a follow-up visit is due after this many completed sessions of a series",
        default=0,
        help_text="When a series' session with this number is completed, the clinicians' "
        "worklist asks for the follow-up visit to be booked; 0: off.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nurse_monitor_capacity__gte=1), name="location_nurse_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The holiday country and subdivision must be ones the `holidays` package knows."""
        super().clean()
        supported = holidays.list_supported_countries()
        self.holiday_country = self.holiday_country.upper()
        self.holiday_subdivision = self.holiday_subdivision.upper()
        if self.holiday_country and self.holiday_country not in supported:
            raise ValidationError(
                {"holiday_country": f"{self.holiday_country} is not a country code we know."}
            )
        if self.holiday_subdivision:
            if not self.holiday_country:
                raise ValidationError(
                    {"holiday_subdivision": "Choose the country first, then its subdivision."}
                )
            if self.holiday_subdivision not in supported[self.holiday_country]:
                raise ValidationError(
                    {
                        "holiday_subdivision": (
                            f"{self.holiday_subdivision} is not a subdivision of "
                            f"{self.holiday_country}."
                        )
                    }
                )

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @classmethod
    def default_zone(cls) -> zoneinfo.ZoneInfo:
        """Where a time tied to no location is read: the clinic's first active location's zone
        (UTC only on a site that has no location yet)."""
        first = cls.objects.filter(is_active=True).order_by("pk").first()
        return first.zone if first else zoneinfo.ZoneInfo("UTC")

    def zone_label(self, at: dt.datetime | None = None) -> str:
        """The zone as patients read it, in the active language, with its abbreviation at `at`
        (now by default): "Eastern time (EST)", "hora del Pacífico (PDT)"."""
        abbreviation = (at or timezone.now()).astimezone(self.zone).tzname() or ""
        name = ZONE_NAMES.get(self.time_zone)
        return f"{name} ({abbreviation})" if name else abbreviation

    @property
    def zone_now(self) -> str:
        """`zone_label` now, for templates."""
        return self.zone_label()

    @property
    def takes_changes_online(self) -> bool:
        """Patients book, move and cancel here online: messages send them to that page, not to
        the phone."""
        return self.is_active and self.self_booking

    def local_now(self) -> dt.datetime:
        return timezone.now().astimezone(self.zone)

    def local_today(self) -> dt.date:
        """Today where the location is: the date its schedule and its forms mean by "today".

        Not the server's date, nor UTC's: at 19:00 in Irvine it is already tomorrow in UTC.
        """
        return self.local_now().date()

    def day_bounds(self, date: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """Local midnight to the next local midnight: 23 or 25 hours on a daylight-saving day."""
        start = dt.datetime.combine(date, dt.time(), tzinfo=self.zone)
        return start, dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)

    def public_holidays(self, first: dt.date, last: dt.date) -> dict[dt.date, str]:
        """The public holidays that close the location from `first` to `last`, with their names.

        From the `holidays` package for the location's country and subdivision (none when no
        country is chosen). A holiday switched open (`open_on_holidays`) stays open, and so does
        its observed day ("Christmas Day (observed)" follows "Christmas Day").
        """
        if not self.holiday_country or first > last:
            return {}
        kept_open = set(self.open_on_holidays)
        closed: dict[dt.date, str] = {}
        for year in range(first.year, last.year + 1):
            calendar = _holidays_of(self.holiday_country, self.holiday_subdivision, year)
            for day, names in calendar:
                if not first <= day <= last:
                    continue
                # Two holidays on one date come joined by "; ".
                closing = [n for n in names.split("; ") if holiday_name(n) not in kept_open]
                if closing:
                    closed[day] = "; ".join(closing)
        return closed

    def closed_days(self, first: dt.date, last: dt.date) -> dict[dt.date, str]:
        """Every date from `first` to `last` the location is closed on beyond its weekly hours
        (a public holiday or one of its own closures), with the reason people read."""
        closed = self.public_holidays(first, last)
        for closure in self.closures.filter(ends_on__gte=first, starts_on__lte=last):
            day = max(closure.starts_on, first)
            while day <= min(closure.ends_on, last):
                closed.setdefault(day, closure.reason or "Closed")
                day += dt.timedelta(days=1)
        return closed

    def hours_on(self, date: dt.date) -> Opening | None:
        """When the location is open on a local date, or None when it is closed that day.

        The one rule for opening hours, used by the planner, the booking checks, the day and
        week views and the dashboard: the weekday's `OpeningHours` row (a weekday without one is
        closed), unless a `Closure` covers the date. There is no default: a day without hours
        is closed, and nothing may be booked on it. A public holiday (`public_holidays`) closes
        it like a closure.
        """
        return self.openings(date, date).get(date)

    def openings(
        self, first: dt.date, last: dt.date, closed: dict[dt.date, str] | None = None
    ) -> dict[dt.date, Opening]:
        """`hours_on` for every date from `first` to `last`, the closed dates left out.

        Two queries whatever the number of days (none for the hours when `opening_hours` is
        prefetched); one when the caller has read `closed_days` of the same dates already and
        passes them as `closed` (the week view shows both).
        """
        by_weekday = {row.weekday: row for row in self.opening_hours.all()}
        if closed is None:
            closed = self.closed_days(first, last)
        result: dict[dt.date, Opening] = {}
        day = first
        while day <= last:
            row = by_weekday.get(day.weekday())
            if row is not None and day not in closed:
                result[day] = Opening(
                    dt.datetime.combine(day, row.opens, tzinfo=self.zone),
                    dt.datetime.combine(day, row.closes, tzinfo=self.zone),
                )
            day += dt.timedelta(days=1)
        return result


class Opening(NamedTuple):
    """A location's opening on one local date, as aware datetimes in the location's zone."""

    opens: dt.datetime
    closes: dt.datetime

    @property
    def duration(self) -> dt.timedelta:
        # Aware datetimes with one tzinfo subtract as wall-clock times; UTC gives the real length.
        return self.closes.astimezone(dt.UTC) - self.opens.astimezone(dt.UTC)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """Local wall-clock hours for one weekday; a weekday without a row is closed."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["location", "weekday"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(
                fields=["location", "weekday"], name="opening_hours_one_per_weekday"
            ),
            models.CheckConstraint(condition=Q(opens__lt=F("closes")), name="opening_hours_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(models.Model):
    """Whole local days on which a location is closed (holidays, training days)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["location", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")), name="closure_dates_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} closed {self.starts_on}-{self.ends_on}"


class Chair(models.Model):
    """A reclining treatment chair: holds one patient from IV start to the end of recovery."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="chairs")
    name = models.CharField(max_length=50)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["location", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="chair_name_per_location"),
        ]

    def __str__(self) -> str:
        return f"{self.location.name} · {self.name}"


class TsTzRange(Func):
    """tstzrange(start, end): the half-open interval an exclusion constraint compares."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class NurseShift(models.Model):
    """A nurse on duty at a location, stored in UTC like every instant."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="nurse_shifts")
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nurse_shifts"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="nurse_shift_times_order"
            ),
            # One nurse is on duty in one place at a time, at whichever location.
            ExclusionConstraint(
                name="nurse_shift_no_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                    ("nurse", RangeOperators.EQUAL),
                ],
            ),
        ]
        indexes = [
            # The planner and the day view: "shifts at this location overlapping this day".
            models.Index(fields=["location", "starts_at"], name="nurseshift_location_start"),
        ]

    def __str__(self) -> str:
        return f"{self.nurse} at {self.location} from {self.starts_at:%Y-%m-%d %H:%M} UTC"


class ClinicianShift(models.Model):
    """A clinician on duty at a location, for visits (docs/visits.md#clinician-shifts); like a
    nurse's shift, one clinician is never on two shifts at once, at whichever location."""

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="clinician_shifts"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinician_shifts"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="clinician_shift_times_order"
            ),
            ExclusionConstraint(
                name="clinician_shift_no_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                    ("clinician", RangeOperators.EQUAL),
                ],
            ),
        ]
        indexes = [
            # Visit slots and the roster: "clinicians' shifts at this location over these days".
            models.Index(fields=["location", "starts_at"], name="clinshift_location_start"),
        ]

    def __str__(self) -> str:
        return f"{self.clinician} at {self.location} from {self.starts_at:%Y-%m-%d %H:%M} UTC"

    def covers(self, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
        """The whole of starts_at..ends_at lies inside this shift."""
        return self.starts_at <= starts_at and ends_at <= self.ends_at
