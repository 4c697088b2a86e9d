"""The desk's calendar at one location: what its day and week views draw, as plain blocks
(docs/roles/front-desk.md#the-desks-calendar).

`blocks` is the one place that reads appointments for the calendar: each becomes a `Block`
(start, end, chair, kind, label, link, status…) that the templates draw without knowing what it
is. Sessions are the only kind here; another kind of appointment (a clinician's visit) adds its
own with `register_blocks` from its app's `ready`, since scheduling cannot import the apps above
it. `day_calendar` and `week_calendar` lay the blocks out; `version` is what the pages poll to
show another desk's change within seconds.

Queries are constant in the data: the sessions of the range in one query (with their patient,
nurse and series' plan), the chairs, the shifts and the opening hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString

from locations.models import Chair, NurseShift
from scheduling.models import UPCOMING_STATUSES, Session, Status, Visit

if TYPE_CHECKING:
    from locations.models import Location

SLOT = dt.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Block:
    """One appointment on the calendar, as the templates draw it.

    `chair_id` places it in a chair's column; `person` is who looks after it (the nurse of a
    session) and `person_id` counts it in that person's load from `starts_at` to `ends_at`,
    set-up until `setup_ends_at`. `link` opens its actions; `move_url` (None: it cannot be
    moved) is where a drop or the move form posts, with `version` as what the mover saw."""

    kind: str
    key: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair_id: int | None
    label: str
    status: str
    status_label: str
    link: str
    detail: str = ""
    person: str = ""
    person_id: int | None = None
    setup_ends_at: dt.datetime | None = None
    patient_link: str = ""
    move_url: str | None = None
    version: str = ""


BlockSource = Callable[["Location", dt.datetime, dt.datetime], list[Block]]
_sources: dict[str, BlockSource] = {}


def register_blocks(kind: str, source: BlockSource) -> None:
    """Called from an app's `ready`: `source(location, start, end)` returns that kind's blocks
    overlapping start..end, in a number of queries that does not grow with them."""
    _sources[kind] = source


def session_version(starts_at: dt.datetime, chair_id: int) -> str:
    """Where the desk saw a session: sent with a move, refused if it is no longer there."""
    return f"{int(starts_at.timestamp())}.{chair_id}"


def parse_version(value: str) -> tuple[dt.datetime, int] | None:
    try:
        seconds, chair = value.split(".")
        return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC), int(chair)
    except (ValueError, OverflowError, OSError):
        return None


# What the calendar reads of a session and its people, as plain values: model instances of four
# tables for the hundreds of sessions of a week cost more than the query itself.
SESSION_VALUES = (
    "public_id",
    "chair_id",
    "nurse_id",
    "starts_at",
    "setup_ends_at",
    "ends_at",
    "status",
    "number",
    "patient__public_id",
    "patient__first_name",
    "patient__last_name",
    "nurse__first_name",
    "series__plan__infusions",
)
_PLACEHOLDER = str(uuid.UUID(int=0))


def _session_blocks(location: Location, start: dt.datetime, end: dt.datetime) -> list[Block]:
    rows = (
        Session.objects.active()
        .at(location)
        .overlapping(start, end)
        .order_by("starts_at", "chair_id")
        .values_list(*SESSION_VALUES)
    )
    # One reverse per kind of address, not per session.
    action_url = reverse("scheduling:session", args=[_PLACEHOLDER])
    move_url = reverse("scheduling:move", args=[_PLACEHOLDER])
    patient_url = reverse("scheduling:patient", args=[_PLACEHOLDER])
    labels = {value: str(label) for value, label in Status.choices}
    movable = {str(status) for status in UPCOMING_STATUSES}
    blocks = []
    for (
        public_id,
        chair_id,
        nurse_id,
        starts_at,
        setup_ends_at,
        ends_at,
        status,
        number,
        patient_id,
        first_name,
        last_name,
        nurse_name,
        infusions,
    ) in rows:
        key = str(public_id)
        blocks.append(
            Block(
                kind="session",
                key=key,
                starts_at=starts_at,
                ends_at=ends_at,
                setup_ends_at=setup_ends_at,
                chair_id=chair_id,
                label=f"{first_name} {last_name}".strip(),
                detail=f"{number}/{infusions}",
                person=nurse_name,
                person_id=nurse_id,
                status=status,
                status_label=labels.get(status, status),
                link=action_url.replace(_PLACEHOLDER, key),
                patient_link=patient_url.replace(_PLACEHOLDER, str(patient_id)),
                move_url=move_url.replace(_PLACEHOLDER, key) if status in movable else None,
                version=session_version(starts_at, chair_id),
            )
        )
    return blocks


register_blocks("session", _session_blocks)


def blocks(location: Location, start: dt.datetime, end: dt.datetime) -> list[Block]:
    """Every appointment at `location` overlapping start..end, of every registered kind, in
    time order."""
    found = [block for source in _sources.values() for block in source(location, start, end)]
    found.sort(key=lambda b: (b.starts_at, b.chair_id or 0))
    return found


def version(location: Location, start: dt.datetime, end: dt.datetime) -> str:
    """What changes whenever the calendar of start..end would: a session or a visit booked,
    moved in or out, or changing status (every change sets `status_changed_at`). One aggregate
    query per kind; every status counts, so a cancellation shows too."""
    found = (
        Session.objects.at(location)
        .overlapping(start, end)
        .order_by()
        .aggregate(
            count=Count("id"),
            ids=Sum("id"),
            changed=Max("status_changed_at"),
            created=Max("created_at"),
        )
    )
    visits = (
        Visit.objects.filter(location=location)
        .overlapping(start, end)
        .order_by()
        .aggregate(
            count=Count("id"),
            ids=Sum("id"),
            changed=Max("status_changed_at"),
            created=Max("created_at"),
        )
    )
    text = "|".join(str(found[key]) for key in ("count", "ids", "changed", "created")) + "|".join(
        str(visits[key]) for key in ("count", "ids", "changed", "created")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# The layout's numbers are strings already: a template renders an int through the number
# formatting of the active locale, which costs more than the rest of a cell.


@dataclass(slots=True)
class Cell:
    """One chair at one row: free (`href`: the slot to book, or drop on; blank on a closed day)
    or the top of a block spanning `rows` rows."""

    chair_id: str
    chair_name: str
    block: Block | None = None
    rows: str = "1"
    setup: str = ""
    times: str = ""
    href: str = ""


@dataclass(slots=True)
class Load:
    """A nurse's load over `rows` rows: patients in their care, S while setting one up."""

    count: int
    setting_up: bool
    span: int = 1
    rows: str = "1"
    level: str = "0"
    text: str = ""


