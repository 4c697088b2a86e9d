from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, F, Func, IntegerField, OuterRef
from django.db.models.fields.json import KT
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language_info
from django.views.decorators.http import require_POST

from accounts import language as languages
from accounts.access import role_required, sees_patient
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from accounts.validators import age_on
from audit import services as audit
from clinic.querystrings import query_form, read_query
from intake import answers as people
from intake import scoring
from intake.flags import Kind
from intake.models import Intake, IntakeAttachment, UrgentFlag
from intake.steps import steps_for
from intake.vocabulary import INDICATIONS, PRIOR_TREATMENTS
from locations.models import Location
from review import evaluations, services
from review.access import get_submitted_intake_for
from review.forms import (
    STATUS_FILTERS,
    AcknowledgeForm,
    DeclineForm,
    MoreInfoForm,
    PlanForm,
    QueueFilterForm,
    queue_statuses,
)
from review.models import ProtocolTemplate

clinician_only = role_required(Role.CLINICIAN)
queue_roles = role_required(Role.CLINICIAN, Role.FRONT_DESK)

PAGE_SIZE = 25

# Only what a row shows, as plain values: no model instances and no decoding of whole JSON
# documents per row. Scores are fetched for clinicians only (least privilege).
_ROW_FIELDS = (
    "public_id",
    "version",
    "status",
    "submitted_at",
    "urgent",
    "patient__first_name",
    "patient__last_name",
    "patient__email",
    "location__name",
    "patient_id",
)
_CLINICAL = {
    "phq9": KT("scores__phq9__total"),
    "gad7": KT("scores__gad7__total"),
    "acr_met": KT("scores__acr_2016__criteria_met"),
    "flag_count": Func("flags", function="jsonb_array_length", output_field=IntegerField()),
}
_STATUS_LABELS = dict(Intake.Status.choices)
_ANY_ID = UUID(int=0)


@query_form(QueueFilterForm)
@queue_roles
def queue(request: AuthenticatedRequest) -> HttpResponse:
    """Submitted intakes per location, urgent first and then oldest first.

    The front desk sees status and contact details only; clinicians also see scores and flags,
    and the urgent flags still open at their locations.
    """
    clinical = request.user.role == Role.CLINICIAN
    locations = list(Location.objects.filter(is_active=True).values_list("pk", "name"))
    # A filter that is no active location, no status or no page number means its default.
    query = read_query(request, QueueFilterForm, locations=locations)
    table = _queue_table(
        request.user,
        clinical,
        locations,
        query["location"],
        query["status"] or "submitted",
        query["page"] or 1,
    )
    context: dict[str, Any] = {"table": table, "clinical": clinical}
    if clinical:
        context["open_flags"] = _open_flags(request.user)
    return render(request, "review/queue.html", context)


def _queue_table(
    reader: User,
    clinical: bool,
    locations: list[tuple[int, str]],
    location_id: int | None,
    status: str,
    number: int,
) -> str:
    order = [*(["-urgent"] if clinical else []), "submitted_at", "pk"]
    # Only the intakes of the patients the reader sees: for a clinician, those of their locations
    # and the never-booked patients' (docs/security.md#which-locations-patients-each-role-sees).
    intakes = Intake.objects.filter(
        sees_patient(reader), status__in=queue_statuses(status)
    ).order_by(*order)
    if location_id is not None:  # one of the active locations read for the filter
        intakes = intakes.filter(location_id=location_id)
    # Counted and paged through ids alone (the index's order, without joins); only the page's
    # rows are joined, in the same query as the page's ids.
    page = Paginator(intakes.values_list("pk", flat=True), PAGE_SIZE).get_page(number)
    fields = _CLINICAL if clinical else {"phone": F("patient__patient_profile__mobile_phone")}
    rows: list[dict[str, Any]] = list(
        Intake.objects.filter(pk__in=page.object_list)
        .order_by(*order)
        .values("pk", *_ROW_FIELDS, **fields)
    )
    now = timezone.now()
    # One reverse for the page, each row's id put in (25 were a third of the table's rendering).
    summary = reverse("review:summary", args=[_ANY_ID])
    page.object_list = rows  # type: ignore[assignment]  # the page shows the rows of its ids
    for row in rows:
        row["name"] = _name(row)
        row["status_label"] = _STATUS_LABELS.get(row["status"], row["status"])
        row["waiting"] = _waiting(row["submitted_at"], now)
        row["url"] = summary.replace(str(_ANY_ID), str(row["public_id"]))
    # The evaluation visit, booked or held (docs/visits.md#evaluation-and-approval): one query.
    evaluation = evaluations.states(row["patient_id"] for row in rows)
    for row in rows:
        row["evaluation"] = evaluations.LABELS[evaluation[row["patient_id"]]]
    return render_to_string(
        "review/_queue_table.html",
        {
            # The filters as read; the selects are written from these in the template (Django's
            # widget templates took nearly as long for the two selects as for the 25 rows).
            "locations": locations,
            "statuses": STATUS_FILTERS,
            "page": page,
            "clinical": clinical,
            "location_id": location_id,
            "status": status,
        },
    )


