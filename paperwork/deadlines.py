"""When a Good Faith Estimate is due, counted in business days at the location.

A business day is a weekday (Monday to Friday) on which the location is not closed: its public
holidays (the `holidays` package, for its country and subdivision) and its own closures are
left out (`Location.closed_days`). The rules, from 45 CFR 149.610(b)(1)
(docs/paperwork.md#deadlines):

- scheduled at least 10 business days before the service: within 3 business days of scheduling;
- scheduled at least 3 business days before: within 1 business day of scheduling;
- scheduled closer than that: the rule sets no deadline; the clinic gives it before the
  service, so it is due on the service's day;
- asked for by the patient: within 3 business days of the request;
- reissued on a change of scope: no later than 1 business day before the service (and within
  1 business day of the change when that comes first).

"N business days before the service" reads: counting N business days on from the day of
scheduling reaches the service's day or an earlier one.
"""

from __future__ import annotations

import datetime as dt

from locations.models import Location

WEEKEND = {5, 6}
# Enough calendar days to find 10 business days across any run of holidays and closures.
_HORIZON = 60


def business_days(location: Location, first: dt.date, last: dt.date) -> list[dt.date]:
    """The location's business days from `first` to `last`, both included."""
    if first > last:
        return []
    closed = location.closed_days(first, last)
    days = []
    day = first
    while day <= last:
        if day.weekday() not in WEEKEND and day not in closed:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def add_business_days(location: Location, start: dt.date, count: int) -> dt.date:
    """The `count`-th business day after `start` (`start` itself not counted)."""
    found: list[dt.date] = []
    first = start + dt.timedelta(days=1)
    while len(found) < count:
        last = first + dt.timedelta(days=_HORIZON)
        found += business_days(location, first, last)
        first = last + dt.timedelta(days=1)
    return found[count - 1]


def previous_business_day(location: Location, before: dt.date) -> dt.date:
    """The last business day before `before`."""
    first = before - dt.timedelta(days=_HORIZON)
    days = business_days(location, first, before - dt.timedelta(days=1))
    return days[-1] if days else before - dt.timedelta(days=1)


def due_after_scheduling(location: Location, scheduled_on: dt.date, service_on: dt.date) -> dt.date:
    """The last day to give the estimate of a service scheduled on `scheduled_on`."""
    if add_business_days(location, scheduled_on, 10) <= service_on:
        return add_business_days(location, scheduled_on, 3)
    if add_business_days(location, scheduled_on, 3) <= service_on:
        return add_business_days(location, scheduled_on, 1)
    return max(scheduled_on, service_on)


def due_after_request(location: Location, requested_on: dt.date) -> dt.date:
    return add_business_days(location, requested_on, 3)


def due_after_change(location: Location, changed_on: dt.date, service_on: dt.date) -> dt.date:
    """One business day after the change, and never later than the business day before the
    service (the change's own day when the service is closer than that)."""
    latest = previous_business_day(location, service_on)
    return max(changed_on, min(add_business_days(location, changed_on, 1), latest))
