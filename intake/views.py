from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms as django_forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.views.decorators.http import require_POST, require_safe

from accounts.access import role_required
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from clinic.querystrings import query_form, read_query
from intake import scoring, services
from intake.forms import MoodForm, SafetyForm, StepForm, StepQuery
from intake.models import Intake, IntakeAnswer
from intake.steps import STEP_BY_SLUG, STEP_NUMBER, STEPS, Step, next_step, previous_step

patient_only = role_required(Role.PATIENT)


def _own_intake(request: AuthenticatedRequest, public_id: UUID) -> Intake:
    """A patient reaches only their own intakes; anything else is simply not found."""
    return get_object_or_404(Intake, public_id=public_id, patient=request.user)


def _step_url(intake: Intake, step: Step) -> str:
    return reverse("intake:step", args=[intake.public_id, step.slug])


def _resume_url(intake: Intake, answers: dict[str, IntakeAnswer]) -> str:
    missing = services.missing_steps(answers)
    if missing:
        return _step_url(intake, missing[0])
    return reverse("intake:review", args=[intake.public_id])


def _self_harm_answered(answers: dict[str, IntakeAnswer]) -> bool:
    mood = answers.get("mood")
    if mood is None:
        return False
    item = f"phq9_{scoring.PHQ9_SELF_HARM_ITEM}"
    value = mood.data.get(item) if mood.completed_at else (mood.raw.get(item) or [None])[-1]
    return str(value) in {"1", "2", "3"}


@patient_only
def home(request: AuthenticatedRequest) -> HttpResponse:
    intakes = list(Intake.objects.filter(patient=request.user).order_by("-version")[:2])
    latest = intakes[0] if intakes else None
    context: dict[str, Any] = {
        "intake": latest,
        "steps_total": len(STEPS),
        "reopened_titles": [
            STEP_BY_SLUG[slug].title for slug in (latest.reopened_steps if latest else [])
        ],
    }
    if latest is not None and latest.is_draft:
        answers = services.answers_by_step(latest)
        context.update(
            steps_done=len(STEPS) - len(services.missing_steps(answers)),
            resume_url=_resume_url(latest, answers),
            previous=intakes[1] if len(intakes) > 1 else None,
        )
    return render(request, "intake/home.html", context)


@patient_only
@require_POST
def start(request: AuthenticatedRequest) -> HttpResponse:
    try:
        intake = services.start_draft(request.user)
    except services.NotEditable:
        messages.info(request, "Your answers are with the clinic; there is nothing to change now.")
        return redirect("intake:home")
    return redirect(_resume_url(intake, services.answers_by_step(intake)))


