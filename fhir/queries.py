"""What each search and read fetches: a bounded number of queries whatever the page holds.

Observations and questionnaire responses are not rows of one table: each comes from a part of a
record (an intake version's scores, a milestone questionnaire, a check-in, a chart, a vitals
reading). Each such source is one query, ordered by the time the resources carry, so a page is
the merge of the first `offset + count` rows of every source (each row gives at least one
resource), and the total is one count per source.
"""

from __future__ import annotations

import datetime as dt
import heapq
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery

from accounts.models import Role, User
from charting.models import InfusionRecord, VitalSign
from fhir import mapping as r
from fhir import questionnaires as q
from fhir.models import PlaceKey
from fhir.places import keys_for
from fhir.search import Search
from intake.models import Intake, IntakeAnswer
from locations.models import Chair, Location
from outcomes.models import CheckIn
from outcomes.models import QuestionnaireResponse as MilestoneResponse
from scheduling.models import Session, Visit

Resource = dict[str, Any]

# Observation categories (observation-category) as fhir.mapping gives them.
SURVEY, VITAL_SIGNS = "survey", "vital-signs"


def _category(resource: Resource) -> str:
    return str(resource["category"][0]["coding"][0]["code"])


@dataclass(frozen=True)
class Entry:
    """A resource and the patient it is about (for the audit log), or None for a place or a
    questionnaire."""

    resource: Resource
    patient: User | None
    mode: str = "match"


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    total: int


@dataclass(frozen=True)
class Source:
    """Rows of one model that give resources of one type, ordered by `time` (then pk)."""

    rows: Callable[[], QuerySet[Any]]
    patient: str  # the path from the row to the patient
    time: str
    build: Callable[[Any], list[Resource]]
    owner: Callable[[Any], User]
    total: Callable[[QuerySet[Any]], int]
    # The category of each resource a row gives, in order (fhir.mapping builds them); a single
    # one for a source of one category whatever the number.
    categories: tuple[str, ...] = (SURVEY,)

    def filtered(self, search: Search) -> QuerySet[Any]:
        rows = self.rows().filter(search.condition(self.time))
        if search.patient:
            rows = rows.filter(**{f"{self.patient}__public_id": search.patient})
        return rows

    def narrowed(self, wanted: frozenset[str] | None) -> Source | None:
        """This source giving only resources of the wanted categories, or None if it gives none.

        A row of a mixed source gives a fixed number of each category, so the total stays one
        count of rows; what is built is filtered by the category the resource carries.
        """
        if wanted is None:
            return self
        kept = tuple(category for category in self.categories if category in wanted)
        if kept == self.categories:
            return self
        if not kept:
            return None
        build = self.build

        def only_wanted(row: Any) -> list[Resource]:
            return [resource for resource in build(row) if _category(resource) in kept]

        return replace(self, build=only_wanted, total=_times(len(kept)), categories=kept)


def _times(count: int) -> Callable[[QuerySet[Any]], int]:
    return lambda rows: rows.count() * count


def _vitals_total(rows: QuerySet[Any]) -> int:
    counts = rows.aggregate(readings=Count("pk"), rates=Count("resp_rate"))
    return int(counts["readings"]) * 3 + int(counts["rates"])


def _submitted_intakes() -> QuerySet[Intake]:
    scored_steps = IntakeAnswer.objects.filter(step__in=["fibromyalgia", "pain", "mood"])
    return (
        Intake.objects.submitted()
        .select_related("patient")
        .prefetch_related(Prefetch("answers", queryset=scored_steps, to_attr="scored_answers"))
    )


def _milestones() -> QuerySet[MilestoneResponse]:
    return MilestoneResponse.objects.select_related("patient", "series")


def _records() -> QuerySet[InfusionRecord]:
    return InfusionRecord.objects.select_related("session__patient")


