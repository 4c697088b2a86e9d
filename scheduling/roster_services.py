"""Adding, moving, deleting and copying nurse shifts (docs/roles/clinic-admin.md#the-roster).

A shift change counts towards nurse capacity like a booking, so it takes the location's lock
first (step 1 of the lock order, docs/architecture.md#the-lock-order) and then writes. The
exclusion constraint `nurse_shift_no_overlap` is the rule that a nurse is never on two shifts at
once, at whichever location; each write runs in a savepoint so its refusal names the clash and
leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.models import User
from locations.models import ClinicianShift, Location, NurseShift
from scheduling import services

NO_OVERLAP = "nurse_shift_no_overlap"


def day_text(day: dt.date) -> str:
    """A day as people read it on the roster: "Mon 8 Mar"."""
    return f"{day:%a} {day.day} {day:%b}"


def shift_text(shift: NurseShift) -> str:
    """A shift in its location's time: "Mon 8 Mar, 08:00–18:00"."""
    zone = shift.location.zone
    starts, ends = shift.starts_at.astimezone(zone), shift.ends_at.astimezone(zone)
    return f"{day_text(starts.date())}, {starts:%H:%M}–{ends:%H:%M}"


class ShiftClash(services.SchedulingError):
    """The nurse is already on another shift then; nothing was written."""

    def __init__(self, nurse: User, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
        clash = (
            NurseShift.objects.filter(nurse=nurse, starts_at__lt=ends_at, ends_at__gt=starts_at)
            .select_related("location")
            .first()
        )
        if clash is None:  # gone since: the constraint saw it, the read did not
            message = f"{nurse} is already on another shift then; nothing was changed."
        else:
            message = (
                f"{nurse} is already on a shift at {clash.location.name} on {shift_text(clash)}; "
                "nothing was changed."
            )
        super().__init__(message)


def _saved(shift: NurseShift) -> NurseShift:
    """Save in a savepoint; the overlap constraint's refusal becomes ShiftClash."""
    try:
        with transaction.atomic():
            shift.save()
    except IntegrityError as error:
        if services._constraint(error) != NO_OVERLAP:
            raise
        raise ShiftClash(shift.nurse, shift.starts_at, shift.ends_at) from error
    return shift


@services._retried
def add_shift(
    location: Location, nurse: User, starts_at: dt.datetime, ends_at: dt.datetime
) -> NurseShift:
    with transaction.atomic():
        services._lock(location)
        return _saved(
            NurseShift(location=location, nurse=nurse, starts_at=starts_at, ends_at=ends_at)
        )


@services._retried
def move_shift(shift: NurseShift, starts_at: dt.datetime, ends_at: dt.datetime) -> NurseShift:
    with transaction.atomic():
        services._lock(shift.location)
        shift.starts_at, shift.ends_at = starts_at, ends_at
        return _saved(shift)


@services._retried
def delete_shift(shift: NurseShift) -> None:
    with transaction.atomic():
        services._lock(shift.location)
        NurseShift.objects.filter(pk=shift.pk).delete()


@dataclass(frozen=True)
class Copied:
    copied: int
    skipped: int


@services._retried
def copy_week(location: Location, monday: dt.date) -> Copied:
    """Copy the week's shifts at the location to the next week, each on the same weekday at the
    same local times (across a change of the clocks too); a copy that would overlap another shift
    of its nurse is skipped."""
    zone = location.zone
    since, _ = location.day_bounds(monday)
    _, until = location.day_bounds(monday + dt.timedelta(days=6))
    copied = skipped = 0
    with transaction.atomic():
        services._lock(location)
        week = NurseShift.objects.filter(
            location=location, starts_at__gte=since, starts_at__lt=until
        ).select_related("location", "nurse")
        for shift in week:
            # Adding days to a local time keeps the wall clock (08:00 stays 08:00 after DST).
            starts = shift.starts_at.astimezone(zone) + dt.timedelta(days=7)
            ends = shift.ends_at.astimezone(zone) + dt.timedelta(days=7)
            copy = NurseShift(location=location, nurse=shift.nurse, starts_at=starts, ends_at=ends)
            try:
                _saved(copy)
            except ShiftClash:
                skipped += 1
            else:
                copied += 1
    return Copied(copied=copied, skipped=skipped)


CLINICIAN_NO_OVERLAP = "clinician_shift_no_overlap"


@services._retried
def add_clinician_shift(
    location: Location, clinician: User, starts_at: dt.datetime, ends_at: dt.datetime
) -> ClinicianShift:
    """A clinician's shift for visits; PostgreSQL refuses one that overlaps another of theirs
    anywhere (clinician_shift_no_overlap)."""
    with transaction.atomic():
        services._lock(location)
        shift = ClinicianShift(
            location=location, clinician=clinician, starts_at=starts_at, ends_at=ends_at
        )
        try:
            with transaction.atomic():
                shift.save()
        except IntegrityError as error:
            if services._constraint(error) != CLINICIAN_NO_OVERLAP:
                raise
            raise services.SchedulingError(
                f"{clinician} is already on another shift then; nothing was changed."
            ) from error
        return shift


@services._retried
def delete_clinician_shift(shift: ClinicianShift) -> None:
    """Remove a clinician's shift; the visits already booked in it stay (the desk moves them)."""
    with transaction.atomic():
        services._lock(shift.location)
        ClinicianShift.objects.filter(pk=shift.pk).delete()