@dataclass
class Row:
    time: str
    cells: list[Cell] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)


@dataclass
class DayCalendar:
    date: dt.date
    is_open: bool
    hours: str
    chairs: list[Chair]
    nurses: list[tuple[int, str]]
    rows: list[Row]
    blocks: list[Block]
    unplaced: list[Block]


def _chairs(location: Location) -> list[Chair]:
    return list(location.chairs.filter(is_active=True).order_by("position", "name", "id"))


def _nurses(location: Location, start: dt.datetime, end: dt.datetime) -> list[tuple[int, str]]:
    shifts = (
        NurseShift.objects.filter(location=location, starts_at__lt=end, ends_at__gt=start)
        .select_related("nurse")
        .only("nurse__first_name", "nurse__last_name", "nurse_id")
        .order_by("nurse__first_name", "nurse_id")
    )
    return list({s.nurse_id: s.nurse.get_short_name() for s in shifts}.items())


def day_calendar(location: Location, date: dt.date, slot_url: str = "") -> DayCalendar:
    """Chairs as columns in 15-minute rows of the location's local clock, each block spanning
    its rows, each free slot linked to `slot_url` with its chair and time; each nurse's load
    (patients in their care, S while setting one up), one cell while it stays the same."""
    start, end = location.day_bounds(date)
    chairs = _chairs(location)
    found = blocks(location, start, end)
    nurses = _nurses(location, start, end)
    hours = location.hours_on(date)
    zone = location.zone
    opens, closes = _span(location, date, hours, found)
    by_id = {chair.pk: chair for chair in chairs}
    # Instants compared as POSIX seconds: aware datetimes of two zones convert on every
    # comparison, and a day makes thousands of them.
    slot = SLOT.total_seconds()
    by_chair: dict[int, list[tuple[float, float, Block]]] = defaultdict(list)
    by_person: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
    for block in found:
        starts, ends = block.starts_at.timestamp(), block.ends_at.timestamp()
        if block.chair_id in by_id:
            by_chair[block.chair_id].append((starts, ends, block))
        if block.person_id is not None:
            setup = (block.setup_ends_at or block.starts_at).timestamp()
            by_person[block.person_id].append((starts, setup, ends))
    rows = []
    moment, last = opens.timestamp(), closes.timestamp()
    # A nurse's load is one cell while it stays the same, spanning its rows.
    current: dict[int, Load] = {}
    loads: list[Load] = []
    ids = {chair.pk: str(chair.pk) for chair in chairs}
    while moment < last:
        row = Row(time=f"{dt.datetime.fromtimestamp(moment, zone):%H:%M}")
        for chair in chairs:
            here = next((t for t in by_chair[chair.pk] if t[0] <= moment < t[1]), None)
            if here is None:
                href = f"{slot_url}?chair={chair.pk}&time={row.time}" if hours else ""
                row.cells.append(Cell(ids[chair.pk], chair.name, href=href))
            elif here[0] > moment - slot:
                block = here[2]
                local_start = block.starts_at.astimezone(zone)
                set_up = block.setup_ends_at.astimezone(zone) if block.setup_ends_at else None
                row.cells.append(
                    Cell(
                        ids[chair.pk],
                        chair.name,
                        block,
                        rows=str(max(1, math.ceil((here[1] - moment) / slot))),
                        times=f"{local_start:%H:%M}–{block.ends_at.astimezone(zone):%H:%M}",
                        setup=f"{local_start:%H:%M}–{set_up:%H:%M}" if set_up else "",
                    )
                )
            # A chair covered by a block that started above is drawn by that block's rows.
        for person_id, _ in nurses:
            mine = [t for t in by_person[person_id] if t[0] <= moment < t[2]]
            count, setting_up = len(mine), any(t[0] <= moment < t[1] for t in mine)
            before = current.get(person_id)
            if before is not None and (before.count, before.setting_up) == (count, setting_up):
                before.span += 1
            else:
                current[person_id] = Load(count, setting_up)
                loads.append(current[person_id])
                row.loads.append(current[person_id])
        rows.append(row)
        moment += slot
    for load in loads:
        load.rows, load.level = str(load.span), str(load.count)
        load.text = f"{load.count} S" if load.count and load.setting_up else str(load.count or "")
    return DayCalendar(
        date=date,
        is_open=hours is not None,
        hours=(
            f"{hours.opens.astimezone(zone):%H:%M}–{hours.closes.astimezone(zone):%H:%M}"
            if hours
            else ""
        ),
        chairs=chairs,
        nurses=nurses,
        rows=rows,
        blocks=found,
        unplaced=[b for b in found if b.chair_id not in by_id],
    )


