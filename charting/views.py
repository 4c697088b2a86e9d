"""The nurse's day and the chart of one session: every step a small handler over a service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from django import forms as django_forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import role_required
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from charting import safety, services
from charting.access import get_charted_session_for
from charting.forms import (
    AddendumForm,
    CheckInForm,
    DischargeForm,
    InfusionVitalsForm,
    ObservationsForm,
    SignForm,
    StartForm,
    StopForm,
    WorkUpForm,
    weight_in_both,
)
from charting.models import InfusionRecord
from scheduling.models import Session

nurse_only = role_required(Role.NURSE)
chart_readers = role_required(Role.NURSE, Role.CLINICIAN)

# Any of the chart's forms: `_bound` hands back the one it was given, with its own methods.
F = TypeVar("F", bound=django_forms.Form)


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


def _record(session: Session) -> InfusionRecord | None:
    return (
        InfusionRecord.objects.filter(session=session)
        .select_related("signed_by", "cosigned_by", "nurse")
        .first()
    )


def _ask_pregnancy(session: Session) -> bool:
    about = session.series.plan.intake.answers.filter(step="about").values_list("data", flat=True)
    sex = (about.first() or {}).get("sex_at_birth")
    return sex != "male"


def _escort(session: Session) -> dict[str, str]:
    """The escort the patient named at intake, as the check-in form's starting values."""
    contacts = (
        session.series.plan.intake.answers.filter(step="contacts")
        .values_list("data", flat=True)
        .first()
        or {}
    )
    return {
        "escort_name": contacts.get("escort_name", ""),
        "escort_phone": contacts.get("escort_phone", ""),
    }


def _checkin_form(session: Session, data: Any = None) -> CheckInForm:
    location = session.location
    return CheckInForm(
        data,
        start=session.local_start(),
        solid_hours=location.fasting_solid_hours,
        clear_hours=location.fasting_clear_hours,
        ask_pregnancy=_ask_pregnancy(session),
        initial={**_escort(session), "pain_before": None, "weight_unit": "kg"},
    )


