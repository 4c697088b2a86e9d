"""Visits with a clinician: booking, moving, cancelling, holding, the free slots and the
calendars' read (docs/visits.md).

A visit takes a clinician (on shift at the location for the whole visit) and the patient; the
database refuses a clinician in two visits at once (`visit_clinician_no_overlap`) and a patient
in two appointments at once, sessions and visits alike (`appointment_patient_no_overlap` on the
appointment-time table its triggers keep). The services follow the booking's lock order
(docs/architecture.md#the-lock-order): the location row first, then the visit's row, then check,
then write, in one transaction; the constraints remain the last word.

Every change tells the listeners of `scheduling.signals` after commit (the Good Faith Estimates
listen there: docs/architecture.md#signal-wiring) and writes the patient's messages through
`hooks.messages()` in its transaction, as sessions do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Role, User
from locations.models import ClinicianShift, Location
from scheduling import hooks, signals
from scheduling.calendar import Block
from scheduling.models import (
    ONLINE_CANCEL_BEFORE,
    VISIT_UPCOMING_STATUSES,
    AppointmentTime,
    Series,
    Session,
    Status,
    Visit,
    VisitKind,
    VisitMode,
    VisitStatus,
)
from scheduling.services import (
    CONSTRAINT_REASONS,
    SchedulingError,
    _constraint,
    _lock,
    _retried,
)
from worklist import services as worklist
from worklist.models import Cause, Task

# A visit's length unless the desk chooses another (docs/visits.md#booking-a-visit).
DEFAULT_MINUTES = {VisitKind.EVALUATION: 45, VisitKind.FOLLOW_UP: 30}
SLOT_STEP = dt.timedelta(minutes=15)


class VisitRefused(SchedulingError):
    """The visit cannot be booked or moved as asked; the message says why, in the reader's
    language."""


@dataclass(frozen=True)
class VisitRequest:
    """What the desk or the patient chose: who, where, when and how long."""

    patient: User
    clinician: User
    location: Location
    kind: str
    starts_at: dt.datetime
    minutes: int
    mode: str = VisitMode.ROOM
    room: str = ""
    series: Series | None = None

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)


def _refusal(error: IntegrityError) -> VisitRefused:
    reason = CONSTRAINT_REASONS.get(_constraint(error) or "")
    return VisitRefused(
        gettext("This visit cannot be booked then: %(reason)s.")
        % {"reason": reason or gettext("not free then")}
    )


def _check(request: VisitRequest, *, now: dt.datetime) -> None:
    """The rules a visit keeps before it reaches the database's constraints."""
    if request.clinician.role != Role.CLINICIAN:
        raise VisitRefused(gettext("Visits are with a clinician."))
    if request.patient.role != Role.PATIENT:
        raise VisitRefused(gettext("Visits are for patients."))
    if not 10 <= request.minutes <= 120:
        raise VisitRefused(gettext("A visit lasts 10 to 120 minutes."))
    if request.starts_at <= now:
        raise VisitRefused(gettext("That time has passed; choose a later one."))
    if request.mode == VisitMode.VIDEO and not request.location.video_room_template:
        raise VisitRefused(gettext("This location does not hold visits by video."))
    if not _on_shift(request.clinician, request.location, request.starts_at, request.ends_at):
        raise VisitRefused(
            gettext(
                "The clinician is not on shift at %(location)s for the whole visit; choose a "
                "time inside one of their shifts."
            )
            % {"location": request.location.name}
        )


def _on_shift(clinician: User, location: Location, start: dt.datetime, end: dt.datetime) -> bool:
    return ClinicianShift.objects.filter(
        clinician=clinician, location=location, starts_at__lte=start, ends_at__gte=end
    ).exists()