def _form_kwargs(
    step: Step, answers: dict[str, IntakeAnswer], request: AuthenticatedRequest
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if step.slug == "consents":
        about = answers.get("about")
        data = about.data if about is not None else {}
        kwargs["legal_name"] = " ".join(
            part for part in (data.get("legal_first_name"), data.get("legal_last_name")) if part
        )
    return kwargs


def _initial(step: Step, request: AuthenticatedRequest) -> dict[str, Any]:
    """Sensible first answers: what the account already knows."""
    user = request.user
    if step.slug == "about":
        return {
            "legal_first_name": user.first_name,
            "legal_last_name": user.last_name,
            "email": user.email,
            "preferred_language": "en",
        }
    if step.slug == "measurements":
        return {"weight_unit": "lb", "height_unit": "ft_in"}
    if step.slug == "consents":
        return {"email_reminders": True}
    return {}


RAW_KEYS_LIMIT = 400
RAW_VALUE_LIMIT = 4000


def _raw_post(request: HttpRequest) -> dict[str, list[str]]:
    """What the patient typed, kept for their return; NUL characters cannot be stored in JSONB."""
    keys = [
        key for key in request.POST if key not in {"csrfmiddlewaretoken", "action", "from_review"}
    ]
    return {
        key[:200].replace("\x00", ""): [
            value[:RAW_VALUE_LIMIT].replace("\x00", "") for value in request.POST.getlist(key)
        ]
        for key in keys[:RAW_KEYS_LIMIT]
    }


@query_form(StepQuery)
@patient_only
def step(request: AuthenticatedRequest, public_id: UUID, slug: str) -> HttpResponse:
    intake = _own_intake(request, public_id)
    current = STEP_BY_SLUG.get(slug)
    if current is None:
        raise Http404
    if not intake.is_draft:
        messages.info(request, "This intake has been submitted; its answers can no longer change.")
        return redirect("intake:home")

    # A valid POST redirects without showing any answers: read them only when they are needed.
    posted = request.method == "POST"
    answers = {} if posted and current.slug != "consents" else services.answers_by_step(intake)
    kwargs = _form_kwargs(current, answers, request)
    audit.record(
        request,
        "update" if request.method == "POST" else "read",
        "intake",
        intake.public_id,
        intake.patient_id,
        detail=f"step {slug}",
    )
    extra_rows = 0

    if request.method == "POST":
        action = request.POST.get("action", "next")
        from_review = request.POST.get("from_review") == "1"
        if action == "more_rows":
            extra_rows = 2
        form = _bind(current, intake, request.POST, request.FILES, kwargs, extra_rows)
        try:
            if form.is_valid():
                services.save_step(intake, current, form, ip=request.META.get("REMOTE_ADDR"))
                if action == "more_rows":
                    form = _bind(current, intake, None, None, kwargs, extra_rows, form.answers())
                else:
                    return redirect(_after_save(intake, current, action, from_review))
            else:
                services.save_unfinished(intake, current, _raw_post(request))
                if action == "back" and (previous := previous_step(current)):
                    messages.warning(
                        request,
                        f"What you typed on “{current.title}” is kept; it still needs a "
                        "few corrections before you can submit.",
                    )
                    return redirect(_step_url(intake, previous))
        except services.NotADraft:
            messages.info(request, "This intake was already submitted; nothing was changed.")
            return redirect("intake:home")
        status = 200
    else:
        from_review = read_query(request, StepQuery)["from"] == "review"
        answer = answers.get(slug)
        if answer is not None and answer.raw and not answer.completed_at:
            form = _bind(current, intake, MultiValueDict(answer.raw), None, kwargs, 0)
        else:
            initial = answer.data if answer is not None else _initial(current, request)
            form = _bind(current, intake, None, None, kwargs, 0, initial)
        status = 200

    if posted and not answers:
        answers = services.answers_by_step(intake)  # shown again, with the step's messages
    return render(
        request,
        current.template_name,
        _step_context(intake, current, form, answers, from_review),
        status=status,
    )


def _bind(
    step: Step,
    intake: Intake,
    data: Any,
    files: Any,
    kwargs: dict[str, Any],
    extra_rows: int,
    initial: dict[str, Any] | None = None,
) -> StepForm:
    if step.form_class is SafetyForm:
        kwargs = {**kwargs, "extra_rows": extra_rows}
    return step.form_class(data, files, intake=intake, initial=initial, **kwargs)


def _after_save(intake: Intake, current: Step, action: str, from_review: bool) -> str:
    if action == "back" and (previous := previous_step(current)):
        return _step_url(intake, previous)
    if from_review or next_step(current) is None:
        return reverse("intake:review", args=[intake.public_id])
    following = next_step(current)
    assert following is not None
    return _step_url(intake, following)


def _step_context(
    intake: Intake,
    current: Step,
    form: StepForm,
    answers: dict[str, IntakeAnswer],
    from_review: bool,
) -> dict[str, Any]:
    number = STEP_NUMBER[current.slug]
    completed = {slug for slug, answer in answers.items() if answer.completed_at}
    context: dict[str, Any] = {
        "intake": intake,
        "step": current,
        "form": form,
        "number": number,
        "total": len(STEPS),
        "percent": round(100 * len(completed) / len(STEPS)),
        "steps": [
            {
                "step": s,
                "number": n,
                "done": s.slug in completed,
                "current": s.slug == current.slug,
                "url": _step_url(intake, s),
            }
            for n, s in enumerate(STEPS, start=1)
        ],
        "previous": previous_step(current),
        "is_last": next_step(current) is None,
        "from_review": from_review,
        "show_crisis": _self_harm_answered(answers)
        or (isinstance(form, MoodForm) and form.self_harm_answered),
    }
    if current.slug == "fibromyalgia":
        context["body_map_regions"] = [
            (region, [area for area in scoring.WPI_AREAS if area.region == region.code])
            for region in scoring.REGIONS
        ]
    if current.slug == "consents":
        context["consent_texts"] = services.current_consent_texts()
    if current.slug == "insurance":
        context["card"] = intake.attachments.filter(kind="insurance_card").first()
    return context


def describe(step: Step, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The answers of a step as (question, answer) lines a person can read."""
    form = step.form_class(intake=None, initial=data)
    lines: list[tuple[str, str]] = []
    for name, field in form.fields.items():
        if name not in data or name in {"card", "signature"}:
            continue
        lines.append((str(field.label or name), _display(field, data[name])))
    if step.slug == "safety":
        medications = data.get("medications") or []
        allergies = data.get("allergies") or []
        lines.append(
            (
                "Medicines",
                "; ".join(
                    " ".join(filter(None, [m["name"], m.get("dose"), m.get("frequency")]))
                    for m in medications
                )
                or "None",
            )
        )
        lines.append(
            (
                "Allergies",
                "; ".join(
                    f"{a['substance']} ({a['reaction']})" if a.get("reaction") else a["substance"]
                    for a in allergies
                )
                or "None",
            )
        )
    if step.slug == "measurements":
        lines = [
            ("Weight", f"{data['weight']} {data['weight_unit']} ({data['weight_kg']} kg)"),
            ("Height", f"{data['height_cm']} cm"),
        ]
    if step.slug == "consents":
        lines.append(("Signed as", str(data.get("signature", ""))))
    return lines


def _display(field: django_forms.Field, value: Any) -> str:
    if value in (None, "", []):
        return "—"
    choices = dict((str(k), v) for k, v in getattr(field, "choices", []) or [])
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(choices.get(str(item), item)) for item in value) or "—"
    if choices:
        return str(choices.get(str(value), value))
    return str(value)


@patient_only
def review(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    intake = _own_intake(request, public_id)
    audit.record(request, "read", "intake", intake.public_id, intake.patient_id, "review page")
    answers = services.answers_by_step(intake)
    missing = services.missing_steps(answers)
    sections = [
        {
            "step": s,
            "number": n,
            "url": _step_url(intake, s) + "?from=review",
            "lines": describe(s, answers[s.slug].data)
            if s.slug in answers and answers[s.slug].completed_at
            else None,
        }
        for n, s in enumerate(STEPS, start=1)
    ]
    card = intake.attachments.filter(kind="insurance_card").first()
    return render(
        request,
        "intake/review.html",
        {
            "intake": intake,
            "sections": sections,
            "missing": missing,
            "card": card,
            "show_crisis": _self_harm_answered(answers),
        },
    )


@patient_only
@require_POST
def submit(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    intake = _own_intake(request, public_id)
    audit.record(request, "update", "intake", intake.public_id, intake.patient_id, "submit")
    try:
        intake = services.submit(intake)
    except services.IncompleteIntake as error:
        messages.error(request, f"A few steps still need answers: {error}.")
        return redirect("intake:review", public_id=intake.public_id)
    except services.NotADraft:
        messages.info(request, "This intake was already submitted.")
    return redirect("intake:submitted", public_id=intake.public_id)


@patient_only
def submitted(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    intake = _own_intake(request, public_id)
    if intake.is_draft:
        return redirect("intake:review", public_id=intake.public_id)
    return render(request, "intake/submitted.html", {"intake": intake})


@role_required(Role.FRONT_DESK, Role.CLINICIAN)  # type: ignore[arg-type]  # a FileResponse
@require_safe
def insurance_card(request: AuthenticatedRequest, public_id: UUID) -> HttpResponseBase:
    """The insurance card of a submitted intake, for the front desk (who bill) and clinicians.

    Always a download, with the type found in its bytes and nosniff, so no browser renders an
    upload as a page of this site; every download is audited."""
    card = services.insurance_card(public_id)
    if card is None:
        raise Http404
    try:
        content = card.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit.record(request, "read", "insurance_card", card.intake.public_id, card.intake.patient_id)
    response = FileResponse(
        content,
        as_attachment=True,
        filename=f"insurance-card.{card.extension}",
        content_type=card.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