def _span(
    location: Location, date: dt.date, hours: object, found: list[Block]
) -> tuple[dt.datetime, dt.datetime]:
    """The rows to draw: the opening hours, widened to every block of the day, so that a
    session booked before its hours changed or a closure was declared is never hidden. A closed
    day without blocks has no rows."""
    midnight, next_midnight = location.day_bounds(date)
    opens = getattr(hours, "opens", None)
    closes = getattr(hours, "closes", None)
    starts = [b.starts_at for b in found] + ([opens] if opens else [])
    ends = [b.ends_at for b in found] + ([closes] if closes else [])
    if not starts:
        return midnight, midnight
    first = max(min(starts), midnight).astimezone(location.zone)
    # Rows fall on the quarter hours of the local clock.
    first = first.replace(minute=first.minute - first.minute % 15, second=0, microsecond=0)
    return first, min(max(ends), next_midnight)


# A block as the week draws it (`week_calendar`): a dict, which the template language reads at
# its first try (an object costs it a failed subscript first), and every value but the names
# already safe HTML, so that the hundreds of blocks of a busy week are not escaped one value at a
# time: times and set-ups are digits, the links Django's own reversed paths with a UUID, the
# version digits, the status a code and its label escaped once per status. The patient's and
# the nurse's names are escaped by the template as usual.
WeekBlock = dict[str, str | None]


