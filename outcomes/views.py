"""The short forms behind the follow-up and questionnaire links (no login: signed tokens)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any
from uuid import UUID

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext

from accounts.access import role_required
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from clinic.querystrings import query_form, read_query
from intake import scoring
from locations.models import Location
from messaging import reminders
from outcomes import reports
from outcomes.access import get_patient_outcomes_for
from outcomes.forms import CheckInForm, QuestionnaireForm, WeekQuery
from outcomes.models import CheckIn, Milestone, QuestionnaireResponse
from scheduling import links
from scheduling.models import Series, Session, Status


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/link_invalid.html", status=404)


def _in_patients_language(request: HttpRequest, patient: User) -> None:
    """The links of emails and texts open without signing in: the page is in the language the
    message was written in, the patient's."""
    translation.activate(links.patient_language(patient))
    request.LANGUAGE_CODE = translation.get_language()


def check_in(request: HttpRequest, token: str) -> HttpResponse:
    try:
        public_id = links.unsign(links.CHECKIN_SALT, token)
    except signing.BadSignature:
        return _invalid(request)
    session = get_object_or_404(
        Session.objects.select_related("patient__patient_profile"), public_id=public_id
    )
    _in_patients_language(request, session.patient)
    if session.status in reminders.ENDED:
        return render(request, "outcomes/not_open.html", {"cancelled": True}, status=410)
    if CheckIn.objects.filter(session=session).exists():
        return render(request, "outcomes/thanks.html", {"already": True})
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                CheckIn.objects.create(session=session, **form.cleaned_data)
                audit.record(request, "create", "check_in", session.public_id, session.patient_id)
        except IntegrityError:
            return render(request, "outcomes/thanks.html", {"already": True})
        return render(request, "outcomes/thanks.html", {"pain": form.cleaned_data["pain"]})
    return render(
        request, "outcomes/form.html", {"form": form, "title": gettext("How are you feeling?")}
    )


def questionnaire(request: HttpRequest, token: str) -> HttpResponse:
    try:
        value = links.unsign(links.QUESTIONNAIRE_SALT, token)
        series_id, milestone = value.rsplit(":", 1)
    except (signing.BadSignature, ValueError):
        return _invalid(request)
    if milestone not in Milestone.values:
        return _invalid(request)
    series = get_object_or_404(
        Series.objects.select_related("patient__patient_profile"), public_id=series_id
    )
    _in_patients_language(request, series.patient)
    if series.status == Series.SeriesStatus.CANCELLED:
        return render(request, "outcomes/not_open.html", {"cancelled": True}, status=410)
    if QuestionnaireResponse.objects.filter(series=series, milestone=milestone).exists():
        return render(request, "outcomes/thanks.html", {"already": True})
    form = QuestionnaireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        phq9 = scoring.phq9([data[f"phq9_{n}"] for n in range(1, 10)])
        peg = scoring.peg(data["peg_1"], data["peg_2"], data["peg_3"])
        try:
            with transaction.atomic():
                QuestionnaireResponse.objects.create(
                    patient_id=series.patient_id,
                    series=series,
                    milestone=milestone,
                    language=form.language,
                    answers=data,
                    phq9_total=phq9.total,
                    phq9_band=phq9.band.value,
                    peg=peg,
                )
                audit.record(
                    request, "create", "questionnaire", series.public_id, series.patient_id
                )
        except IntegrityError:
            return render(request, "outcomes/thanks.html", {"already": True})
        return render(request, "outcomes/thanks.html", {"self_harm": phq9.self_harm_flag})
    return render(
        request, "outcomes/form.html", {"form": form, "title": gettext("A short questionnaire")}
    )


# --- Charts and the dashboard ----------------------------------------------------------------


def _outcome_context(patient: Any) -> dict[str, Any]:
    outcomes = reports.patient_outcomes(patient)
    baseline = outcomes.baseline_pain
    return {
        "judgement": outcomes.judgement,
        "patient": patient,
        "outcomes": outcomes,
        "chart": {
            "sessions": outcomes.sessions,
            "scores": outcomes.scores,
            "baseline": baseline,
            "moderate": round(baseline * 0.7, 1) if baseline is not None else None,
            "substantial": round(baseline * 0.5, 1) if baseline is not None else None,
        },
    }


