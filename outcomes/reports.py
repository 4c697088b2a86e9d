"""Outcome figures: one patient's progress, and a location's week (docs/product-rules.md#outcomes).

Every figure comes from a fixed number of aggregate queries, whatever the number of sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    Sum,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext, gettext_noop

from charting.models import InfusionRecord
from intake import scoring
from locations.models import Location, NurseShift
from outcomes.models import CheckIn, QuestionnaireResponse
from scheduling.models import (
    ACTIVE_STATUSES,
    UNDER_WAY_STATUSES,
    UPCOMING_STATUSES,
    Session,
    Status,
    Visit,
    VisitStatus,
)

ACTIVE = [s.value for s in ACTIVE_STATUSES]


# --- One patient -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """The response to treatment (docs/product-rules.md#pain-change-and-response) as far as it can
    be judged yet.

    The baseline is the intake's 7-day average pain; the current pain is the latest pain the
    patient reported after the first infusion: before a later infusion, or at the 24 h follow-up
    check-in. A session's own after-pain is relief during the session, not a response. Nothing
    is called a response before the location's number of completed infusions.
    """

    baseline: int | None
    completed: int
    needed: int
    latest_pain: int | None = None
    latest_at: dt.datetime | None = None
    latest_source: str = ""
    response: scoring.PainResponse | None = None

    @property
    def too_early(self) -> bool:
        return self.completed < self.needed

    @property
    def is_responder(self) -> bool:
        return self.response is not None and self.response.is_responder


def judge(
    baseline: int | None,
    reports: list[tuple[dt.datetime, int, str]],
    completed: int,
    needed: int,
) -> Judgement:
    """Judge from the baseline and the later reports (when, pain, where it was reported)."""
    if baseline is None or completed < needed or not reports:
        return Judgement(baseline, completed, needed)
    at, pain, source = max(reports, key=lambda report: report[0])
    return Judgement(
        baseline, completed, needed, pain, at, source, scoring.pain_response(baseline, pain)
    )


def intake_baseline(intake: Any) -> int | None:
    """The intake's average pain over the last 7 days: the response's baseline.

    docs/product-rules.md#pain-change-and-response
    """
    value = (intake.scores or {}).get("pain", {}).get("pain_average") if intake else None
    return int(value) if value is not None else None


@dataclass
class PatientOutcomes:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    baseline_pain: int | None = None
    judgement: Judgement | None = None


def _in_words(day: dt.date) -> str:
    """A date as the patient reads it, in the active language ("25 January 2027", "25 de enero
    de 2027"), on the page and in its charts' labels."""
    return format_date(day, gettext("j F Y"))


def patient_outcomes(patient: Any) -> PatientOutcomes:
    """Pain before and after each infusion, questionnaire scores over time, the response."""
    result = PatientOutcomes()
    records = list(
        InfusionRecord.objects.filter(session__patient=patient)
        .select_related("session__series__plan__intake", "session__location")
        .order_by("checked_in_at")
    )
    for record in records:
        if record.discharged_at is None:
            continue
        after = record.pain_after
        result.sessions.append(
            {
                "date": _in_words(record.session.local_start().date()),
                "number": record.session.number,
                "before": record.pain_before,
                "after": after,
                "relief": record.pain_before - after if after is not None else None,
            }
        )
    for intake in patient.intakes.exclude(status="draft").order_by("submitted_at"):
        if intake.scores:
            result.scores.append(
                {
                    "date": _in_words(intake.submitted_at.date()),
                    "label": gettext("Intake v%(version)s") % {"version": intake.version},
                    "phq9": intake.scores["phq9"]["total"],
                    "gad7": intake.scores["gad7"]["total"],
                    "peg": float(intake.scores["peg"]),
                }
            )
    for response in QuestionnaireResponse.objects.filter(patient=patient).order_by("submitted_at"):
        result.scores.append(
            {
                "date": _in_words(response.submitted_at.date()),
                # The milestones' names are marked in MILESTONE_WORDS.
                "label": gettext(response.get_milestone_display()),
                "phq9": response.phq9_total,
                "gad7": None,
                "peg": float(response.peg),
            }
        )
    if records:
        first, latest = records[0], records[-1]
        intake = first.session.series.plan.intake
        needed = latest.session.location.response_after_sessions
    else:
        plan = patient.treatment_plans.select_related("intake").first()
        intake = plan.intake if plan else None
        needed = 2
    result.baseline_pain = intake_baseline(intake)
    reports = [
        (record.checked_in_at, record.pain_before, f"before infusion {record.session.number}")
        for record in records[1:]
    ]
    reports += [
        (
            check_in.submitted_at,
            check_in.pain,
            f"follow-up after infusion {check_in.session.number}",
        )
        for check_in in CheckIn.objects.filter(session__patient=patient).select_related("session")
    ]
    completed = sum(1 for record in records if record.discharged_at is not None)
    result.judgement = judge(result.baseline_pain, reports, completed, needed)
    return result


# --- A location's week -------------------------------------------------------------------------


@dataclass
class Dashboard:
    location: Location
    week_start: dt.date
    sessions: int
    chair_capacity_minutes: int
    chair_booked_minutes: int
    chair_actual_minutes: int
    nurse_capacity_minutes: int
    scheduled: int
    no_shows: int
    late_cancellations: int
    dropouts: dict[int, int]
    responders: int
    moderate_responders: int
    patients_with_outcome: int
    trend: list[WeekPoint] = field(default_factory=list)
    built_at: dt.datetime = field(default_factory=timezone.now)
    # Visits with a clinician in the week (docs/visits.md#the-dashboard): scheduled (not
    # cancelled) and missed.
    visits_scheduled: int = 0
    visit_no_shows: int = 0

    @staticmethod
    def _share(part: float, whole: float) -> float | None:
        return round(part / whole, 3) if whole else None

    @property
    def chair_utilisation_booked(self) -> float | None:
        return self._share(self.chair_booked_minutes, self.chair_capacity_minutes)

    @property
    def chair_utilisation_actual(self) -> float | None:
        return self._share(self.chair_actual_minutes, self.chair_capacity_minutes)

    @property
    def nurse_utilisation_booked(self) -> float | None:
        return self._share(self.chair_booked_minutes, self.nurse_capacity_minutes)

    @property
    def nurse_utilisation_actual(self) -> float | None:
        return self._share(self.chair_actual_minutes, self.nurse_capacity_minutes)

    @property
    def no_show_rate(self) -> float | None:
        return self._share(self.no_shows, self.scheduled)

    @property
    def visit_no_show_rate(self) -> float | None:
        return self._share(self.visit_no_shows, self.visits_scheduled)

    @property
    def late_cancel_rate(self) -> float | None:
        return self._share(self.late_cancellations, self.scheduled)

    @property
    def responder_rate(self) -> float | None:
        return self._share(self.responders, self.patients_with_outcome)

    @property
    def moderate_rate(self) -> float | None:
        return self._share(self.moderate_responders, self.patients_with_outcome)

    def rows(self) -> list[tuple[str, object]]:
        return [
            ("location", self.location.name),
            ("week_start", self.week_start.isoformat()),
            ("sessions", self.sessions),
            ("chair_capacity_minutes", self.chair_capacity_minutes),
            ("chair_booked_minutes", self.chair_booked_minutes),
            ("chair_actual_minutes", self.chair_actual_minutes),
            ("chair_utilisation_booked", self.chair_utilisation_booked),
            ("chair_utilisation_actual", self.chair_utilisation_actual),
            ("nurse_capacity_minutes", self.nurse_capacity_minutes),
            ("nurse_utilisation_booked", self.nurse_utilisation_booked),
            ("nurse_utilisation_actual", self.nurse_utilisation_actual),
            ("scheduled", self.scheduled),
            ("no_shows", self.no_shows),
            ("no_show_rate", self.no_show_rate),
            ("visits_scheduled", self.visits_scheduled),
            ("visit_no_shows", self.visit_no_shows),
            ("visit_no_show_rate", self.visit_no_show_rate),
            ("late_cancellations", self.late_cancellations),
            ("late_cancel_rate", self.late_cancel_rate),
            ("patients_with_outcome", self.patients_with_outcome),
            ("responders_50", self.responders),
            ("responder_rate", self.responder_rate),
            ("moderate_responders_30", self.moderate_responders),
            ("moderate_rate", self.moderate_rate),
            *[(f"dropouts_after_session_{n}", count) for n, count in sorted(self.dropouts.items())],
        ]


def _minutes(value: dt.timedelta | None) -> int:
    return int(value.total_seconds() // 60) if value else 0


def week_bounds(location: Location, week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start, _ = location.day_bounds(week_start)
    _, end = location.day_bounds(week_start + dt.timedelta(days=6))
    return start, end


TREND_WEEKS = 12


@dataclass(frozen=True)
class WeekPoint:
    """One week of the trend: chair utilisation, no-show rate and response rate."""

    week_start: dt.date
    chair_utilisation_booked: float | None
    chair_utilisation_actual: float | None
    no_show_rate: float | None
    responder_rate: float | None


def dashboard(location: Location, week_start: dt.date) -> Dashboard:
    """The week's figures at a location and the 12 weeks up to it; a fixed number of queries
    whatever the number of sessions.

    - chair utilisation: booked (or actual, check-in to discharge) chair minutes over chairs ×
      opening minutes (closures excluded);
    - nurse utilisation: the same minutes over nurse shift minutes × k (patients per nurse);
    - no-show and late-cancel rates: over the sessions scheduled in the week (early cancellations
      excluded: they free the slot for someone else);
    - drop-out by session number: series at the location that ended with fewer sessions than
      planned, by the number completed (all series, not only this week's);
    - responder rate at the end of the week: of the patients with the location's number of
      completed infusions there and a pain reported after their first (before a later infusion
      or at a follow-up), those whose latest such pain is at least 50 % (30 % for moderate)
      below the intake's 7-day average (docs/product-rules.md#pain-change-and-response).
    """
    first_week = week_start - dt.timedelta(weeks=TREND_WEEKS - 1)
    range_start, _ = week_bounds(location, first_week)
    start, end = week_bounds(location, week_start)
    weeks = [first_week + dt.timedelta(weeks=n) for n in range(TREND_WEEKS)]
    # The opening hours of the 12 weeks, closures left out (the one named rule for them).
    openings = location.openings(first_week, week_start + dt.timedelta(days=6))
    chairs = location.chairs.filter(is_active=True).count()
    capacity = dict.fromkeys(weeks, 0)
    for day, opening in openings.items():
        capacity[weeks[(day - first_week).days // 7]] += chairs * _minutes(opening.duration)
    # Each row's week by its start against the weeks' first instants, found in Python in the
    # location's zone (so across a change of clock too): cheaper than truncating every start.
    week_starts = [week_bounds(location, week)[0] for week in weeks]
    by_week: dict[dt.date, dict[str, Any]] = {}
    for group in (
        Session.objects.filter(location=location, starts_at__gte=range_start, starts_at__lt=end)
        .annotate(week=_week_number("starts_at", week_starts))
        # Counted and summed per week and status, the figures added up from those below: five
        # filtered aggregates over every row took twice as long. Rows are counted by their
        # start (never null), not their key: the start, status and end are all in
        # session_location_start, so the 12 weeks are read from the index alone.
        .values("week", "status")
        .annotate(count=Count("starts_at"), booked=Sum(_duration("ends_at", "starts_at")))
        .order_by()
    ):
        tally = by_week.setdefault(
            weeks[group["week"] - 1],
            {"active": 0, "booked": dt.timedelta(), "scheduled": 0, "no_shows": 0, "late": 0},
        )
        status, count = group["status"], group["count"]
        if status in ACTIVE:
            tally["active"] += count
            tally["booked"] += group["booked"]
        if status != Status.CANCELLED:
            tally["scheduled"] += count
        if status == Status.NO_SHOW:
            tally["no_shows"] += count
        if status == Status.LATE_CANCELLED:
            tally["late"] += count
    actual_by_week = {
        weeks[row["week"] - 1]: _minutes(row["seconds"])
        for row in InfusionRecord.objects.filter(
            session__location=location,
            session__starts_at__gte=range_start,
            session__starts_at__lt=end,
            discharged_at__isnull=False,
        )
        .annotate(week=_week_number("session__starts_at", week_starts))
        .values("week")
        .annotate(seconds=Sum(_duration("discharged_at", "checked_in_at")))
        .order_by()
    }
    shift_minutes = NurseShift.objects.filter(
        location=location, starts_at__lt=end, ends_at__gt=start
    ).aggregate(total=Sum(_duration("ends_at", "starts_at")))
    dropouts = _dropouts(location)
    visit_counts = (
        Visit.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=VisitStatus.CANCELLED)
        .aggregate(
            scheduled=Count("pk"), no_shows=Count("pk", filter=Q(status=VisitStatus.NO_SHOW))
        )
    )
    responses = _response_trend(location, weeks)
    share = Dashboard._share
    trend = []
    for week in weeks:
        row: dict[str, Any] = by_week.get(week, {})
        responders, _moderate, judged = responses[week]
        trend.append(
            WeekPoint(
                week_start=week,
                chair_utilisation_booked=share(_minutes(row.get("booked")), capacity[week]),
                chair_utilisation_actual=share(actual_by_week.get(week, 0), capacity[week]),
                no_show_rate=share(row.get("no_shows", 0), row.get("scheduled", 0)),
                responder_rate=share(responders, judged),
            )
        )
    totals: dict[str, Any] = by_week.get(week_start, {})
    responders, moderate, judged = responses[week_start]
    return Dashboard(
        location=location,
        week_start=week_start,
        sessions=totals.get("active", 0),
        chair_capacity_minutes=capacity[week_start],
        chair_booked_minutes=_minutes(totals.get("booked")),
        chair_actual_minutes=actual_by_week.get(week_start, 0),
        nurse_capacity_minutes=_minutes(shift_minutes["total"]) * location.nurse_monitor_capacity,
        scheduled=totals.get("scheduled", 0),
        no_shows=totals.get("no_shows", 0),
        late_cancellations=totals.get("late", 0),
        dropouts=dropouts,
        responders=responders,
        moderate_responders=moderate,
        patients_with_outcome=judged,
        trend=trend,
        visits_scheduled=visit_counts["scheduled"],
        visit_no_shows=visit_counts["no_shows"],
    )


def _week_number(field: str, week_starts: list[dt.datetime]) -> Func:
    """The week (1 for the first) an instant in range falls in, given the weeks' first instants
    in order: PostgreSQL's width_bucket, a search of a 12-element array."""
    return Func(F(field), Value(week_starts), function="width_bucket", output_field=IntegerField())


def _duration(end: str, start: str) -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _dropouts(location: Location) -> dict[int, int]:
    """Series that ended (nothing left to come) with fewer sessions than planned, by the number
    completed.

    Every series at the location counts, so the work grows with its history: the series with a
    session still to come or under way, and each series' completed sessions, are read from two
    partial indexes of the location's sessions (session_open_by_series, with the statuses in
    the index, and session_completed_by_series), and the plans joined as the planner sees fit
    (read whole, they cost less than a probe per ended series at the benchmark's network). A
    series' sessions are all at its location (the foreign key session_at_its_series_location).
    Counting each series' sessions with one index probe per series took twice as long (12 ms
    against 5.5 at the benchmark's 6,700 series of 66,000 sessions).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(done.completed, 0), count(*)
              FROM scheduling_series s
              JOIN review_treatmentplan p ON p.id = s.plan_id
              LEFT JOIN (
                   SELECT series_id, count(*) AS completed
                     FROM scheduling_session
                    WHERE location_id = %(location)s AND status = %(completed)s
                    GROUP BY series_id
              ) done ON done.series_id = s.id
             WHERE s.location_id = %(location)s
               AND s.id NOT IN (
                   SELECT series_id
                     FROM scheduling_session
                    WHERE location_id = %(location)s AND status = ANY(%(open)s)
               )
               AND coalesce(done.completed, 0) < p.infusions
             GROUP BY 1 ORDER BY 1
            """,
            {
                "location": location.pk,
                "completed": str(Status.COMPLETED),
                # A series has ended when none of its sessions is still to come or under way.
                "open": [str(status) for status in (*UPCOMING_STATUSES, *UNDER_WAY_STATUSES)],
            },
        )
        return dict(cursor.fetchall())


RESPONSE_TREND_SQL = """
WITH charted AS (
    SELECT s.patient_id, r.checked_in_at, r.discharged_at, r.pain_before,
           row_number() OVER (PARTITION BY s.patient_id ORDER BY r.checked_in_at) AS n
      FROM charting_infusionrecord r
      JOIN scheduling_session s ON s.id = r.session_id
     WHERE s.location_id = %(location)s
), eligible AS (
    SELECT patient_id, discharged_at AS eligible_from FROM (
        SELECT patient_id, discharged_at,
               row_number() OVER (PARTITION BY patient_id ORDER BY discharged_at) AS k
          FROM charted WHERE discharged_at IS NOT NULL
    ) done WHERE k = %(needed)s
), reports AS (
    SELECT patient_id, checked_in_at AS at, pain_before AS pain FROM charted WHERE n > 1
    UNION ALL
    SELECT s.patient_id, c.submitted_at, c.pain
      FROM outcomes_checkin c JOIN scheduling_session s ON s.id = c.session_id
     WHERE s.location_id = %(location)s
), spans AS (
    SELECT patient_id, at, pain, lead(at) OVER (PARTITION BY patient_id ORDER BY at) AS until
      FROM reports
), baselines AS (
    SELECT DISTINCT ON (x.patient_id) x.patient_id,
           (i.scores -> 'pain' ->> 'pain_average')::int AS baseline
      FROM scheduling_series x
      JOIN review_treatmentplan p ON p.id = x.plan_id
      JOIN intake_intake i ON i.id = p.intake_id
     WHERE x.location_id = %(location)s AND i.scores -> 'pain' ->> 'pain_average' IS NOT NULL
     ORDER BY x.patient_id, x.created_at
)
SELECT {columns}
  FROM unnest(%(ends)s::timestamptz[]) AS w(week_end)
  JOIN spans sp ON sp.at < w.week_end AND (sp.until IS NULL OR sp.until >= w.week_end)
  JOIN eligible e ON e.patient_id = sp.patient_id AND e.eligible_from < w.week_end
  JOIN baselines b ON b.patient_id = sp.patient_id
 {group}
"""


def _response_trend(
    location: Location, weeks: list[dt.date]
) -> dict[dt.date, tuple[int, int, int]]:
    """(≥50 %, ≥30 %, patients judged) at the end of each week, by `judge`'s rule: one query,
    grouped by (week, baseline, latest pain), so its rows are bounded by 12 × 11 × 11."""
    ends = {week_bounds(location, week)[1]: week for week in weeks}
    with connection.cursor() as cursor:
        cursor.execute(
            RESPONSE_TREND_SQL.format(
                columns="w.week_end, b.baseline, sp.pain, count(*)", group="GROUP BY 1, 2, 3"
            ),
            {
                "location": location.pk,
                "needed": max(1, location.response_after_sessions),
                "ends": list(ends),
            },
        )
        rows = cursor.fetchall()
    result = {week: (0, 0, 0) for week in weeks}
    for week_end, baseline, pain, count in rows:
        week = ends[week_end]
        responders, moderate, judged = result[week]
        response = scoring.pain_response(baseline, pain)
        result[week] = (
            responders + (count if response.is_responder else 0),
            moderate + (count if response.category != scoring.PainResponseCategory.NONE else 0),
            judged + count,
        )
    return result


def judged_patients(location: Location, week_start: dt.date) -> list[tuple[int, int, int]]:
    """(patient id, baseline, latest later pain) of the patients judged at the week's end: the
    people behind the responder rate, for the clinicians' drill-down."""
    week_end = week_bounds(location, week_start)[1]
    with connection.cursor() as cursor:
        cursor.execute(
            RESPONSE_TREND_SQL.format(columns="sp.patient_id, b.baseline, sp.pain", group=""),
            {
                "location": location.pk,
                "needed": max(1, location.response_after_sessions),
                "ends": [week_end],
            },
        )
        return [(int(p), int(b), int(pain)) for p, b, pain in cursor.fetchall()]


# The names of the milestones (outcomes.models.Milestone), for the catalogue: the patient's
# progress page shows them in the patient's language.
MILESTONE_WORDS = (
    gettext_noop("Before the series"),
    gettext_noop("Middle of the series"),
    gettext_noop("End of the series"),
)
