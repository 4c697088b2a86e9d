"""The paperwork's pages: the patient's estimates and superbills, the desk's copies, the
clinician's diagnosis codes, and the public notice of the right to an estimate
(docs/paperwork.md)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import language
from accounts.access import role_required
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from paperwork import access, documents, estimates, superbills
from paperwork.forms import DiagnosesForm
from paperwork.models import Estimate, PlanDiagnosis
from review.models import TreatmentPlan
from scheduling.access import get_patient_for

DESK = (Role.FRONT_DESK, Role.CLINIC_ADMIN)
logger = logging.getLogger(__name__)


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def notice(request: HttpRequest) -> HttpResponse:
    return render(request, "paperwork/notice.html")


@role_required(Role.PATIENT)
@require_GET
def mine(request: AuthenticatedRequest) -> HttpResponse:
    patient = request.user
    return render(
        request,
        "paperwork/mine.html",
        {
            "estimates": list(Estimate.objects.filter(patient=patient)),
            "has_plan": TreatmentPlan.objects.active().filter(patient=patient).exists(),
            "periods": superbills.choices(patient),
        },
    )


@role_required(Role.PATIENT, *DESK)
@require_GET
def estimate_page(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    estimate = access.get_estimate_for(request, public_id)
    if request.user.role != Role.PATIENT:
        audit.record(request, "read", "estimate", estimate.public_id, estimate.patient_id)
    context: dict[str, Any] = {
        **documents.estimate_context(estimate),
        **documents.font_urls(False),
        "for_pdf": False,
        "own": estimate.patient_id == request.user.pk,
    }
    return render(request, "paperwork/estimate_page.html", context)


@role_required(Role.PATIENT, *DESK)
@require_GET
def estimate_pdf(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    estimate = access.get_estimate_for(request, public_id)
    audit.record(request, "read", "estimate", estimate.public_id, estimate.patient_id, "pdf")
    try:
        data = documents.estimate_pdf(estimate)
    except documents.Tampered:
        # The stored document is not the one issued: never serve it, never redraw over it.
        logger.error("estimate %s: the stored PDF fails its SHA-256 check", estimate.public_id)
        messages.error(
            request,
            _(
                "The PDF of this estimate cannot be served right now; the clinic has been "
                "told. The page shows the same estimate."
            ),
        )
        return redirect("paperwork:estimate", public_id=estimate.public_id)
    return _pdf(data, f"{estimate.reference}.pdf")


@role_required(Role.PATIENT)
@require_POST
def acknowledge(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    estimate = access.get_estimate_for(request, public_id)
    if estimates.acknowledge(estimate):
        audit.record(
            request, "update", "estimate", estimate.public_id, estimate.patient_id, "acknowledged"
        )
    messages.success(request, _("Thank you: we have noted that you received this estimate."))
    return redirect("paperwork:estimate", public_id=estimate.public_id)


def _requested(request: AuthenticatedRequest, patient: User) -> Estimate | None:
    estimate = estimates.request_estimate(patient)
    audit.record(request, "create", "estimate", patient.public_id, patient.pk, "requested")
    if estimate is not None:
        messages.success(request, _("Your Good Faith Estimate is ready; we have emailed you too."))
    else:
        messages.info(
            request,
            _(
                "We have your request. You will receive your estimate within three business "
                "days; if you have no approved plan yet, we will contact you."
            ),
        )
    return estimate


@role_required(Role.PATIENT)
@require_POST
def request_mine(request: AuthenticatedRequest) -> HttpResponse:
    estimate = _requested(request, request.user)
    if estimate is not None:
        return redirect("paperwork:estimate", public_id=estimate.public_id)
    return redirect("paperwork:mine")


@role_required(*DESK)
@require_POST
def request_for(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The desk asks on the patient's behalf (a request by phone)."""
    patient = get_patient_for(request, public_id)
    _requested(request, patient)
    return redirect("scheduling:patient", public_id=patient.public_id)


def _superbill(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    try:
        period = superbills.parse_period(patient, request.GET.get("period", ""))
    except superbills.BadPeriod as problem:
        return render(
            request,
            "paperwork/superbill_page.html",
            {"problem": str(problem), "patient": patient, "periods": superbills.choices(patient)},
            status=400,
        )
    bill = superbills.build(patient, period)
    code = language.of_patient(patient)
    context = superbills.context(bill)
    audit.record(request, "read", "superbill", period.key, patient.pk)
    if request.GET.get("format") == "pdf":
        html = documents.render("paperwork/superbill_document.html", context, code, for_pdf=True)
        name = f"superbill-{period.key.replace(':', '-')[:40]}.pdf"
        return _pdf(documents.to_pdf(html), name)
    return render(
        request,
        "paperwork/superbill_page.html",
        {
            **context,
            **documents.font_urls(False),
            "patient": patient,
            "period_key": period.key,
            "periods": superbills.choices(patient),
        },
    )


@role_required(Role.PATIENT)
@require_GET
def superbill_mine(request: AuthenticatedRequest) -> HttpResponse:
    return _superbill(request, request.user)


@role_required(*DESK)
@require_GET
def superbill_for(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    patient = get_patient_for(request, public_id)
    return _superbill(request, patient)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def plan_diagnoses(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The clinician reads and edits the plan's diagnosis codes; a change reissues the
    estimate of the plan's booked series (its content changed)."""
    plan = access.get_plan_for(request, public_id)
    current = estimates.plan_diagnoses(plan)
    initial = "\n".join(f"{d.code} {d.description}" for d in current)
    form = DiagnosesForm(request.POST or None, initial={"codes": initial})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            PlanDiagnosis.objects.filter(plan=plan).delete()
            PlanDiagnosis.objects.bulk_create(
                [
                    PlanDiagnosis(
                        plan=plan,
                        code=code,
                        description=text,
                        position=n,
                        changed_by=request.user,
                    )
                    for n, (code, text) in enumerate(form.cleaned_data["codes"])
                ]
            )
            audit.record(request, "update", "plan_diagnoses", plan.public_id, plan.patient_id)
            for series in plan.series.all():
                estimates.on_series_changed(series)
        messages.success(request, _("Diagnosis codes saved."))
        return redirect("paperwork:diagnoses", public_id=plan.public_id)
    return render(
        request, "paperwork/diagnoses.html", {"plan": plan, "form": form, "current": current}
    )