def _open_flags(clinician: User) -> list[dict[str, Any]]:
    """The open urgent flags a clinician is told of, with only what a notice shows."""
    flags = UrgentFlag.objects.open().for_clinician(clinician).filter(sees_patient(clinician))
    return [
        {**flag, "name": _name(flag)}
        for flag in flags.values(
            "raised_at",
            "notified_at",
            "intake__public_id",
            "patient__first_name",
            "patient__last_name",
            "patient__email",
            "location__name",
        )
    ]


def _name(row: Mapping[str, Any]) -> str:
    """The patient's full name (as `User.get_full_name` gives it), else their email."""
    full = f"{row['patient__first_name']} {row['patient__last_name']}".strip()
    return full or row["patient__email"]


def _waiting(since: dt.datetime | None, now: dt.datetime) -> str:
    """How long an intake has waited, in its largest whole unit ("3 days", "5 hours")."""
    if since is None:
        return "—"
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes >= 24 * 60:
        count, unit = minutes // (24 * 60), "day"
    elif minutes >= 60:
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes, "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _summary_parts(intake: Intake) -> dict[str, Any]:
    """What a submitted version shows that can never change (its answers, scores and flags are
    frozen at submit): the answers, in words, and the scores and flags."""
    rows = list(intake.answers.values_list("step", "data", "language"))
    answers = {step: data for step, data, _language in rows}
    scores = intake.scores
    acr = scores.get("acr_2016", {})
    painful = set(answers.get("fibromyalgia", {}).get("painful_areas", []))
    # What review/_summary_body.html shows: the scores and the flags.
    scored = {
        "flags": [
            {**flag, "kind_label": Kind(flag["kind"]).label}
            for flag in sorted(intake.flags, key=lambda flag: list(Kind).index(Kind(flag["kind"])))
        ],
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
    }
    given = {step: language for step, _data, language in rows}
    words = _in_words(intake, answers)
    for section in words["all_answers"]:
        section["language"] = _language_name(
            given.get(section["step"].slug, settings.LANGUAGE_CODE)
        )
    given_in = sorted({code for code in given.values() if code != settings.LANGUAGE_CODE})
    return {
        "answers": answers,
        **scored,
        "given_in": [_language_name(code) for code in given_in],
        **words,
    }


def _language_name(code: str) -> str:
    """The language's English name ("Spanish"): staff pages are in English."""
    return str(get_language_info(code)["name"]) if languages.supported(code) else code


