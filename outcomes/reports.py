"""Outcome figures: one patient's progress, and a location's week (PRODUCT.md 3.3 and 6).

Every figure comes from a fixed number of aggregate queries, whatever the number of sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.expressions import CombinedExpression
from django.utils import timezone

from charting.models import InfusionRecord
from intake import scoring
from locations.models import Location, NurseShift
from outcomes.models import QuestionnaireResponse
from scheduling.models import ACTIVE, UNDER_WAY_STATUSES, UPCOMING_STATUSES, Session, Status

# --- One patient -------------------------------------------------------------------------------


@dataclass
class PatientOutcomes:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    baseline_pain: int | None = None
    latest_pain: int | None = None
    response: scoring.PainResponse | None = None


def patient_outcomes(patient: Any) -> PatientOutcomes:
    """Pain before and after each infusion, questionnaire scores over time, responder status.

    Baseline pain is the pain before the first infusion; the response compares the latest
    pain after an infusion with it (PRODUCT.md 3.3: 30 % moderate, 50 % substantial).
    """
    result = PatientOutcomes()
    records = (
        InfusionRecord.objects.filter(session__patient=patient, discharged_at__isnull=False)
        .select_related("session")
        .order_by("session__starts_at")
    )
    for record in records:
        result.sessions.append(
            {
                "date": record.session.local_start().date().isoformat(),
                "number": record.session.number,
                "before": record.pain_before,
                "after": record.pain_after,
            }
        )
    for intake in patient.intakes.exclude(status="draft").order_by("submitted_at"):
        if intake.scores:
            result.scores.append(
                {
                    "date": intake.submitted_at.date().isoformat(),
                    "label": f"Intake v{intake.version}",
                    "phq9": intake.scores["phq9"]["total"],
                    "gad7": intake.scores["gad7"]["total"],
                    "peg": float(intake.scores["peg"]),
                }
            )
    for response in QuestionnaireResponse.objects.filter(patient=patient).order_by("submitted_at"):
        result.scores.append(
            {
                "date": response.submitted_at.date().isoformat(),
                "label": response.get_milestone_display(),
                "phq9": response.phq9_total,
                "gad7": None,
                "peg": float(response.peg),
            }
        )
    if result.sessions:
        result.baseline_pain = result.sessions[0]["before"]
        result.latest_pain = result.sessions[-1]["after"]
        result.response = scoring.pain_response(result.baseline_pain, result.latest_pain)
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
    built_at: dt.datetime = field(default_factory=timezone.now)

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


def dashboard(location: Location, week_start: dt.date) -> Dashboard:
    """The week's figures at a location; 8 queries whatever the number of sessions.

    - chair utilisation: booked (or actual, check-in to discharge) chair minutes over chairs ×
      opening minutes (closures excluded);
    - nurse utilisation: the same minutes over nurse shift minutes × k (patients per nurse);
    - no-show and late-cancel rates: over the sessions scheduled in the week (early cancellations
      excluded: they free the slot for someone else);
    - drop-out by session number: series at the location that ended with fewer sessions than
      planned, by the number completed (all series, not only this week's);
    - responder rate: patients with at least one charted infusion at the location whose latest
      pain after an infusion is at least 50 % (30 % for moderate) below the first pain before.
    """
    start, end = week_bounds(location, week_start)
    openings = location.openings(week_start, week_start + dt.timedelta(days=6))
    chairs = location.chairs.filter(is_active=True).count()
    open_minutes = sum(_minutes(opening.duration) for opening in openings.values())
    week = Session.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
    totals = week.aggregate(
        active=Count("pk", filter=ACTIVE),
        booked=Sum(_duration("ends_at", "starts_at"), filter=ACTIVE),
        scheduled=Count("pk", filter=~Q(status=Status.CANCELLED)),
        no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
        late=Count("pk", filter=Q(status=Status.LATE_CANCELLED)),
    )
    actual = InfusionRecord.objects.filter(
        session__location=location,
        session__starts_at__gte=start,
        session__starts_at__lt=end,
        discharged_at__isnull=False,
    ).aggregate(seconds=Sum(_duration("discharged_at", "checked_in_at")))
    shift_minutes = NurseShift.objects.filter(
        location=location, starts_at__lt=end, ends_at__gt=start
    ).aggregate(total=Sum(_duration("ends_at", "starts_at")))
    dropouts = _dropouts(location)
    responders, moderate, patients = _responders(location)
    return Dashboard(
        location=location,
        week_start=week_start,
        sessions=totals["active"],
        chair_capacity_minutes=chairs * open_minutes,
        chair_booked_minutes=_minutes(totals["booked"]),
        chair_actual_minutes=_minutes(actual["seconds"]),
        nurse_capacity_minutes=_minutes(shift_minutes["total"]) * location.nurse_monitor_capacity,
        scheduled=totals["scheduled"],
        no_shows=totals["no_shows"],
        late_cancellations=totals["late"],
        dropouts=dropouts,
        responders=responders,
        moderate_responders=moderate,
        patients_with_outcome=patients,
    )


def _duration(end: str, start: str) -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _dropouts(location: Location) -> dict[int, int]:
    """Series that ended (nothing left to come) with fewer sessions than planned, by the number
    completed."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT completed, count(*) FROM (
                SELECT s.id, p.infusions,
                       count(x.id) FILTER (WHERE x.status = 'completed') AS completed,
                       count(x.id) FILTER (WHERE x.status = ANY(%s)) AS upcoming
                  FROM scheduling_series s
                  JOIN review_treatmentplan p ON p.id = s.plan_id
                  LEFT JOIN scheduling_session x ON x.series_id = s.id
                 WHERE s.location_id = %s
                 GROUP BY s.id, p.infusions
            ) per_series
            WHERE upcoming = 0 AND completed < infusions
            GROUP BY completed ORDER BY completed
            """,
            # A series has ended when none of its sessions is still to come or under way.
            [[str(status) for status in (*UPCOMING_STATUSES, *UNDER_WAY_STATUSES)], location.pk],
        )
        return dict(cursor.fetchall())


def _responders(location: Location) -> tuple[int, int, int]:
    """(≥50 %, ≥30 %, patients) from each patient's first pain before and latest pain after."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH charted AS (
                SELECT s.patient_id, r.pain_before, r.pain_after, s.starts_at
                  FROM charting_infusionrecord r
                  JOIN scheduling_session s ON s.id = r.session_id
                 WHERE s.location_id = %s AND r.discharged_at IS NOT NULL
            ), firsts AS (
                SELECT DISTINCT ON (patient_id) patient_id, pain_before
                  FROM charted ORDER BY patient_id, starts_at
            ), lasts AS (
                SELECT DISTINCT ON (patient_id) patient_id, pain_after
                  FROM charted ORDER BY patient_id, starts_at DESC
            )
            SELECT f.pain_before, l.pain_after FROM firsts f JOIN lasts l USING (patient_id)
            """,
            [location.pk],
        )
        pairs = cursor.fetchall()
    responders = moderate = 0
    for before, after in pairs:
        response = scoring.pain_response(Decimal(before), Decimal(after))
        if response.category == scoring.PainResponseCategory.SUBSTANTIAL:
            responders += 1
        if response.category != scoring.PainResponseCategory.NONE:
            moderate += 1
    return responders, moderate, len(pairs)