@chart_readers
def chart(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = get_charted_session_for(request, public_id)
    record = _record(session)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    audit.record(
        request,
        "update" if request.method == "POST" else "read",
        "infusion",
        session.public_id,
        session.patient_id,
        detail=action[:40],
    )
    forms: dict[str, Any] = {}
    if request.method == "POST":
        handler = ACTIONS.get(action)
        if handler is None or request.user.role not in handler.roles:
            messages.error(request, "That step does not apply now.")
            return redirect("charting:chart", public_id=session.public_id)
        try:
            done = handler.run(request, session, record, forms)
        except services.ChartingError as error:
            _show(request, forms, handler.form_name, error)
            done = None
        if done is not None:
            return done
        record = _record(session)
    return render(request, "charting/chart.html", _context(request, session, record, forms))


def _show(
    request: AuthenticatedRequest, forms: dict[str, Any], name: str, error: services.ChartingError
) -> None:
    """A refused step: next to its field when it names one, else as a message at the top."""
    form = forms.get(name)
    if form is not None and error.field in form.fields:
        form.add_error(error.field, str(error))
    else:
        messages.error(request, str(error))


class Action:
    def __init__(
        self,
        form_name: str,
        run: Callable[..., HttpResponse | None],
        roles: tuple[Role, ...] = (Role.NURSE,),
    ) -> None:
        self.form_name, self.run, self.roles = form_name, run, roles


def _back(session: Session) -> HttpResponse:
    return redirect("charting:chart", public_id=session.public_id)


def _bound(request: AuthenticatedRequest, forms: dict[str, Any], name: str, form: F) -> F | None:
    """The form if valid; kept in `forms` either way, so the page shows it again with its errors."""
    forms[name] = form
    return form if form.is_valid() else None


def _needs_record(record: InfusionRecord | None) -> InfusionRecord:
    if record is None:
        raise services.ChartingError("Check the patient in first.")
    return record


def _check_in(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    if record is not None:
        raise services.ChartingError("The patient is already checked in.")
    form = _bound(request, forms, "checkin_form", _checkin_form(session, request.POST))
    if form is None:
        return None
    data = form.cleaned_data
    solid, clear = form.fasting_times()
    services.check_in(
        session,
        request.user,
        escort_name=data["escort_name"],
        escort_phone=data["escort_phone"],
        weight_kg=data["weight_kg"],
        weight_unit=data["weight_unit"],
        pain_before=data["pain_before"],
        pregnancy_possible=data.get("pregnancy_possible"),
        vitals=form.vitals(),
        fasting=services.Fasting(solid, clear),
        time=data["time"],
    )
    messages.success(request, "Checked in. Check the dose, then start the infusion.")
    return _back(session)


def _start(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    record = _needs_record(record)
    form = _bound(request, forms, "start_form", StartForm(request.POST, auto_id="start_%s"))
    if form is None:
        return None
    services.confirm_dose_and_start(record, time=form.cleaned_data["time"])
    messages.success(request, f"Dose of {record.dose_mg} mg confirmed; the infusion started.")
    return _back(session)


def _vitals(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    record = _needs_record(record)
    form = _bound(
        request, forms, "vitals_form", InfusionVitalsForm(request.POST, auto_id="vitals_%s")
    )
    if form is None:
        return None
    reading = services.record_vitals(
        record,
        request.user,
        form.vitals(),
        form.cleaned_data["phase"] or None,
        time=form.cleaned_data["time"],
    )
    if reading.alerts:
        messages.error(request, "Alert: " + "; ".join(reading.alerts) + ".")
    else:
        messages.success(request, "Vitals recorded.")
    return _back(session)


def _observations(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    record = _needs_record(record)
    form = _bound(
        request, forms, "observations_form", ObservationsForm(request.POST, auto_id="obs_%s")
    )
    if form is None:
        return None
    services.add_observations(
        record,
        request.user,
        side_effects=form.cleaned_data["side_effects"],
        intervention=form.cleaned_data["intervention"],
        time=form.cleaned_data["time"],
    )
    messages.success(request, "Side effects and interventions charted.")
    return _back(session)


def _end(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    record = _needs_record(record)
    form = _bound(request, forms, "stop_form", StopForm(request.POST, auto_id="end_%s"))
    if form is None:
        return None
    services.end_infusion(
        record,
        stopped_early_reason=form.cleaned_data["stopped_early_reason"],
        time=form.cleaned_data["time"],
    )
    messages.success(request, "Infusion ended; recovery has started.")
    return _back(session)


def _discharge(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    record = _needs_record(record)
    if record.discharged_at is not None:
        when = timezone.localtime(record.discharged_at, session.location.zone)
        messages.info(
            request, f"The patient was already discharged at {when:%H:%M}; nothing changed."
        )
        return _back(session)
    form = _bound(
        request, forms, "discharge_form", DischargeForm(request.POST, auto_id="discharge_%s")
    )
    if form is None:
        return None
    result = services.discharge(
        record,
        form.checklist(),
        form.cleaned_data["pain_after"],
        time=form.cleaned_data["time"],
        short_recovery_reason=form.cleaned_data["short_recovery_reason"],
    )
    if result.changed:
        messages.success(request, "Discharged. The follow-up check-in is planned. Sign the chart.")
    else:
        when = timezone.localtime(result.record.discharged_at, session.location.zone)
        messages.info(
            request, f"The patient was already discharged at {when:%H:%M}; nothing changed."
        )
    return _back(session)


def _sign(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    record = _needs_record(record)
    form = _bound(
        request,
        forms,
        "sign_form",
        SignForm(request.POST, auto_id="sign_%s", location=session.location, signer=request.user),
    )
    if form is None:
        return None
    if services.sign(
        record,
        request.user,
        timing_reason=form.cleaned_data["timing_reason"],
        cosigner=form.cleaned_data["cosigner"],
        cosigner_reason=form.cleaned_data["cosigner_reason"],
    ):
        audit.record(request, "update", "chart", session.public_id, session.patient_id, "signed")
        messages.success(request, "Chart signed. Corrections from now on are addenda.")
    else:
        messages.info(request, "The chart was already signed; nothing changed.")
    return _back(session)


def _cosign(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    record = _needs_record(record)
    services.cosign(record, request.user)
    audit.record(request, "update", "chart", session.public_id, session.patient_id, "co-signed")
    messages.success(request, "Chart co-signed.")
    return _back(session)


def _addendum(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    record = _needs_record(record)
    form = _bound(request, forms, "addendum_form", AddendumForm(request.POST, auto_id="add_%s"))
    if form is None:
        return None
    addendum = services.add_addendum(
        record,
        request.user,
        reason=form.cleaned_data["reason"],
        text=form.cleaned_data["text"],
    )
    audit.record(
        request, "create", "chart_addendum", addendum.pk, session.patient_id, addendum.reason
    )
    messages.success(request, "Addendum added to the chart.")
    return _back(session)


def _work_up(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> HttpResponse | None:
    form = _bound(request, forms, "work_up_form", WorkUpForm(request.POST, auto_id="work_up_%s"))
    if form is None:
        return None
    intake = session.series.plan.intake
    work_up = services.mark_work_up_done(
        intake,
        form.cleaned_data["code"],
        request.user,
        form.cleaned_data["note"],
    )
    audit.record(request, "update", "work_up", intake.public_id, session.patient_id, work_up.code)
    messages.success(request, "Work-up marked done.")
    return _back(session)


STAFF = (Role.NURSE, Role.CLINICIAN)
ACTIONS: dict[str, Action] = {
    "check_in": Action("checkin_form", _check_in),
    "start": Action("start_form", _start),
    "vitals": Action("vitals_form", _vitals),
    "observations": Action("observations_form", _observations),
    "end": Action("stop_form", _end),
    "discharge": Action("discharge_form", _discharge),
    "sign": Action("sign_form", _sign),
    "cosign": Action("cosign", _cosign, (Role.CLINICIAN,)),
    "addendum": Action("addendum_form", _addendum, STAFF),
    "work_up": Action("work_up_form", _work_up, STAFF),
}


def _record_context(session: Session, record: InfusionRecord | None) -> dict[str, Any]:
    """The whole record as it stands: the same on the chart and in the print view."""
    # Before check-in, the version in force (a revision since the booking shows here).
    plan = session.series.plan if record is not None else session.series.plan.in_force()
    context: dict[str, Any] = {
        "session": session,
        "record": record,
        "plan": plan,
        "safety": safety.for_session(session),
        "zone": session.location.time_zone,
    }
    if record is None:
        return context
    vitals = list(record.vitals.select_related("recorded_by"))
    latest = max(vitals, key=lambda v: (v.taken_at, v.pk)) if vitals else None
    context.update(
        vitals=vitals,
        latest=latest,
        alerts=latest.alerts if latest else [],
        observations=list(record.observations.select_related("charted_by")),
        addenda=list(record.addenda.select_related("written_by")),
        dose=services.dose(record.weight_kg, plan),
        weight=weight_in_both(record.weight_kg, record.weight_unit),
    )
    return context


def _context(
    request: AuthenticatedRequest,
    session: Session,
    record: InfusionRecord | None,
    forms: dict[str, Any],
) -> dict[str, Any]:
    context = {**_record_context(session, record), **forms}
    context["is_nurse"] = request.user.role == Role.NURSE
    context.setdefault("work_up_form", WorkUpForm(auto_id="work_up_%s"))
    if record is None:
        context.setdefault("checkin_form", _checkin_form(session))
        return context
    location = session.location
    vitals = context["vitals"]
    last = vitals[-1].taken_at if vitals else record.checked_in_at
    due = last + dt.timedelta(minutes=location.vitals_every_minutes)
    context.update(
        next_vitals_due=due,
        vitals_overdue=record.infusion_started_at is not None
        and record.discharged_at is None
        and timezone.now() >= due,
    )
    context.setdefault("start_form", StartForm(auto_id="start_%s"))
    context.setdefault(
        "vitals_form",
        InfusionVitalsForm(auto_id="vitals_%s", initial={"phase": services.current_phase(record)}),
    )
    context.setdefault("observations_form", ObservationsForm(auto_id="obs_%s"))
    context.setdefault("stop_form", StopForm(auto_id="end_%s"))
    context.setdefault("discharge_form", DischargeForm(auto_id="discharge_%s"))
    context.setdefault("addendum_form", AddendumForm(auto_id="add_%s"))
    if record.discharged_at is not None and record.signed_at is None:
        context["sign_gaps"] = services.sign_off_gaps(record, session)
        context.setdefault(
            "sign_form",
            SignForm(auto_id="sign_%s", location=session.location, signer=request.user),
        )
    return context


@chart_readers
def print_view(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    session = get_charted_session_for(request, public_id)
    audit.record(request, "read", "infusion", session.public_id, session.patient_id, "print")
    context = _record_context(session, _record(session))
    context["printed_at"] = timezone.now()
    return render(request, "charting/print.html", context)


@role_required(Role.CLINICIAN)
def to_cosign(request: AuthenticatedRequest) -> HttpResponse:
    """Signed charts at the clinician's locations that wait for a co-signature."""
    records = (
        InfusionRecord.objects.filter(
            cosign_required=True,
            cosigned_at__isnull=True,
            signed_at__isnull=False,
            session__location__in=request.user.locations.all(),
        )
        .select_related("session__patient", "session__location", "signed_by")
        .order_by("signed_at")
    )
    return render(request, "charting/to_cosign.html", {"records": records})