@dataclass(slots=True)
class WeekCell:
    chair_id: str
    blocks: list[WeekBlock] = field(default_factory=list)


@dataclass
class WeekDay:
    date: dt.date
    iso: str
    hours: str
    closed: str
    cells: list[WeekCell]
    loads: list[tuple[str, int]]
    count: int


@dataclass
class WeekCalendar:
    monday: dt.date
    chairs: list[Chair]
    days: list[WeekDay]
    unplaced: list[Block]


def week_calendar(location: Location, monday: dt.date) -> WeekCalendar:
    """Days as rows and chairs as columns; each cell the blocks of that chair that day, each
    with its status; each day its hours and its nurses' sessions."""
    start, _ = location.day_bounds(monday)
    sunday = monday + dt.timedelta(days=6)
    _, end = location.day_bounds(sunday)
    chairs = _chairs(location)
    found = blocks(location, start, end)
    # The closures and holidays read once, for the closed days and the opening hours.
    closed = location.closed_days(monday, sunday)
    openings = location.openings(monday, sunday, closed=closed)
    zone = location.zone
    column = {chair.pk: index for index, chair in enumerate(chairs)}
    days = []
    by_day: dict[dt.date, list[Block]] = defaultdict(list)
    for block in found:
        by_day[block.starts_at.astimezone(zone).date()].append(block)
    status_labels: dict[str, SafeString] = {}
    unplaced = []
    for offset in range(7):
        date = monday + dt.timedelta(days=offset)
        cells = [WeekCell(str(chair.pk)) for chair in chairs]
        load: dict[tuple[str, int], int] = defaultdict(int)
        for block in by_day.get(date, []):
            local = block.starts_at.astimezone(zone)
            setup = block.setup_ends_at.astimezone(zone) if block.setup_ends_at else None
            times = f"{local:%H:%M}–{block.ends_at.astimezone(zone):%H:%M}"
            if setup:
                times += f" (set-up {(setup - local).seconds // 60} min)"
            if block.status_label not in status_labels:
                status_labels[block.status_label] = escape(block.status_label)
            entry: WeekBlock = {
                "start": SafeString(f"{local:%H:%M}"),
                "times": SafeString(times),
                "detail": f"{block.detail} · {block.person}" if block.person else block.detail,
                "status": SafeString(block.status),
                "status_label": status_labels[block.status_label],
                "label": block.label,
                "link": SafeString(block.link),
                "move_url": SafeString(block.move_url) if block.move_url else None,
                "version": SafeString(block.version),
            }
            if block.chair_id in column:
                cells[column[block.chair_id]].blocks.append(entry)
            else:
                unplaced.append(block)
            if block.person_id is not None:
                load[(block.person, block.person_id)] += 1
        hours = openings.get(date)
        days.append(
            WeekDay(
                date=date,
                iso=date.isoformat(),
                hours=(
                    f"{hours.opens.astimezone(zone):%H:%M}–{hours.closes.astimezone(zone):%H:%M}"
                    if hours
                    else ""
                ),
                closed=closed.get(date, "") if hours is None else "",
                cells=cells,
                loads=[(person, count) for (person, _), count in sorted(load.items())],
                count=len(by_day.get(date, [])),
            )
        )
    return WeekCalendar(monday=monday, chairs=chairs, days=days, unplaced=unplaced)
