"""The short forms behind the follow-up and questionnaire links (no login: signed tokens)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any
from uuid import UUID

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from accounts.access import role_required
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from clinic.querystrings import query_form, read_query
from intake import scoring
from locations.models import Location
from outcomes import reports
from outcomes.forms import CheckInForm, QuestionnaireForm, WeekQuery
from outcomes.models import CheckIn, Milestone, QuestionnaireResponse
from scheduling import reminders
from scheduling.models import Series, Session


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/link_invalid.html", status=404)


def check_in(request: HttpRequest, token: str) -> HttpResponse:
    try:
        public_id = reminders.unsign(reminders.CHECKIN_SALT, token)
    except signing.BadSignature:
        return _invalid(request)
    session = get_object_or_404(Session, public_id=public_id)
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
    return render(request, "outcomes/form.html", {"form": form, "title": "How are you feeling?"})


def questionnaire(request: HttpRequest, token: str) -> HttpResponse:
    try:
        value = reminders.unsign(reminders.QUESTIONNAIRE_SALT, token)
        series_id, milestone = value.rsplit(":", 1)
    except (signing.BadSignature, ValueError):
        return _invalid(request)
    if milestone not in Milestone.values:
        return _invalid(request)
    series = get_object_or_404(Series, public_id=series_id)
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
    return render(request, "outcomes/form.html", {"form": form, "title": "A short questionnaire"})


# --- Charts and the dashboard ----------------------------------------------------------------


def _outcome_context(patient: Any) -> dict[str, Any]:
    outcomes = reports.patient_outcomes(patient)
    baseline = outcomes.baseline_pain
    return {
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
    person = get_object_or_404(User, public_id=public_id, role=Role.PATIENT)
    if (
        request.user.role == Role.NURSE
        and not Session.objects.filter(
            patient=person,
            location__in=request.user.locations.all(),
        ).exists()
    ):
        raise Http404
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
    body = _dashboard_body(location, week)
    return render(request, "outcomes/dashboard.html", {"body": body})


def _dashboard_body(location: Location, week: dt.date) -> str:
    figures = _figures(location, week)
    chart = {
        "utilisation": [
            figures.chair_utilisation_booked,
            figures.chair_utilisation_actual,
            figures.nurse_utilisation_booked,
            figures.nurse_utilisation_actual,
        ],
        "dropouts": {str(k): v for k, v in sorted(figures.dropouts.items())},
        "responders": [
            figures.responders,
            figures.moderate_responders - figures.responders,
            figures.patients_with_outcome - figures.moderate_responders,
        ],
    }
    return render_to_string(
        "outcomes/_dashboard.html",
        {
            "figures": figures,
            "chart": chart,
            "locations": Location.objects.filter(is_active=True),
            "previous": (week - dt.timedelta(days=7)).isoformat(),
            "next": (week + dt.timedelta(days=7)).isoformat(),
        },
    )


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