def _in_words(intake: Intake, answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The coded answers the summary quotes, in words, and every answer by step: as written at
    submit (`Intake.answer_lines`), or described now for a version submitted before they were."""
    about, reason = answers.get("about", {}), answers.get("reason", {})
    steps = steps_for(intake)
    by_slug = {step.slug: step for step in steps}
    written = intake.answer_lines or people.in_words(steps, answers)
    # The two single answers quoted above come from fixed choices: the form classes' own fields
    # say them in words (no form is built, none of their choices come from the database).
    sex_at_birth = by_slug["about"].form_class.base_fields["sex_at_birth"]
    pain_duration = by_slug["reason"].form_class.base_fields["pain_duration"]
    birth = about.get("date_of_birth")
    on = (intake.submitted_at or timezone.now()).date()
    return {
        "age": age_on(dt.date.fromisoformat(str(birth)), on) if birth else None,
        "born": people.long_date(birth) if birth else "—",
        "sex": people.display(sex_at_birth, about.get("sex_at_birth")),
        "indications": _labels(INDICATIONS, reason.get("indications", [])),
        "pain_duration": people.display(pain_duration, reason.get("pain_duration")),
        "prior_treatments": _labels(PRIOR_TREATMENTS, reason.get("prior_treatments", [])),
        "blood_pressure": people.blood_pressure(answers.get("safety", {})),
        "escort_phone_shown": people.phone(
            str(answers.get("contacts", {}).get("escort_phone", ""))
        ),
        # Each step's questions and answers, the rows of its description list in the template.
        "all_answers": [
            {"step": by_slug[slug], "rows": lines} for slug, lines in written if slug in by_slug
        ],
    }


def _labels(choices: Sequence[tuple[str, Any]], codes: list[str]) -> list[str]:
    words = dict(choices)
    return [str(words.get(code, code)) for code in codes]


def indication_for(reason: dict[str, Any]) -> str:
    """The plan's indication from what the patient asked treatment for (the reason step's
    answers): "Fibromyalgia, depression", the "other" reason in their words; the template's when
    the intake has none."""
    words = [
        reason.get("indication_other") or "Other" if code == "other" else label
        for code, label in zip(
            reason.get("indications", []),
            _labels(INDICATIONS, reason.get("indications", [])),
            strict=True,
        )
    ]
    return ", ".join(words)[:100]


def _plan_form_initial(template: ProtocolTemplate | None, reason: dict[str, Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    if template is not None:
        initial = {"template": template, **{f: getattr(template, f) for f in services.PLAN_FIELDS}}
    if indication := indication_for(reason):
        initial["indication"] = indication
    return initial


def _summary_live(intake: Intake) -> dict[str, Any]:
    """What can change around a submitted version: contact details, the urgent flag, decisions,
    the default protocol; read on every request like the rest."""
    patient = intake.patient
    profile = getattr(patient, "patient_profile", None)
    templates = services.active_templates()
    template = templates[0] if templates else None
    weight = intake.scores.get("measurements", {}).get("weight_kg")
    # Every decision ends the wait, in the transaction that records it (review.services):
    # a version still waiting has none to read.
    decisions = (
        []
        if intake.status == Intake.Status.SUBMITTED
        else list(intake.decisions.select_related("decided_by", "plan"))
    )
    plan = next((d.plan for d in decisions if d.plan is not None), None)
    return {
        "patient_public_id": patient.public_id,
        "email": patient.email,
        "phone_shown": people.phone(profile.mobile_phone) if profile else "",
        "location_name": intake.location.name if intake.location else "",
        # Both loaded with the intake by `_reviewable`.
        "urgent_flag": getattr(intake, "urgent_flag", None),
        "card": getattr(intake, "has_card", False),
        "decisions": decisions,
        "templates": templates,
        "template": template,
        "dose": template.dose_for(Decimal(weight)) if template and weight else None,
        # What was approved, beside the default: the plan's own mg/kg and cap.
        "approved_dose": plan.dose_for(Decimal(weight)) if plan and weight else None,
        # Times on the summary are the intake location's, labelled; UTC without a location.
        "zone": intake.location.time_zone if intake.location else "UTC",
    }


def _decision_forms(
    intake: Intake,
    reason: dict[str, Any],
    templates: list[ProtocolTemplate],
    urgent_flag: UrgentFlag | None,
) -> dict[str, forms.BaseForm]:
    """The empty forms the summary shows: the decisions while the version waits (the plan's
    prefilled from the default protocol, the first of the active ones, and its indication from
    the intake), the acknowledgement while an urgent flag is unacknowledged."""
    shown: dict[str, forms.BaseForm] = {}
    if intake.status == Intake.Status.SUBMITTED:
        initial = _plan_form_initial(templates[0] if templates else None, reason)
        shown["plan"] = PlanForm(prefix="plan", initial=initial, templates=templates)
        shown["decline"] = DeclineForm(prefix="decline")
        shown["more"] = MoreInfoForm(prefix="more")
    if urgent_flag is not None and urgent_flag.acknowledged_at is None:
        shown["ack"] = AcknowledgeForm(prefix="ack")
    return shown


def _render_summary(request: HttpRequest, intake: Intake, **refused: Any) -> HttpResponse:
    """The summary with its decision forms; a refused form comes back with its messages. One
    template render: the layout includes the content, which includes the scores and flags."""
    parts = _summary_parts(intake)
    live = _summary_live(intake)
    shown = _decision_forms(
        intake, parts["answers"].get("reason", {}), live["templates"], live["urgent_flag"]
    )
    shown.update(refused)
    return render(
        request,
        "review/summary.html",
        {
            **parts,
            **live,
            "intake": intake,
            "waiting": intake.status == Intake.Status.SUBMITTED,
            "forms": shown,
            "refused": set(refused),
            # The evaluation visit and whether approval waits for it
            # (docs/visits.md#evaluation-and-approval): one query.
            "evaluation": evaluations.LABELS[
                evaluations.states([intake.patient_id])[intake.patient_id]
            ],
            "evaluation_required": bool(intake.location and intake.location.evaluation_required),
        },
    )


@clinician_only
def summary(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    intake = _reviewable(request, public_id)
    audit.record(request, "read", "intake", intake.public_id, intake.patient_id, "summary")
    return _render_summary(request, intake)


def _reviewable(request: AuthenticatedRequest, public_id: UUID) -> Intake:
    """A submitted intake version (review.access), with what the summary shows of it in the same
    query: its patient and their profile, its location, its urgent flag and whether an insurance
    card is on file (`has_card`)."""
    return get_submitted_intake_for(
        request,
        public_id,
        # Not the flag's acknowledging clinician: a sixth table cost PostgreSQL more to plan
        # (about 0.6 ms) than reading that one user, only once a flag is acknowledged.
        Intake.objects.select_related("patient__patient_profile", "location", "urgent_flag")
        .only(*_SUMMARY_FIELDS)
        .annotate(has_card=_HAS_CARD),
    )


# Whether the version has an insurance card on file.
_HAS_CARD = Exists(
    IntakeAttachment.objects.filter(
        intake=OuterRef("pk"), kind=IntakeAttachment.Kind.INSURANCE_CARD
    )
)


# Every field of the version and its flag, and of its patient, their profile and its location
# only what the summary shows (`_summary_live`): a third of the columns, which Django compiles and
# turns into objects one by one on every request (about 0.3 ms).
_SUMMARY_FIELDS = (
    *(field.name for field in Intake._meta.concrete_fields),
    *(f"urgent_flag__{field.name}" for field in UrgentFlag._meta.concrete_fields),
    "patient__public_id",
    "patient__email",
    "patient__patient_profile__mobile_phone",
    "location__name",
    "location__time_zone",
    "location__evaluation_required",
)


def _decide(
    request: AuthenticatedRequest,
    public_id: UUID,
    action: str,
    form: Any,
    decide: Any,
    done: str,
) -> HttpResponse:
    """One decision on a waiting intake: validated (a refused form comes back on the summary
    under its prefix), made by `decide(intake, cleaned_data)` unless already made, and audited
    with its outcome: made, or refused and why."""
    intake = _reviewable(request, public_id)

    def record(outcome: str) -> None:
        audit.record(
            request, "decide", "intake", intake.public_id, intake.patient_id, f"{action}{outcome}"
        )

    if not form.is_valid():
        record(f" refused: the form had errors ({', '.join(sorted(form.errors))})")
        return _render_summary(request, intake, **{form.prefix: form})
    try:
        decide(intake, form.cleaned_data)
    except services.NotReviewable:
        record(" refused: the intake was already decided")
        messages.warning(request, "This intake was already decided; nothing was changed.")
    except services.EvaluationMissing as error:
        record(" refused: no evaluation held")
        messages.error(request, str(error))
    else:
        record("")
        messages.success(request, done)
    return redirect("review:summary", public_id=intake.public_id)


@clinician_only
@require_POST
def approve(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _decide(
        request,
        public_id,
        "approve",
        PlanForm(request.POST, prefix="plan"),
        lambda intake, data: services.approve(
            intake,
            request.user,
            data,
            template=data.get("template"),
            patient_message=data["patient_message"],
            internal_note=data["internal_note"],
        ),
        "Approved with a treatment plan. The front desk can book it.",
    )


@clinician_only
@require_POST
def decline(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _decide(
        request,
        public_id,
        "decline",
        DeclineForm(request.POST, prefix="decline"),
        lambda intake, data: services.decline(intake, request.user, **data),
        "Declined. The patient sees the reason you wrote.",
    )


@clinician_only
@require_POST
def more_info(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    return _decide(
        request,
        public_id,
        "more_info",
        MoreInfoForm(request.POST, prefix="more"),
        lambda intake, data: services.request_more_information(
            intake,
            request.user,
            steps=data["steps"],
            patient_message=data["patient_message"],
            internal_note=data["internal_note"],
        ),
        "Sent back to the patient; the chosen sections are reopened.",
    )


@clinician_only
@require_POST
def acknowledge(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    intake = _reviewable(request, public_id)
    flag = getattr(intake, "urgent_flag", None)  # read with the version
    if flag is None:
        raise Http404("This intake has no urgent flag.")
    form = AcknowledgeForm(request.POST, prefix="ack")

    def record(outcome: str) -> None:
        audit.record(
            request,
            "decide",
            "intake",
            intake.public_id,
            intake.patient_id,
            f"acknowledge{outcome}",
        )

    if not form.is_valid():
        record(" refused: no note")
        return _render_summary(request, intake, ack=form)
    if services.acknowledge(flag, request.user, form.cleaned_data["note"]):
        record("")
        messages.success(request, "Urgent flag acknowledged. The patient can now be booked.")
    else:
        record(" refused: already acknowledged")
        messages.info(request, "Another clinician had already acknowledged this flag.")
    return redirect("review:summary", public_id=intake.public_id)


@clinician_only
def templates(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "review/templates.html", {"templates": ProtocolTemplate.objects.all()})
