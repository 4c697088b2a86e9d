"""Series and sessions (docs/product-rules.md#series-and-sessions): one row per infusion, each with
its chair, nurse and times.

The database refuses double bookings: exclusion constraints (btree_gist) forbid two active
sessions of one chair, or of one patient, that overlap in time, and two overlapping set-up windows
of one nurse. Nurse capacity beyond set-up (at most k monitored patients) needs a count, so the
booking services check it under a per-location lock in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import Deferrable, F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Status(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    IN_CHAIR = "in_chair", _("In chair")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    LATE_CANCELLED = "late_cancelled", _("Cancelled late")
    NO_SHOW = "no_show", _("No-show")


# Sessions in these states hold their chair, nurse and patient; the others have freed them.
ACTIVE_STATUSES = (
    Status.BOOKED,
    Status.CONFIRMED,
    Status.CHECKED_IN,
    Status.IN_CHAIR,
    Status.COMPLETED,
)
# Booked and not begun: these sessions can still be confirmed, moved or cancelled.
UPCOMING_STATUSES = (Status.BOOKED, Status.CONFIRMED)
# Begun and not finished: the patient is at the clinic.
UNDER_WAY_STATUSES = (Status.CHECKED_IN, Status.IN_CHAIR)
# The active rule as a condition, for the exclusion constraints and for aggregates' filters;
# querysets say `Session.objects.active()`.
ACTIVE = Q(status__in=[status.value for status in ACTIVE_STATUSES])
# What a patient reads for a session the desk has still to confirm (Series.awaiting_desk_since).
REQUESTED_FOR_PATIENT = _("Requested — the clinic will confirm")
LATE_CANCEL_WINDOW = dt.timedelta(hours=24)
# Patients may cancel online (from a reminder's link) until this long before the start.
ONLINE_CANCEL_BEFORE = dt.timedelta(hours=24)


@dataclass(frozen=True)
class CancellationPolicy:
    """When a session may still be cancelled online and from when a cancellation counts late."""

    starts_at: dt.datetime
    online_until: dt.datetime
    late_from: dt.datetime

    def online_open(self, now: dt.datetime) -> bool:
        return now < self.online_until

    def is_late(self, now: dt.datetime) -> bool:
        return now >= self.late_from


# Booked online at a location where the desk confirms, and neither confirmed nor declined yet:
# `Series.objects.filter(AWAITING_DESK)` is the desk's list (Series.awaiting_desk_since).
AWAITING_DESK = Q(awaiting_desk_since__isnull=False, status="active")


class Series(models.Model):
    """A course of infusions booked from one treatment plan at one location."""

    class SeriesStatus(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    plan = models.ForeignKey(
        "review.TreatmentPlan", on_delete=models.PROTECT, related_name="series"
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="series"
    )
    # The (location, id) unique constraint below serves a location's series.
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="series", db_index=False
    )
    status = models.CharField(
        max_length=20, choices=SeriesStatus.choices, default=SeriesStatus.ACTIVE
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    awaiting_desk_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Booked online at a location where the desk confirms such a series: since "
        "when it waits for the desk's Confirm or Decline. Its sessions hold their chairs and "
        "nurses meanwhile; blank once decided, and for every other series.",
    )
    is_booster = models.BooleanField(
        default=False,
        help_text="A booster infusion of the plan (docs/visits.md#boosters): one session.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "series"
        constraints = [
            # What a session's (series, location) refers to: a session is at its series'
            # location (the foreign key session_at_its_series_location, migration 0012).
            models.UniqueConstraint(fields=["location", "id"], name="series_location_id"),
        ]
        indexes = [
            # The desk's home and worklist: series booked online awaiting confirmation.
            models.Index(
                fields=["awaiting_desk_since"],
                condition=Q(awaiting_desk_since__isnull=False),
                name="series_awaiting_desk",
            ),
        ]

    def __str__(self) -> str:
        return f"Series at {self.location} ({self.get_status_display()})"

    @property
    def is_awaiting_desk(self) -> bool:
        """AWAITING_DESK for one series already read."""
        return self.awaiting_desk_since is not None and self.status == self.SeriesStatus.ACTIVE


# A session lies inside one day's opening hours; the table holds every session to this, so a
# search for the sessions overlapping an interval can bound their starts (`overlapping`).
LONGEST_SESSION = dt.timedelta(hours=24)


class SessionQuerySet(models.QuerySet["Session"]):
    def active(self) -> SessionQuerySet:
        """Sessions that hold their chair, nurse and patient (ACTIVE_STATUSES)."""
        return self.filter(ACTIVE)

    def upcoming(self) -> SessionQuerySet:
        return self.filter(status__in=UPCOMING_STATUSES, starts_at__gte=timezone.now())

    def at(self, location: Any) -> SessionQuerySet:
        return self.filter(location=location)

    def overlapping(self, start: dt.datetime, end: dt.datetime) -> SessionQuerySet:
        """Sessions that share any instant with start..end.

        The lower bound on `starts_at` is implied by the other two (no session lasts longer than
        LONGEST_SESSION, a constraint of the table) and lets the (location, starts_at) index stop
        there instead of reading every earlier session of the location: 22 ms for a day of a
        location with 200,000 sessions, 0.2 ms with it.
        """
        return self.filter(
            starts_at__lt=end, starts_at__gt=start - LONGEST_SESSION, ends_at__gt=start
        )


class Session(models.Model):
    """One infusion: the chair from IV start to the end of recovery, and the nurse who sets it up.

    `starts_at`..`ends_at` is the chair time (set-up, infusion, recovery); the nurse is exclusive
    for `starts_at`..`setup_ends_at` and then monitors the patient until `ends_at`.
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    # The (series, status) index below serves a series' sessions; a second index on the series
    # alone would only slow writes.
    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    number = models.PositiveSmallIntegerField(help_text="1 for the first infusion of the series.")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions"
    )
    # Always the series' location: the database holds (location, series) to the series' own
    # (the foreign key session_at_its_series_location, migration 0012).
    # The (location, starts_at) index below serves a location's sessions. An index on the
    # location alone misled the planner: the dashboard's 12 weeks read all of a location's
    # sessions through it (66,000 at the benchmark's busiest) and filtered on the time there.
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    chair = models.ForeignKey("locations.Chair", on_delete=models.PROTECT, related_name="sessions")
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="nursed_sessions"
    )
    starts_at = models.DateTimeField()
    setup_ends_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    cancel_reason = models.CharField(max_length=200, blank=True)
    calendar_sequence = models.PositiveIntegerField(
        default=0, help_text="iCalendar SEQUENCE: rises with every move and the cancellation."
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made the last move, when a person online did (the patient); blank for "
        "the desk's moves, so the desk sees which moves the patient made.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("setup_ends_at"), setup_ends_at__lt=F("ends_at")),
                name="session_times_order",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__lte=F("starts_at") + LONGEST_SESSION),
                name="session_within_longest",
            ),
            ExclusionConstraint(
                name="session_chair_no_overlap",
                # Immediate, but a move inside one series may defer it to its statement's end.
                deferrable=Deferrable.IMMEDIATE,
                expressions=[
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                    ("chair", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
            ),
            ExclusionConstraint(
                name="session_patient_no_overlap",
                # Immediate, but a move inside one series may defer it to its statement's end.
                deferrable=Deferrable.IMMEDIATE,
                expressions=[
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
            ),
            ExclusionConstraint(
                name="session_nurse_setup_no_overlap",
                # Immediate, but a move inside one series may defer it to its statement's end.
                deferrable=Deferrable.IMMEDIATE,
                expressions=[
                    (TsTzRange("starts_at", "setup_ends_at"), RangeOperators.OVERLAPS),
                    ("nurse", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
            ),
        ]
        indexes = [
            # Planner, day and week views: active sessions at a location in a time range. The
            # status and end are included so the dashboard's weekly counts and booked minutes
            # (outcomes.reports.dashboard) are read from the index alone.
            models.Index(
                fields=["location", "starts_at"],
                include=["status", "ends_at"],
                name="session_location_start",
            ),
            # Patient home and calendar feed: a patient's sessions in time order.
            models.Index(fields=["patient", "starts_at"], name="session_patient_start"),
            # Nurse capacity check: a nurse's sessions around an instant.
            models.Index(fields=["nurse", "starts_at"], name="session_nurse_start"),
            # A series' sessions, or those in some statuses (`series.sessions.active()`).
            models.Index(fields=["series", "status"], name="session_series_status"),
            # The dashboard's drop-outs (outcomes.reports._dropouts): a location's series with
            # a session still to come or under way, and each series' completed sessions there,
            # read from these two alone (a session is at its series' location: the foreign key
            # session_at_its_series_location, migration 0012).
            models.Index(
                fields=["location", "series"],
                condition=Q(status__in=[*UPCOMING_STATUSES, *UNDER_WAY_STATUSES]),
                name="session_open_by_series",
            ),
            models.Index(
                fields=["location", "series"],
                condition=Q(status=Status.COMPLETED),
                name="session_completed_by_series",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} at {self.starts_at:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_upcoming(self) -> bool:
        """Booked or confirmed and not yet started: the patient may still confirm or cancel."""
        return self.status in UPCOMING_STATUSES and self.starts_at > timezone.now()

    def status_for_patient(self) -> str:
        """The status in the patient's words: a session of a series booked online that the
        desk has not confirmed yet is requested, not booked (it holds its chair meanwhile)."""
        if self.status in UPCOMING_STATUSES and self.series.is_awaiting_desk:
            return str(REQUESTED_FOR_PATIENT)
        return self.get_status_display()

    @property
    def zone_label(self) -> str:
        """The location's zone as patients read it, at this session's start ("Eastern time
        (EDT)" in summer)."""
        return self.location.zone_label(self.starts_at)

    def local_start(self) -> dt.datetime:
        """The start in the location's zone: how it is always shown and entered."""
        return self.starts_at.astimezone(self.location.zone)

    def check_in_refusal(self, now: dt.datetime) -> str | None:
        """Why the desk cannot check the patient in at `now`, or None when it can.

        A check-in belongs to the session's local day, from the location's
        `check_in_opens_minutes` before the start: one made days ahead is a click on the wrong
        row, and it hides the buttons that would correct it.
        """
        zone = self.location.zone
        start = self.starts_at.astimezone(zone)
        opens = start - dt.timedelta(minutes=self.location.check_in_opens_minutes)
        day = f"{start:%a} {start.day} {start:%b}"
        if now.astimezone(zone).date() > start.date():
            return f"Check-in is only on the session's day ({day}); this session has passed."
        if now < opens:
            return (
                f"Check-in opens {self.location.check_in_opens_minutes} minutes before the "
                f"start: from {opens:%H:%M} {opens.tzname()} on {opens:%a} {opens.day} {opens:%b}."
            )
        return None

    def cancellation_policy(self) -> CancellationPolicy:
        """The one rule for cancelling: used by the desk, the reminders' wording and the
        patient's link. Online until ONLINE_CANCEL_BEFORE the start; late within
        LATE_CANCEL_WINDOW."""
        return CancellationPolicy(
            starts_at=self.starts_at,
            online_until=self.starts_at - ONLINE_CANCEL_BEFORE,
            late_from=self.starts_at - LATE_CANCEL_WINDOW,
        )


class HoldQuerySet(models.QuerySet["Hold"]):
    def live(self) -> HoldQuerySet:
        """Holds still kept for their patient: neither taken nor released, nor expired.

        A live hold occupies its chair and nurse like a session (the planner counts it).
        """
        return self.filter(released_at__isnull=True, expires_at__gt=timezone.now())

    def expired(self) -> HoldQuerySet:
        """Holds whose time ran out before anyone released them: to be offered on."""
        return self.filter(released_at__isnull=True, expires_at__lte=timezone.now())


class Hold(models.Model):
    """A slot kept for one patient for a short while: a freed slot offered to the first waiting
    patient (`entry`), or a session of the series a patient is choosing online (`patient`).

    Either kind occupies its chair and nurse for everyone while live (the planner reads
    `Hold.objects.live()`); exactly one owner is set (hold_has_one_owner).
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    entry = models.ForeignKey(
        "WaitlistEntry", on_delete=models.CASCADE, related_name="holds", null=True, blank=True
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="self_booking_holds",
        null=True,
        blank=True,
        help_text="The patient choosing a series online, for whom the proposal is kept.",
    )
    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    chair = models.ForeignKey("locations.Chair", on_delete=models.CASCADE, related_name="holds")
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    setup_ends_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        ordering = ["expires_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(entry__isnull=False, patient__isnull=True)
                | Q(entry__isnull=True, patient__isnull=False),
                name="hold_has_one_owner",
            ),
        ]
        indexes = [
            # Self-booking: a patient's own live holds, released before proposing or booking.
            models.Index(
                fields=["patient"],
                condition=Q(released_at__isnull=True, patient__isnull=False),
                name="hold_live_patient",
            ),
            # Planner and booking: live holds at a location.
            models.Index(
                fields=["location", "starts_at"],
                condition=Q(released_at__isnull=True),
                name="hold_live_location_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold until {self.expires_at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_live(self) -> bool:
        """`Hold.objects.live()` for one hold already read (and locked) by the caller."""
        return self.released_at is None and self.expires_at > timezone.now()


class WaitlistEntry(models.Model):
    """A patient waiting for an earlier or better slot at a location, in a local time window."""

    class EntryStatus(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a slot"
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    location = models.ForeignKey(
        "locations.Location", on_delete=models.CASCADE, related_name="waitlist"
    )
    session = models.ForeignKey(
        Session,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        help_text="The booked session the patient would like to move into a freed slot.",
    )
    earliest_date = models.DateField()
    latest_date = models.DateField()
    window_starts = models.TimeField()
    window_ends = models.TimeField()
    status = models.CharField(
        max_length=20, choices=EntryStatus.choices, default=EntryStatus.WAITING
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(earliest_date__lte=F("latest_date")), name="waitlist_dates_order"
            ),
            models.CheckConstraint(
                condition=Q(window_starts__lt=F("window_ends")), name="waitlist_window_order"
            ),
        ]
        indexes = [
            # Offering a freed slot: the first waiting entries of a location.
            models.Index(
                fields=["location", "created_at"],
                condition=Q(status="waiting"),
                name="waitlist_waiting_first",
            ),
        ]

    def __str__(self) -> str:
        return f"Waiting at {self.location} {self.window_starts:%H:%M}-{self.window_ends:%H:%M}"


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A patient's private calendar feed: the URL's random token is the only key, revocable."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "Calendar feed"


class ReplyOutcome(models.TextChoices):
    """What a patient's reply by text did (InboundText.outcome): messaging.replies records it, the
    series page shows it."""

    CONFIRMED = "confirmed", "Confirmed by text"
    ALREADY_CONFIRMED = "already_confirmed", "Confirmed by text (it already was)"
    # Replies before R stopped cancelling were recorded with these two.
    CANCELLED = "cancelled", "Cancelled by text (reply R)"
    CALL_BACK = "call_back", "Asked by text to reschedule: call back"
    RESCHEDULE = "reschedule", "Asked by text to reschedule"
    OPTED_OUT = "opted_out", "Opted out of texts"
    OPTED_IN = "opted_in", "Opted back in to texts"
    HELP = "help", "Asked for help by text"
    UNCLEAR = "unclear", "Unclear reply by text"


class ReminderKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Booking confirmation (with .ics)"
    PREPARATION = "preparation", "Preparation, 72 hours before"
    REMINDER = "reminder", "Reminder with confirm/cancel link, 48 hours before"
    TOMORROW = "tomorrow", "See you tomorrow, with the fasting rule, 24 hours before"
    FASTING = "fasting", "Fasting reminder on the morning"
    FOLLOWUP = "followup", "Follow-up check-in, 24 hours after"
    QUESTIONNAIRE = "questionnaire", "PHQ-9 and PEG at baseline, mid-series and end"
    CHANGED = "changed", "Appointment moved"
    CANCELLED = "cancelled", "Appointment cancelled"
    OFFER = "offer", "Earlier slot offered from the waitlist, with a link"
    REQUESTED = "requested", "Series booked online, awaiting the clinic's confirmation"
    DECLINED = "declined", "Series booked online, declined by the clinic"
    # Planned and composed by messaging.visit_messages (docs/visits.md#messages).
    VISIT_REMINDER = "visit_reminder", "Visit reminder with confirm/cancel link, 24 hours before"


class ReminderRule(models.Model):
    """A location's setting for one kind of message: on or off, when, and its texts.

    Blank texts use the defaults in templates/notifications/<kind>/. Texts are Django templates
    with: first_name, clinic, location, when, instructions, link. No clinical detail belongs here.
    """

    location = models.ForeignKey(
        "locations.Location", on_delete=models.CASCADE, related_name="reminder_rules"
    )
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    enabled = models.BooleanField(default=True)
    hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Hours before the start (preparation, reminder, visit reminder) or after the "
        "end (follow-up).",
    )
    local_time = models.TimeField(
        null=True, blank=True, help_text="Local time of the fasting reminder on the day."
    )
    email_subject = models.CharField(max_length=200, blank=True)
    email_text = models.TextField(blank=True)
    email_html = models.TextField(blank=True)
    sms_text = models.CharField(max_length=320, blank=True)

    class Meta:
        ordering = ["location", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["location", "kind"], name="reminder_rule_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.location}: {self.get_kind_display()}"


class PatientNote(models.Model):
    """A line the desk writes about a patient (a call, a preference, a parking question), shown
    on the patient page newest first. Administrative, never clinical: clinicians write in the
    intake summary and the chart. Writing one is audited (docs/security.md#audit)."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="desk_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    text = models.TextField(max_length=2000)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The patient page: one patient's notes, newest first.
            models.Index(fields=["patient", "-created_at"], name="patient_note_newest"),
        ]

    def __str__(self) -> str:
        return f"Note of {self.created_at:%Y-%m-%d} by {self.author_id}"


class VisitKind(models.TextChoices):
    EVALUATION = "evaluation", _("Evaluation")
    FOLLOW_UP = "follow_up", _("Follow-up")


class VisitMode(models.TextChoices):
    ROOM = "room", _("In the clinic")
    VIDEO = "video", _("By video")


class VisitStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# Visits in these states hold their clinician and patient (docs/visits.md#the-rules-in-postgresql).
VISIT_ACTIVE_STATUSES = (VisitStatus.BOOKED, VisitStatus.CONFIRMED, VisitStatus.HELD)
VISIT_UPCOMING_STATUSES = (VisitStatus.BOOKED, VisitStatus.CONFIRMED)
VISIT_ACTIVE = Q(status__in=[status.value for status in VISIT_ACTIVE_STATUSES])
LONGEST_VISIT = dt.timedelta(hours=4)


def new_video_token() -> str:
    """A visit's video room key: 128 bits from the OS, so no one guesses another's room."""
    return secrets.token_urlsafe(16)


class VisitQuerySet(models.QuerySet["Visit"]):
    def active(self) -> VisitQuerySet:
        """Visits that hold their clinician and patient (VISIT_ACTIVE_STATUSES)."""
        return self.filter(VISIT_ACTIVE)

    def upcoming(self) -> VisitQuerySet:
        return self.filter(status__in=VISIT_UPCOMING_STATUSES, starts_at__gte=timezone.now())

    def overlapping(self, start: dt.datetime, end: dt.datetime) -> VisitQuerySet:
        """Visits sharing any instant with start..end; the start's lower bound (LONGEST_VISIT)
        lets the (location, starts_at) index stop there."""
        return self.filter(
            starts_at__lt=end, starts_at__gt=start - LONGEST_VISIT, ends_at__gt=start
        )


class Visit(models.Model):
    """An appointment with a clinician, in a room or by video: an evaluation before approval or
    a follow-up after a series (docs/visits.md)."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    kind = models.CharField(max_length=20, choices=VisitKind.choices)
    mode = models.CharField(max_length=10, choices=VisitMode.choices, default=VisitMode.ROOM)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clinician_visits"
    )
    # The (location, starts_at) index below serves a location's visits.
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    room = models.CharField(max_length=50, blank=True)
    video_token = models.CharField(max_length=64, unique=True, default=new_video_token)
    series = models.ForeignKey(
        Series,
        on_delete=models.PROTECT,
        related_name="visits",
        null=True,
        blank=True,
        help_text="The series a follow-up visit follows.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=VisitStatus.choices, default=VisitStatus.BOOKED
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    cancel_reason = models.CharField(max_length=200, blank=True)
    calendar_sequence = models.PositiveIntegerField(default=0)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="visit_times_order"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__lte=F("starts_at") + LONGEST_VISIT),
                name="visit_within_longest",
            ),
            ExclusionConstraint(
                name="visit_clinician_no_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                    ("clinician", RangeOperators.EQUAL),
                ],
                condition=VISIT_ACTIVE,
            ),
        ]
        indexes = [
            # visits_between and the visit slots: a location's visits in a time range.
            models.Index(fields=["location", "starts_at"], name="visit_location_start"),
            # The patient page, the home page and the feed: a patient's visits in time order.
            models.Index(fields=["patient", "starts_at"], name="visit_patient_start"),
            # Visit slots: a clinician's visits around a day, at any location.
            models.Index(fields=["clinician", "starts_at"], name="visit_clinician_start"),
        ]

    def __str__(self) -> str:
        starts = self.starts_at.astimezone(dt.UTC)
        return f"{self.get_kind_display()} at {starts:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in VISIT_ACTIVE_STATUSES

    @property
    def is_upcoming(self) -> bool:
        return self.status in VISIT_UPCOMING_STATUSES and self.starts_at > timezone.now()

    @property
    def zone_label(self) -> str:
        return self.location.zone_label(self.starts_at)

    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(self.location.zone)

    def where(self) -> str:
        """Room or video, as the calendars and the patient read it."""
        if self.mode == VisitMode.VIDEO:
            return str(_("By video"))
        return self.room or str(_("In the clinic"))

    def video_opens_at(self) -> dt.datetime:
        """From when the join link works: the location's `video_opens_minutes` before the
        start (docs/visits.md#video-visits)."""
        return self.starts_at - dt.timedelta(minutes=self.location.video_opens_minutes)

    def video_url(self) -> str:
        """The visit's own room at the location's provider; empty for a visit in a room or a
        location without a provider."""
        template = self.location.video_room_template
        if self.mode != VisitMode.VIDEO or not template:
            return ""
        return template.replace("{token}", self.video_token)

    def video_link_open(self, now: dt.datetime) -> bool:
        """The link is shown from `video_opens_at` until the visit's end."""
        return self.is_active and self.video_opens_at() <= now < self.ends_at

    def cancellation_policy(self) -> CancellationPolicy:
        """The sessions' one rule (Session.cancellation_policy) for a visit: the patient
        changes it online until ONLINE_CANCEL_BEFORE the start
        (docs/visits.md#patients-change-their-visits)."""
        return CancellationPolicy(
            starts_at=self.starts_at,
            online_until=self.starts_at - ONLINE_CANCEL_BEFORE,
            late_from=self.starts_at - LATE_CANCEL_WINDOW,
        )


class AppointmentTime(models.Model):
    """Every active appointment's time, whatever its kind, kept by PostgreSQL triggers on the
    sessions' and visits' tables, so that one exclusion constraint refuses a patient in a
    session and a visit at once (docs/visits.md#the-rules-in-postgresql). Never written by
    the application."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    visit = models.OneToOneField(
        Visit, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            # Visit slots: a patient's appointment times around the days proposed.
            models.Index(fields=["patient", "starts_at"], name="appointmenttime_patient_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=False, visit__isnull=True)
                | Q(session__isnull=True, visit__isnull=False),
                name="appointment_time_one_source",
            ),
            ExclusionConstraint(
                name="appointment_patient_no_overlap",
                # Immediate, but a move inside one series defers it with the sessions' own.
                deferrable=Deferrable.IMMEDIATE,
                expressions=[
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment time from {self.starts_at:%Y-%m-%d %H:%M} UTC"