def _vitals() -> QuerySet[VitalSign]:
    # The reading's place in its chart, in the order charted: ids stay put when a reading taken
    # earlier is charted later, and no database id is named.
    number = (
        VitalSign.objects.filter(record=OuterRef("record"), pk__lte=OuterRef("pk"))
        .order_by()
        .values("record")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return VitalSign.objects.select_related("record__session__patient").annotate(
        number=Subquery(number, output_field=IntegerField())
    )


OBSERVATION_SOURCES = (
    Source(
        _submitted_intakes,
        "patient",
        "submitted_at",
        r.intake_observations,
        lambda intake: intake.patient,
        _times(r.INTAKE_OBSERVATIONS),
        (SURVEY,) * 5 + (VITAL_SIGNS,),  # four scores and the pain now; the reported weight
    ),
    Source(
        _milestones,
        "patient",
        "submitted_at",
        r.milestone_observations,
        lambda response: response.patient,
        _times(r.MILESTONE_OBSERVATIONS),
    ),
    Source(
        lambda: CheckIn.objects.select_related("session__patient"),
        "session__patient",
        "submitted_at",
        lambda check_in: [r.check_in_observation(check_in)],
        lambda check_in: check_in.session.patient,
        _times(1),
    ),
    Source(
        _records,
        "session__patient",
        "checked_in_at",
        r.check_in_chart_observations,
        lambda record: record.session.patient,
        _times(r.CHECK_IN_CHART_OBSERVATIONS),
        (SURVEY, VITAL_SIGNS),  # pain before, weight
    ),
    Source(
        lambda: _records().filter(discharged_at__isnull=False, pain_after__isnull=False),
        "session__patient",
        "discharged_at",
        lambda record: [r.discharge_observation(record)],
        lambda record: record.session.patient,
        _times(1),
    ),
    Source(
        _vitals,
        "record__session__patient",
        "taken_at",
        lambda reading: r.vital_observations(reading, reading.number),
        lambda reading: reading.record.session.patient,
        _vitals_total,
        (VITAL_SIGNS,),
    ),
)

RESPONSE_SOURCES = (
    Source(
        _submitted_intakes,
        "patient",
        "submitted_at",
        lambda intake: r.intake_responses(intake, intake.scored_answers),
        lambda intake: intake.patient,
        _times(4),  # ACR 2016, PEG, PHQ-9, GAD-7: a submitted version has answered every step
    ),
    Source(
        _milestones,
        "patient",
        "submitted_at",
        r.milestone_responses,
        lambda response: response.patient,
        _times(2),
    ),
)


def _merged(sources: Iterable[Source], search: Search, limit: int | None) -> Iterator[Entry]:
    """The sources' resources in time order (ties by source, then row), `limit` rows each."""

    def stream(rank: int, source: Source) -> Iterator[tuple[dt.datetime, int, int, int, Entry]]:
        rows = source.filtered(search).order_by(source.time, "pk")
        for row in rows if limit is None else rows[:limit]:
            owner = source.owner(row)
            for index, resource in enumerate(source.build(row)):
                yield getattr(row, source.time), rank, row.pk, index, Entry(resource, owner)

    streams = [stream(rank, source) for rank, source in enumerate(sources)]
    for *_key, entry in heapq.merge(*streams, key=lambda item: item[:4]):
        yield entry


def _paged(sources: tuple[Source, ...], search: Search) -> Page:
    total = sum(source.total(source.filtered(search)) for source in sources)
    if search.count == 0 or search.offset >= total:
        return Page([], total)
    wanted = search.offset + search.count
    entries = list(_merged(sources, search, wanted))[search.offset : wanted]
    return Page(entries, total)


def observations(search: Search) -> Page:
    narrowed = (source.narrowed(search.categories) for source in OBSERVATION_SOURCES)
    return _paged(tuple(source for source in narrowed if source is not None), search)


def questionnaire_responses(search: Search) -> Page:
    return _paged(RESPONSE_SOURCES, search)


# --- Patients -------------------------------------------------------------------------------------


def _patient_entries(users: list[User]) -> list[Entry]:
    """Patients with the first step of their latest submitted intake: one query for the page."""
    latest_about = (
        IntakeAnswer.objects.filter(step="about", intake__patient__in=users)
        .exclude(intake__status=Intake.Status.DRAFT)
        .order_by("intake__patient_id", "-intake__version")
        .distinct("intake__patient_id")
        .values_list("intake__patient_id", "data")
    )
    about = dict(latest_about)
    return [
        Entry(r.patient(user, getattr(user, "patient_profile", None), about.get(user.pk)), user)
        for user in users
    ]


def _patients() -> QuerySet[User]:
    return User.objects.filter(role=Role.PATIENT).select_related("patient_profile")


def patients(search: Search) -> Page:
    rows = _patients().order_by("date_joined", "pk")
    if search.ids:
        rows = rows.filter(public_id=search.ids)
    total = rows.count()
    users = list(rows[search.offset : search.offset + search.count]) if search.count else []
    return Page(_patient_entries(users), total)


def patient(public_id: uuid.UUID) -> Entry | None:
    user = _patients().filter(public_id=public_id).first()
    return _patient_entries([user])[0] if user else None


# --- Appointments and places ----------------------------------------------------------------------


def _sessions() -> QuerySet[Session]:
    return Session.objects.select_related("patient", "location", "chair__location", "series__plan")


def _appointment_entries(sessions: list[Session]) -> list[Entry]:
    places = keys_for(
        [session.location_id for session in sessions], [session.chair_id for session in sessions]
    )
    return [Entry(r.appointment(session, places), session.patient) for session in sessions]


def _visits() -> QuerySet[Visit]:
    return Visit.objects.select_related("patient", "clinician", "location")


def _visit_entries(visits: list[Visit]) -> list[Entry]:
    places = keys_for([visit.location_id for visit in visits], [])
    return [Entry(r.visit_appointment(visit, places), visit.patient) for visit in visits]


def _entries_of(rows: list[Session | Visit]) -> list[Entry]:
    """Sessions and visits as Appointments, in the order given; the places read once each."""
    sessions = [row for row in rows if isinstance(row, Session)]
    visits = [row for row in rows if isinstance(row, Visit)]
    built = dict(zip(map(id, sessions), _appointment_entries(sessions), strict=True))
    built.update(zip(map(id, visits), _visit_entries(visits), strict=True))
    return [built[id(row)] for row in rows]


def appointments(search: Search) -> Page:
    """Infusion sessions and visits with a clinician, in time order
    (docs/visits.md#fhir-appointments): each read up to the page's end, merged, then paged."""
    sessions = _sessions().filter(search.condition("starts_at")).order_by("starts_at", "pk")
    visits = _visits().filter(search.condition("starts_at")).order_by("starts_at", "pk")
    if search.patient:
        sessions = sessions.filter(patient__public_id=search.patient)
        visits = visits.filter(patient__public_id=search.patient)
    total = sessions.count() + visits.count()
    if not search.count or search.offset >= total:
        return Page([], total)
    wanted = search.offset + search.count
    timed: list[list[tuple[dt.datetime, int, int, Session | Visit]]] = [
        [(row.starts_at, 0, row.pk, row) for row in sessions[:wanted]],
        [(row.starts_at, 1, row.pk, row) for row in visits[:wanted]],
    ]
    merged = heapq.merge(*timed, key=lambda item: item[:3])
    rows = [item[3] for item in merged][search.offset : wanted]
    return Page(_entries_of(rows), total)


def appointment(public_id: uuid.UUID) -> Entry | None:
    session = _sessions().filter(public_id=public_id).first()
    if session is not None:
        return _appointment_entries([session])[0]
    visit = _visits().filter(public_id=public_id).first()
    return _visit_entries([visit])[0] if visit else None


def _place_entries(sites: list[Location], chairs: list[Chair], mode: str = "match") -> list[Entry]:
    places = keys_for(
        [site.pk for site in sites] + [chair.location_id for chair in chairs],
        [chair.pk for chair in chairs],
    )
    entries = [Entry(r.location(site, places.locations[site.pk]), None, mode) for site in sites]
    entries += [
        Entry(
            r.chair(chair, places.chairs[chair.pk], places.locations[chair.location_id]), None, mode
        )
        for chair in chairs
    ]
    return entries


def locations(search: Search) -> Page:
    """Every site, then every chair: a clinic has a handful, so they are listed whole and paged
    in memory."""
    sites = list(Location.objects.order_by("name", "pk"))
    chairs = list(
        Chair.objects.select_related("location").order_by("location__name", "position", "pk")
    )
    entries = _place_entries(sites, chairs)
    return Page(entries[search.offset : search.offset + search.count], len(entries))


def location(public_id: uuid.UUID) -> Entry | None:
    key = (
        PlaceKey.objects.select_related("location", "chair__location")
        .filter(public_id=public_id)
        .first()
    )
    if key is None:
        return None
    if key.location is not None:
        return _place_entries([key.location], [])[0]
    assert key.chair is not None
    return _place_entries([], [key.chair])[0]


# --- Questionnaires -------------------------------------------------------------------------------


def questionnaires(search: Search) -> Page:
    found = [q.questionnaire(instrument_id) for instrument_id in q.INSTRUMENTS]
    if search.url:
        wanted = search.url.split("|")[0]
        found = [resource for resource in found if resource["url"] == wanted]
    entries = [Entry(resource, None) for resource in found]
    return Page(entries[search.offset : search.offset + search.count], len(entries))


def questionnaire(instrument_id: str) -> Entry | None:
    if instrument_id not in q.INSTRUMENTS:
        return None
    return Entry(q.questionnaire(instrument_id), None)


# --- Reads of parts of records --------------------------------------------------------------------


def _split(resource_id: str) -> tuple[uuid.UUID, str] | None:
    head, _, rest = resource_id.partition(".")
    try:
        return uuid.UUID(head), rest
    except ValueError:
        return None


def _find(
    sources: Iterable[Source], condition: dict[str, uuid.UUID], resource_id: str
) -> Entry | None:
    for source in sources:
        for row in source.rows().filter(**condition):
            for resource in source.build(row):
                if resource["id"] == resource_id:
                    return Entry(resource, source.owner(row))
    return None


_MILESTONE_PARTS = ("baseline.", "mid.", "end.")


def observation(resource_id: str) -> Entry | None:
    """Observation/<record>.<part>: the source is told by the part, the record by the uuid."""
    split = _split(resource_id)
    if split is None:
        return None
    public_id, part = split
    intake, milestone, check_in, check_in_chart, discharge, vitals = OBSERVATION_SOURCES
    if part in {"phq9-total", "phq9-item9", "gad7-total", "peg", "pain-now", "intake-weight"}:
        return _find([intake], {"public_id": public_id}, resource_id)
    if part.startswith(_MILESTONE_PARTS):
        return _find([milestone], {"series__public_id": public_id}, resource_id)
    if part == "check-in-pain":
        return _find([check_in], {"session__public_id": public_id}, resource_id)
    if part in {"pain-before", "weight"}:
        return _find([check_in_chart], {"session__public_id": public_id}, resource_id)
    if part == "pain-after":
        return _find([discharge], {"session__public_id": public_id}, resource_id)
    if part.startswith("v"):
        return _find([vitals], {"record__session__public_id": public_id}, resource_id)
    return None


def questionnaire_response(resource_id: str) -> Entry | None:
    split = _split(resource_id)
    if split is None:
        return None
    public_id, part = split
    intake, milestone = RESPONSE_SOURCES
    if part.startswith(_MILESTONE_PARTS):
        return _find([milestone], {"series__public_id": public_id}, resource_id)
    return _find([intake], {"public_id": public_id}, resource_id)


# --- Patient/<id>/$everything ---------------------------------------------------------------------


def everything(public_id: uuid.UUID, may_read: Callable[[str], bool]) -> Page | None:
    """The patient and every resource about them the client may read, with the places their
    appointments name and the questionnaires their responses answer (search mode "include")."""
    found = patient(public_id)
    if found is None:
        return None
    search = Search(patient=public_id)
    entries = [found]
    if may_read("QuestionnaireResponse"):
        entries += list(_merged(RESPONSE_SOURCES, search, None))
    if may_read("Observation"):
        entries += list(_merged(OBSERVATION_SOURCES, search, None))
    sessions: list[Session] = []
    if may_read("Appointment"):
        sessions = list(
            _sessions().filter(patient__public_id=public_id).order_by("starts_at", "pk")
        )
        entries += _appointment_entries(sessions)
        visits = list(_visits().filter(patient__public_id=public_id).order_by("starts_at", "pk"))
        entries += _visit_entries(visits)
    total = len(entries)
    if may_read("Location") and sessions:
        sites = {session.location_id: session.location for session in sessions}
        chairs = {session.chair_id: session.chair for session in sessions}
        entries += _place_entries(list(sites.values()), list(chairs.values()), "include")
    if may_read("Questionnaire"):
        answered = {
            entry.resource["questionnaire"].split("|")[0].rsplit("/", 1)[-1]
            for entry in entries
            if entry.resource["resourceType"] == "QuestionnaireResponse"
        }
        entries += [
            Entry(q.questionnaire(instrument_id), None, "include")
            for instrument_id in q.INSTRUMENTS
            if instrument_id in answered
        ]
    return Page(entries, total)