@role_required(Role.PATIENT)
def mine(request: AuthenticatedRequest) -> HttpResponse:
    audit.record(request, "read", "outcomes", request.user.public_id, request.user.pk)
    return render(request, "outcomes/patient.html", _outcome_context(request.user))


@role_required(Role.CLINICIAN, Role.NURSE)
def patient(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    person = get_patient_outcomes_for(request, public_id)
    audit.record(request, "read", "outcomes", person.public_id, person.pk)
    return render(request, "outcomes/patient.html", _outcome_context(person))


def _week(request: HttpRequest, location: Location) -> dt.date:
    day = read_query(request, WeekQuery)["week"] or location.local_today()
    return day - dt.timedelta(days=day.weekday())


def _figures(location: Location, week: dt.date) -> reports.Dashboard:
    return reports.dashboard(location, week)


@query_form(WeekQuery)
@role_required(Role.CLINIC_ADMIN, Role.CLINICIAN)
def dashboard(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    location = get_object_or_404(Location, slug=slug)
    week = _week(request, location)
    figures = _figures(location, week)
    trend = figures.trend
    chart = {
        "utilisation": [
            figures.chair_utilisation_booked,
            figures.chair_utilisation_actual,
            figures.nurse_utilisation_booked,
            figures.nurse_utilisation_actual,
        ],
        "dropouts": {str(k): v for k, v in sorted(figures.dropouts.items())},
        "trend": {
            "weeks": [point.week_start.isoformat() for point in trend],
            "utilisation": [point.chair_utilisation_booked for point in trend],
            "actual": [point.chair_utilisation_actual for point in trend],
            "no_show": [point.no_show_rate for point in trend],
            "response": [point.responder_rate for point in trend],
        },
    }
    return render(
        request,
        "outcomes/dashboard.html",
        {
            "figures": figures,
            "chart": chart,
            # Clinicians reach the sessions behind each figure; clinic admins see figures only.
            "drill": request.user.role == Role.CLINICIAN,
            "locations": Location.objects.filter(is_active=True),
            "previous": (week - dt.timedelta(days=7)).isoformat(),
            "next": (week + dt.timedelta(days=7)).isoformat(),
        },
    )


DRILL_FIGURES = {
    "sessions": ("Sessions", Q(status__in=reports.ACTIVE)),
    "scheduled": ("Scheduled sessions", ~Q(status=Status.CANCELLED)),
    "no-shows": ("No-shows", Q(status=Status.NO_SHOW)),
    "late-cancellations": ("Late cancellations", Q(status=Status.LATE_CANCELLED)),
    "charted": ("Charted and discharged", Q(record__discharged_at__isnull=False)),
}


@query_form(WeekQuery)
@role_required(Role.CLINICIAN)
def dashboard_sessions(request: AuthenticatedRequest, slug: str, figure: str) -> HttpResponse:
    """The sessions (or, for the response, the patients) behind one dashboard figure."""
    location = get_object_or_404(Location, slug=slug)
    week = _week(request, location)
    start, end = reports.week_bounds(location, week)
    context: dict[str, Any] = {"location": location, "week": week, "figure": figure}
    if figure == "responders":
        judged = reports.judged_patients(location, week)
        people = User.objects.in_bulk([patient_id for patient_id, _b, _p in judged])
        context["title"] = "Patients judged for the response"
        context["patients"] = [
            {
                "patient": people[patient_id],
                "baseline": baseline,
                "latest": pain,
                "response": scoring.pain_response(baseline, pain),
            }
            for patient_id, baseline, pain in judged
        ]
    elif figure in DRILL_FIGURES:
        title, condition = DRILL_FIGURES[figure]
        context["title"] = title
        context["sessions"] = (
            Session.objects.filter(condition, location=location)
            .filter(starts_at__gte=start, starts_at__lt=end)
            .select_related("patient", "chair", "location")
            .order_by("starts_at")
        )
    else:
        raise Http404
    audit.record(request, "read", "dashboard_sessions", f"{location.slug}:{figure}")
    return render(request, "outcomes/dashboard_sessions.html", context)


@query_form(WeekQuery)
@role_required(Role.CLINIC_ADMIN, Role.CLINICIAN)
def dashboard_csv(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    location = get_object_or_404(Location, slug=slug)
    figures = _figures(location, _week(request, location))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="dashboard-{location.slug}-{figures.week_start}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["figure", "value"])
    writer.writerows(figures.rows())
    return response
