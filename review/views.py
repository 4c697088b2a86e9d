from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role
from audit import services as audit
from intake import scoring
from intake.flags import Kind
from intake.models import Intake, UrgentFlag
from intake.steps import STEPS
from review import services
from review.forms import AcknowledgeForm, DeclineForm, MoreInfoForm, PlanForm, QueueFilterForm
from review.models import ProtocolTemplate

clinician_only = role_required(Role.CLINICIAN)
queue_roles = role_required(Role.CLINICIAN, Role.FRONT_DESK)

PAGE_SIZE = 50


@queue_roles
def queue(request: HttpRequest) -> HttpResponse:
    """Submitted intakes per location, urgent first and then oldest first.

    The front desk sees status and contact details only; clinicians also see scores and flags.
    """
    clinical = request.user.role == Role.CLINICIAN  # type: ignore[union-attr]
    form = QueueFilterForm(request.GET or None)
    form.is_valid()
    intakes = (
        Intake.objects.filter(status__in=form.statuses())
        .select_related("patient", "patient__patient_profile", "location")
        .order_by(*(["-urgent"] if clinical else []), "submitted_at")
    )
    location = form.cleaned_data.get("location") if form.is_bound else None
    if location is not None:
        intakes = intakes.filter(location=location)
    page = Paginator(intakes, PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {"form": form, "page": page, "clinical": clinical}
    if clinical:
        context["open_flags"] = list(
            UrgentFlag.objects.open()
            .for_clinician(request.user)
            .select_related("intake", "location")
        )
    return render(request, "review/queue.html", context)


def _summary_context(intake: Intake) -> dict[str, Any]:
    answers = {answer.step: answer.data for answer in intake.answers.all()}
    scores = intake.scores
    flags = sorted(intake.flags, key=lambda flag: list(Kind).index(Kind(flag["kind"])))
    template = services.default_template()
    weight = scores.get("measurements", {}).get("weight_kg")
    acr = scores.get("acr_2016", {})
    painful = set(answers.get("fibromyalgia", {}).get("painful_areas", []))
    return {
        "intake": intake,
        "answers": answers,
        "flags": flags,
        "kind_labels": {kind.value: kind.label for kind in Kind},
        "phq9_band": scoring.SeverityBand(scores["phq9"]["band"]).label if scores else "",
        "gad7_band": scoring.SeverityBand(scores["gad7"]["band"]).label if scores else "",
        "acr": acr,
        "regions": [
            {
                "label": region.label,
                "counted": region.code in acr.get("regions_with_pain", []),
                "areas": [
                    area.label
                    for area in scoring.WPI_AREAS
                    if area.region == region.code and area.code in painful
                ],
            }
            for region in scoring.REGIONS
        ],
        "dose": template.dose_for(Decimal(weight)) if template and weight else None,
        "template": template,
        "steps": STEPS,
    }


def _plan_form_initial(template: ProtocolTemplate | None) -> dict[str, Any]:
    if template is None:
        return {}
    return {"template": template, **{f: getattr(template, f) for f in services.PLAN_FIELDS}}


def _render_summary(request: HttpRequest, intake: Intake, **forms: Any) -> HttpResponse:
    """The summary with its decision forms; a refused form comes back with its messages."""
    context = _summary_context(intake)
    context.update(
        urgent_flag=UrgentFlag.objects.filter(intake=intake)
        .select_related("acknowledged_by")
        .first(),
        decisions=list(intake.decisions.select_related("decided_by", "plan")),
        plan_form=forms.get("plan_form")
        or PlanForm(prefix="plan", initial=_plan_form_initial(context["template"])),
        decline_form=forms.get("decline_form") or DeclineForm(prefix="decline"),
        more_info_form=forms.get("more_info_form") or MoreInfoForm(prefix="more"),
        acknowledge_form=forms.get("acknowledge_form") or AcknowledgeForm(prefix="ack"),
        waiting=intake.status == Intake.Status.SUBMITTED,
    )
    return render(request, "review/summary.html", context)


@clinician_only
def summary(request: HttpRequest, public_id: UUID) -> HttpResponse:
    intake = _reviewable(public_id)
    audit.record(request, "read", "intake", intake.public_id, intake.patient_id, "summary")
    return _render_summary(request, intake)


def _reviewable(public_id: UUID) -> Intake:
    """A submitted intake version; drafts are the patient's own until submitted."""
    return get_object_or_404(
        Intake.objects.select_related("patient", "patient__patient_profile", "location").exclude(
            status=Intake.Status.DRAFT
        ),
        public_id=public_id,
    )


@clinician_only
@require_POST
def approve(request: HttpRequest, public_id: UUID) -> HttpResponse:
    intake = _reviewable(public_id)
    audit.record(request, "decide", "intake", intake.public_id, intake.patient_id, "approve")
    form = PlanForm(request.POST, prefix="plan")
    if not form.is_valid():
        return _render_summary(request, intake, plan_form=form)
    try:
        services.approve(
            intake,
            request.user,  # type: ignore[arg-type]
            form.cleaned_data,
            template=form.cleaned_data.get("template"),
            patient_message=form.cleaned_data["patient_message"],
            internal_note=form.cleaned_data["internal_note"],
        )
    except services.NotReviewable:
        messages.warning(request, "This intake was already decided; nothing was changed.")
    else:
        messages.success(request, "Approved with a treatment plan. The front desk can book it.")
    return redirect("review:summary", public_id=intake.public_id)


@clinician_only
@require_POST
def decline(request: HttpRequest, public_id: UUID) -> HttpResponse:
    intake = _reviewable(public_id)
    audit.record(request, "decide", "intake", intake.public_id, intake.patient_id, "decline")
    form = DeclineForm(request.POST, prefix="decline")
    if not form.is_valid():
        return _render_summary(request, intake, decline_form=form)
    try:
        services.decline(intake, request.user, **form.cleaned_data)  # type: ignore[arg-type]
    except services.NotReviewable:
        messages.warning(request, "This intake was already decided; nothing was changed.")
    else:
        messages.success(request, "Declined. The patient sees the reason you wrote.")
    return redirect("review:summary", public_id=intake.public_id)


@clinician_only
@require_POST
def more_info(request: HttpRequest, public_id: UUID) -> HttpResponse:
    intake = _reviewable(public_id)
    audit.record(request, "decide", "intake", intake.public_id, intake.patient_id, "more_info")
    form = MoreInfoForm(request.POST, prefix="more")
    if not form.is_valid():
        return _render_summary(request, intake, more_info_form=form)
    try:
        services.request_more_information(
            intake,
            request.user,  # type: ignore[arg-type]
            steps=form.cleaned_data["steps"],
            patient_message=form.cleaned_data["patient_message"],
            internal_note=form.cleaned_data["internal_note"],
        )
    except services.NotReviewable:
        messages.warning(request, "This intake was already decided; nothing was changed.")
    else:
        messages.success(request, "Sent back to the patient; the chosen sections are reopened.")
    return redirect("review:summary", public_id=intake.public_id)


@clinician_only
@require_POST
def acknowledge(request: HttpRequest, public_id: UUID) -> HttpResponse:
    intake = _reviewable(public_id)
    audit.record(request, "decide", "intake", intake.public_id, intake.patient_id, "acknowledge")
    flag = get_object_or_404(UrgentFlag, intake=intake)
    form = AcknowledgeForm(request.POST, prefix="ack")
    if not form.is_valid():
        return _render_summary(request, intake, acknowledge_form=form)
    if services.acknowledge(flag, request.user, form.cleaned_data["note"]):  # type: ignore[arg-type]
        messages.success(request, "Urgent flag acknowledged. The patient can now be booked.")
    else:
        messages.info(request, "Another clinician had already acknowledged this flag.")
    return redirect("review:summary", public_id=intake.public_id)


@clinician_only
def templates(request: HttpRequest) -> HttpResponse:
    return render(request, "review/templates.html", {"templates": ProtocolTemplate.objects.all()})
