from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.access import role_required
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from charting import services
from charting.forms import CheckInForm, DischargeForm, InfusionVitalsForm, SideEffectsForm, StopForm
from charting.models import InfusionRecord
from scheduling.models import Session

nurse_only = role_required(Role.NURSE)


@nurse_only
def day(request: AuthenticatedRequest) -> HttpResponse:
    """Today's sessions at the nurse's locations, each in its own local day."""
    locations = list(request.user.locations.all())
    window = Q(pk__in=[])
    for location in locations:
        start, end = location.day_bounds(location.local_today())
        window |= Q(location=location, starts_at__gte=start, starts_at__lt=end)
    sessions = (
        Session.objects.active()
        .filter(window)
        .select_related("patient", "chair", "location", "nurse", "record")
        .order_by("location__name", "starts_at")
    )
    return render(request, "charting/day.html", {"sessions": sessions, "locations": locations})


def _session_for_nurse(request: AuthenticatedRequest, public_id: UUID) -> Session:
    """Nurses reach the sessions of their own locations only."""
    session = get_object_or_404(
        Session.objects.select_related("location", "patient", "series__plan__intake", "chair"),
        public_id=public_id,
    )
    if not request.user.locations.filter(pk=session.location_id).exists():
        raise Http404
    return session


def _ask_pregnancy(session: Session) -> bool:
    about = session.series.plan.intake.answers.filter(step="about").values_list("data", flat=True)
    sex = (about.first() or {}).get("sex_at_birth")
    return sex != "male"


def _checkin_form(session: Session, data: Any = None) -> CheckInForm:
    location = session.location
    return CheckInForm(
        data,
        start=session.local_start(),
        solid_hours=location.fasting_solid_hours,
        clear_hours=location.fasting_clear_hours,
        ask_pregnancy=_ask_pregnancy(session),
        initial={"escort_name": "", "pain_before": None},
    )


@nurse_only
def chart(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = _session_for_nurse(request, public_id)
    record = InfusionRecord.objects.filter(session=session).first()
    audit.record(
        request,
        "update" if request.method == "POST" else "read",
        "infusion",
        session.public_id,
        session.patient_id,
    )
    forms: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            handled = _act(request, session, record, action, forms)
        except services.ChartingError as error:
            messages.error(request, str(error))
            handled = None
        if handled is not None:
            return handled
        record = InfusionRecord.objects.filter(session=session).first()
    return render(request, "charting/chart.html", _context(session, record, forms))


def _act(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    action: str | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    nurse = request.user
    back = redirect("charting:chart", public_id=session.public_id)
    if action == "check_in" and record is None:
        form = _checkin_form(session, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.check_in(
                session,
                nurse,
                escort_name=data["escort_name"],
                escort_phone=data["escort_phone"],
                weight_kg=data["weight_kg"],
                pain_before=data["pain_before"],
                pregnancy_possible=data.get("pregnancy_possible"),
                vitals=form.vitals(),
            )
            messages.success(request, "Checked in. Check the dose, then start the infusion.")
            return back
        forms["checkin_form"] = form
        return None
    if record is None:
        raise services.ChartingError("Check the patient in first.")
    if action == "start":
        services.confirm_dose_and_start(record)
        messages.success(request, f"Dose of {record.dose_mg} mg confirmed; the infusion started.")
        return back
    if action == "vitals":
        vitals = InfusionVitalsForm(request.POST)
        if vitals.is_valid():
            reading = services.record_vitals(
                record, nurse, vitals.vitals(), vitals.cleaned_data["phase"]
            )
            if reading.alerts:
                messages.error(request, "Alert: " + "; ".join(reading.alerts) + ".")
            else:
                messages.success(request, "Vitals recorded.")
            return back
        forms["vitals_form"] = vitals
        return None
    if action == "side_effects":
        side_effects = SideEffectsForm(request.POST)
        if side_effects.is_valid():
            InfusionRecord.objects.filter(pk=record.pk).update(**side_effects.cleaned_data)
            messages.success(request, "Side effects and interventions saved.")
            return back
        forms["side_effects_form"] = side_effects
        return None
    if action == "end":
        stop = StopForm(request.POST)
        if stop.is_valid():
            services.end_infusion(
                record, stopped_early_reason=stop.cleaned_data["stopped_early_reason"]
            )
            messages.success(request, "Infusion ended; recovery has started.")
            return back
        forms["stop_form"] = stop
        return None
    if action == "discharge":
        discharge = DischargeForm(request.POST)
        if discharge.is_valid():
            services.discharge(record, discharge.checklist(), discharge.cleaned_data["pain_after"])
            messages.success(request, "Discharged. The follow-up check-in is planned.")
            return back
        forms["discharge_form"] = discharge
        return None
    raise services.ChartingError("That step does not apply now.")


def _context(
    session: Session, record: InfusionRecord | None, forms: dict[str, Any]
) -> dict[str, Any]:
    plan = session.series.plan
    context: dict[str, Any] = {"session": session, "record": record, "plan": plan, **forms}
    if record is None:
        context.setdefault("checkin_form", _checkin_form(session))
        return context
    vitals = list(record.vitals.all())
    location = session.location
    last = vitals[-1].taken_at if vitals else record.checked_in_at
    due = last + dt.timedelta(minutes=location.vitals_every_minutes)
    context.update(
        vitals=vitals,
        dose=services.dose(record.weight_kg, plan),
        next_vitals_due=due,
        vitals_overdue=record.infusion_started_at is not None
        and record.discharged_at is None
        and timezone.now() >= due,
        alerts=[alert for reading in vitals for alert in reading.alerts],
    )
    context.setdefault(
        "vitals_form",
        InfusionVitalsForm(
            initial={"phase": "recovery" if record.infusion_ended_at else "infusion"}
        ),
    )
    context.setdefault(
        "side_effects_form",
        SideEffectsForm(
            initial={"side_effects": record.side_effects, "interventions": record.interventions}
        ),
    )
    context.setdefault("stop_form", StopForm())
    context.setdefault("discharge_form", DischargeForm())
    return context