def _saved(visit: Visit, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():  # a savepoint: the refusal names the rule
            if fields is None:
                visit.save()
            else:
                visit.save(update_fields=fields)
    except IntegrityError as error:
        raise _refusal(error) from error


@_retried
def book_visit(request: VisitRequest, *, booked_by: User) -> Visit:
    """Book one visit: the location's lock, the rules, then the row (the constraints refuse a
    clinician or patient taken meanwhile). VisitRefused says why not."""
    with transaction.atomic():
        location = _lock(request.location)
        _check(request, now=timezone.now())
        visit = Visit(
            kind=request.kind,
            mode=request.mode,
            patient=request.patient,
            clinician=request.clinician,
            location=location,
            room=request.room if request.mode == VisitMode.ROOM else "",
            series=request.series,
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            booked_by=booked_by,
        )
        _saved(visit)
        hooks.messages().on_visit_booked(visit)
        hooks.billing().on_visit_booked(visit)
        signals.send_after_commit(signals.visit_booked, visit)
    return visit


def _locked_upcoming(visit: Visit) -> Visit:
    locked = Visit.objects.select_for_update().select_related("location").get(pk=visit.pk)
    if locked.status not in VISIT_UPCOMING_STATUSES:
        raise VisitRefused(gettext("Only a booked or confirmed visit can be changed."))
    return locked


@_retried
def move_visit(visit: Visit, starts_at: dt.datetime, *, minutes: int | None = None) -> Visit:
    """Move a visit to another start (same clinician, location and length unless given)."""
    with transaction.atomic():
        _lock(visit.location)
        visit = _locked_upcoming(visit)
        length = minutes or int((visit.ends_at - visit.starts_at).total_seconds() // 60)
        request = VisitRequest(
            patient=visit.patient,
            clinician=visit.clinician,
            location=visit.location,
            kind=visit.kind,
            starts_at=starts_at,
            minutes=length,
            mode=visit.mode,
            room=visit.room,
        )
        _check(request, now=timezone.now())
        visit.starts_at, visit.ends_at = starts_at, request.ends_at
        visit.status = VisitStatus.BOOKED
        visit.status_changed_at = timezone.now()
        visit.calendar_sequence += 1
        _saved(visit, ["starts_at", "ends_at", "status", "status_changed_at", "calendar_sequence"])
        hooks.messages().on_visit_moved(visit)
        signals.send_after_commit(signals.visit_moved, visit)
    return visit


@_retried
def cancel_visit(visit: Visit, *, reason: str = "") -> Visit:
    """Cancel a booked or confirmed visit: it frees its clinician and patient at once."""
    with transaction.atomic():
        _lock(visit.location)
        visit = _locked_upcoming(visit)
        visit.status = VisitStatus.CANCELLED
        visit.status_changed_at = timezone.now()
        visit.cancel_reason = reason[:200]
        visit.calendar_sequence += 1
        visit.save(
            update_fields=["status", "status_changed_at", "cancel_reason", "calendar_sequence"]
        )
        hooks.messages().on_visit_cancelled(visit)
        hooks.billing().on_visit_cancelled(visit)
        signals.send_after_commit(signals.visit_cancelled, visit)
    return visit


def online_change_refusal(visit: Visit, now: dt.datetime) -> str:
    """Why the patient may not move or cancel this visit online now, in the active language;
    "" when they may. The sessions' rule: where the location takes changes online, until
    ONLINE_CANCEL_BEFORE the start (docs/visits.md#patients-change-their-visits)."""
    phone = visit.location.phone or gettext("the clinic")
    if visit.status not in VISIT_UPCOMING_STATUSES or visit.starts_at <= now:
        return gettext("This visit can no longer be changed.")
    if not visit.location.takes_changes_online:
        return gettext("Your clinic changes visits by phone: please call %(phone)s.") % {
            "phone": phone
        }
    if not visit.cancellation_policy().online_open(now):
        return gettext("This visit can no longer be changed online; please call %(phone)s.") % {
            "phone": phone
        }
    return ""


def cancel_by_patient(visit: Visit) -> Visit:
    """The patient cancels online: refused with the reason outside the rule, else the desk's
    cancellation with its messages."""
    reason = online_change_refusal(visit, timezone.now())
    if reason:
        raise VisitRefused(reason)
    return cancel_visit(visit, reason="Cancelled by the patient online")


def move_by_patient(visit: Visit, starts_at: dt.datetime) -> Visit:
    """The patient moves online to a free time of the same clinician, under the same rule; the
    new time must also be at least ONLINE_CANCEL_BEFORE ahead (it could not be changed after)."""
    now = timezone.now()
    reason = online_change_refusal(visit, now)
    if reason:
        raise VisitRefused(reason)
    if starts_at - ONLINE_CANCEL_BEFORE < now:
        raise VisitRefused(gettext("Choose a time at least a day ahead."))
    return move_visit(visit, starts_at)


@transaction.atomic
def set_outcome(visit: Visit, status: str) -> Visit:
    """Record that a visit was held or missed (the clinician's or the desk's click)."""
    if status not in (VisitStatus.HELD, VisitStatus.NO_SHOW):
        raise VisitRefused(gettext("A visit is held or missed."))
    visit = Visit.objects.select_for_update().select_related("location").get(pk=visit.pk)
    if visit.status not in VISIT_UPCOMING_STATUSES:
        raise VisitRefused(gettext("Only a booked or confirmed visit can be changed."))
    visit.status = status
    visit.status_changed_at = timezone.now()
    visit.save(update_fields=["status", "status_changed_at"])
    hooks.billing().on_visit_outcome(visit)  # docs/payments.md#appointments
    return visit


@transaction.atomic
def confirm_visit(visit: Visit) -> bool:
    """The patient confirmed (a reply C or a click); False when nothing was left to confirm."""
    return bool(
        Visit.objects.filter(pk=visit.pk, status=VisitStatus.BOOKED).update(
            status=VisitStatus.CONFIRMED, status_changed_at=timezone.now()
        )
    )


# The calendars' read -------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitRow:
    """One visit as the day and week calendars draw it (docs/visits.md#on-the-calendars)."""

    public_id: Any
    kind: str
    kind_label: str
    clinician: str
    patient: str
    patient_public_id: Any
    status: str
    status_label: str
    mode: str
    where: str
    starts_at: dt.datetime
    ends_at: dt.datetime


def visits_between(location: Location, start: dt.datetime, end: dt.datetime) -> list[VisitRow]:
    """The visits at `location` overlapping start..end, cancelled ones included (the calendar
    greys them), in time order: one query."""
    visits = (
        Visit.objects.filter(location=location)
        .overlapping(start, end)
        .select_related("clinician", "patient", "location")
        .order_by("starts_at", "pk")
    )
    return [
        VisitRow(
            public_id=visit.public_id,
            kind=visit.kind,
            kind_label=visit.get_kind_display(),
            clinician=visit.clinician.get_full_name() or visit.clinician.email,
            patient=visit.patient.get_full_name() or visit.patient.email,
            patient_public_id=visit.patient.public_id,
            status=visit.status,
            status_label=visit.get_status_display(),
            mode=visit.mode,
            where=visit.where(),
            starts_at=visit.starts_at,
            ends_at=visit.ends_at,
        )
        for visit in visits
    ]


# Free slots ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitSlot:
    clinician_id: int
    starts_at: dt.datetime


def free_slots(
    location: Location,
    patient: User,
    first: dt.date,
    last: dt.date,
    *,
    minutes: int,
    clinician: User | None = None,
    now: dt.datetime | None = None,
    limit: int = 40,
) -> list[VisitSlot]:
    """Starts from `first` to `last` (local dates) where a clinician on shift at `location` and
    the patient are both free for `minutes`, every SLOT_STEP, earliest first.

    A fixed number of queries whatever the history: the location's openings, the clinicians'
    shifts there, their active visits anywhere and the patient's appointment times, each
    bounded by the horizon through an index (docs/benchmarks.md#visit-slots-and-boosters).
    """
    now = now or timezone.now()
    since, _ = location.day_bounds(first)
    _, until = location.day_bounds(last)
    open_days = location.openings(first, last)
    shifts = ClinicianShift.objects.filter(
        location=location, starts_at__lt=until, ends_at__gt=since
    ).order_by("starts_at")
    if clinician is not None:
        shifts = shifts.filter(clinician=clinician)
    shift_rows = list(shifts.values_list("clinician_id", "starts_at", "ends_at"))
    clinicians = sorted({row[0] for row in shift_rows})
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {pk: [] for pk in clinicians}
    for pk, starts, ends in (
        Visit.objects.active()
        .filter(clinician_id__in=clinicians)
        .overlapping(since, until)
        .values_list("clinician_id", "starts_at", "ends_at")
    ):
        busy[pk].append((starts, ends))
    patient_busy = list(
        AppointmentTime.objects.filter(
            patient=patient, starts_at__lt=until, ends_at__gt=since
        ).values_list("starts_at", "ends_at")
    )
    length = dt.timedelta(minutes=minutes)
    found: list[VisitSlot] = []
    for clinician_id, shift_start, shift_end in shift_rows:
        local_day = shift_start.astimezone(location.zone).date()
        if local_day not in open_days:
            continue
        start = _ceil(max(shift_start, now), SLOT_STEP)
        while start + length <= shift_end:
            end = start + length
            if not _overlaps(busy[clinician_id], start, end) and not _overlaps(
                patient_busy, start, end
            ):
                found.append(VisitSlot(clinician_id, start))
            start += SLOT_STEP
    found.sort(key=lambda slot: (slot.starts_at, slot.clinician_id))
    return found[:limit]


def _overlaps(
    intervals: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime
) -> bool:
    return any(s < end and start < e for s, e in intervals)


def _ceil(when: dt.datetime, step: dt.timedelta) -> dt.datetime:
    seconds = step.total_seconds()
    stamp = when.timestamp()
    rounded = -(-stamp // seconds) * seconds
    return dt.datetime.fromtimestamp(rounded, tz=dt.UTC)


def evaluation_states(patient_ids: Iterable[int]) -> dict[int, str]:
    """Each patient's evaluation visit as review reads it (review.evaluations): "held" when one
    was held, else "booked" when one is booked or confirmed; patients with neither are absent.
    One query."""
    found: dict[int, str] = {}
    rows = (
        Visit.objects.filter(
            patient_id__in=list(patient_ids),
            kind=VisitKind.EVALUATION,
            status__in=[VisitStatus.HELD, *VISIT_UPCOMING_STATUSES],
        )
        .values_list("patient_id", "status")
        .order_by()
    )
    for patient_id, status in rows:
        if status == VisitStatus.HELD or found.get(patient_id) != "held":
            found[patient_id] = "held" if status == VisitStatus.HELD else "booked"
    return found


# On the desk's calendar -------------------------------------------------------------------------


def calendar_blocks(location: Location, start: dt.datetime, end: dt.datetime) -> list[Block]:
    """The visits of start..end as the desk's calendar draws them: no chair, so they are listed
    beside the chairs under "Other appointments", each opening the visit's page
    (docs/visits.md#on-the-calendars). One query, like `visits_between`."""
    zone = location.zone
    placeholder = "00000000-0000-0000-0000-000000000000"
    visit_url = reverse("scheduling:visit", args=[placeholder])
    patient_url = reverse("scheduling:patient", args=[placeholder])
    return [
        Block(
            kind="visit",
            key=str(row.public_id),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            chair_id=None,
            label=(
                f"{row.starts_at.astimezone(zone):%a %H:%M}–{row.ends_at.astimezone(zone):%H:%M} "
                f"{row.kind_label}: {row.patient} with {row.clinician} ({row.where})"
            ),
            status=row.status,
            status_label=row.status_label,
            link=visit_url.replace(placeholder, str(row.public_id)),
            person=row.clinician,
            patient_link=patient_url.replace(placeholder, str(row.patient_public_id)),
        )
        for row in visits_between(location, start, end)
    ]


def on_session_completed(session: Session) -> Task | None:
    """The clinicians' "Book the follow-up visit" task when this completed session is the
    location's `follow_up_after_sessions`-th of its series, unless a follow-up visit is already
    booked after it; once per series (docs/visits.md#follow-up-after-n-sessions)."""
    location = session.location
    wanted = location.follow_up_after_sessions
    if not wanted:
        return None
    series = session.series
    if series.sessions.filter(status=Status.COMPLETED).count() != wanted:
        return None
    booked = (
        Visit.objects.active()
        .filter(patient_id=series.patient_id, kind=VisitKind.FOLLOW_UP)
        .filter(starts_at__gte=session.starts_at)
    )
    about = f"series:{series.pk}"
    if booked.exists() or worklist.ever_opened(Cause.FOLLOW_UP_DUE, about):
        return None
    return worklist.open_task(
        Cause.FOLLOW_UP_DUE,
        about,
        subject=gettext("%(patient)s, series at %(location)s")
        % {"patient": series.patient.get_full_name(), "location": location.name},
        detail=gettext("%(count)s sessions of the series are completed. Book the follow-up visit.")
        % {"count": wanted},
        # The same link as the series-ended task's (docs/visits.md#follow-up-visits).
        link=reverse("scheduling:book_visit", args=[series.patient.public_id])
        + f"?kind=follow_up&series={series.public_id}",
        location_pk=location.pk,
    )
