"""The short forms behind the follow-up and questionnaire links (no login: signed tokens)."""

from __future__ import annotations

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from audit import services as audit
from intake import scoring
from outcomes.forms import CheckInForm, QuestionnaireForm
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
