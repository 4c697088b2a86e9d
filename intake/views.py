from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST, require_safe

from accounts import language
from accounts.access import role_required
from accounts.models import PatientProfile, Role
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from clinic.querystrings import query_form, read_query
from intake import answers as people
from intake import scoring, services
from intake.access import get_insurance_card_for, get_intake_for
from intake.forms import MoodForm, SafetyForm, StepForm, StepQuery
from intake.models import Intake, IntakeAnswer, UrgentFlag
from intake.steps import (
    STEP_BY_SLUG,
    STEP_NUMBER,
    Step,
    next_step,
    previous_step,
    step_for,
    steps_for,
)

patient_only = role_required(Role.PATIENT)


def _step_url(intake: Intake, step: Step) -> str:
    return reverse("intake:step", args=[intake.public_id, step.slug])


def _resume_url(intake: Intake, answers: dict[str, IntakeAnswer]) -> str:
    missing = services.missing_steps(answers, intake)
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


def home_status(patient: Any) -> dict[str, Any]:
    """The intake's part of the patient's home page (rendered by templates/intake/_status.html).

    The home page itself is scheduling.views.patient.home, which adds the appointments: intake
    sits below scheduling and knows nothing of it."""
    intakes = list(Intake.objects.filter(patient=patient).order_by("-version")[:2])
    latest = intakes[0] if intakes else None
    steps = steps_for(latest)
    context: dict[str, Any] = {
        "intake": latest,
        "steps_total": len(steps),
        "reopened_titles": [
            STEP_BY_SLUG[slug].title for slug in (latest.reopened_steps if latest else [])
        ],
        "urgent_followed_up": _urgent_followed_up(latest),
    }
    if latest is not None and latest.is_draft:
        answers = services.answers_by_step(latest)
        context.update(
            steps_done=len(steps) - len(services.missing_steps(answers, latest)),
            resume_url=_resume_url(latest, answers),
            previous=intakes[1] if len(intakes) > 1 else None,
        )
    return context


@patient_only
@require_POST
def start(request: AuthenticatedRequest) -> HttpResponse:
    try:
        intake = services.start_draft(request.user)
    except services.NotEditable:
        messages.info(
            request, gettext("Your answers are with the clinic; there is nothing to change now.")
        )
        return redirect(request.user.get_home_url())
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


def _registered_birth_date(request: AuthenticatedRequest) -> Any:
    """The date of birth typed at registration (on the profile). Read on every visit of step 1,
    answered or not, so the page costs the same queries whatever it holds."""
    return (
        PatientProfile.objects.filter(user=request.user)
        .values_list("date_of_birth", flat=True)
        .first()
    )


def _initial(step: Step, request: AuthenticatedRequest, birth_date: Any = None) -> dict[str, Any]:
    """Sensible first answers: what the account already knows."""
    user = request.user
    if step.slug == "about":
        return {
            "legal_first_name": user.first_name,
            "legal_last_name": user.last_name,
            "email": user.email,
            "date_of_birth": birth_date,
            # The language they are reading in (a patient may change it on this step).
            "preferred_language": services.answer_language(),
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
    intake = get_intake_for(request, public_id)
    current = step_for(intake, slug)  # the question set of the form the intake started on
    if current is None:
        raise Http404
    if not intake.is_draft:
        messages.info(
            request, gettext("This intake has been submitted; its answers can no longer change.")
        )
        return redirect(request.user.get_home_url())

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
                services.save_step(
                    intake,
                    current,
                    form.answers(),
                    ip=request.META.get("REMOTE_ADDR"),
                    **form.attachments(),
                )
                if action == "more_rows":
                    form = _bind(current, intake, None, None, kwargs, extra_rows, form.answers())
                else:
                    return redirect(_after_save(intake, current, action, from_review))
            else:
                services.save_unfinished(intake, current, _raw_post(request))
                if action == "back" and (previous := previous_step(current, steps_for(intake))):
                    messages.warning(
                        request,
                        gettext(
                            "What you typed on “%(step)s” is kept; it still needs a few "
                            "corrections before you can submit."
                        )
                        % {"step": current.title},
                    )
                    return redirect(_step_url(intake, previous))
        except services.NotADraft:
            messages.info(
                request, gettext("This intake was already submitted; nothing was changed.")
            )
            return redirect(request.user.get_home_url())
        status = 200
    else:
        from_review = read_query(request, StepQuery)["from"] == "review"
        answer = answers.get(slug)
        birth_date = _registered_birth_date(request) if slug == "about" else None
        if answer is not None and answer.raw and not answer.completed_at:
            form = _bind(current, intake, MultiValueDict(answer.raw), None, kwargs, 0)
        else:
            initial = answer.data if answer is not None else _initial(current, request, birth_date)
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
    steps = steps_for(intake)
    if action == "back" and (previous := previous_step(current, steps)):
        return _step_url(intake, previous)
    if from_review or next_step(current, steps) is None:
        return reverse("intake:review", args=[intake.public_id])
    following = next_step(current, steps)
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
    steps = steps_for(intake)
    completed = {slug for slug, answer in answers.items() if answer.completed_at}
    context: dict[str, Any] = {
        "intake": intake,
        "step": current,
        "form": form,
        "number": number,
        "total": len(steps),
        "percent": round(100 * len(completed) / len(steps)),
        "steps": [
            {
                "step": s,
                "number": n,
                "done": s.slug in completed,
                "current": s.slug == current.slug,
                "url": _step_url(intake, s),
            }
            for n, s in enumerate(steps, start=1)
        ],
        "previous": previous_step(current, steps),
        "is_last": next_step(current, steps) is None,
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


@patient_only
def review(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    intake = get_intake_for(request, public_id)
    audit.record(request, "read", "intake", intake.public_id, intake.patient_id, "review page")
    answers = services.answers_by_step(intake)
    missing = services.missing_steps(answers, intake)
    sections = [
        {
            "step": s,
            "number": n,
            "url": _step_url(intake, s) + "?from=review",
            "lines": people.describe(s, answers[s.slug].data)
            if s.slug in answers and s not in missing
            else None,
        }
        for n, s in enumerate(steps_for(intake), start=1)
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
            "card_kind": gettext(people.CARD_KINDS.get(card.content_type, gettext_noop("file")))
            if card
            else "",
            "show_crisis": _self_harm_answered(answers),
        },
    )


@patient_only
@require_POST
def submit(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    intake = get_intake_for(request, public_id)
    audit.record(request, "update", "intake", intake.public_id, intake.patient_id, "submit")
    try:
        intake = services.submit(intake)
    except services.IncompleteIntake as error:
        messages.error(
            request, gettext("A few steps still need answers: %(steps)s.") % {"steps": error}
        )
        return redirect("intake:review", public_id=intake.public_id)
    except services.NotADraft:
        messages.info(request, gettext("This intake was already submitted."))
    else:
        # "Preferred language" on step 1 is now the profile's: the pages follow it from here.
        language.apply_at_sign_in(request, request.user)
    return redirect("intake:submitted", public_id=intake.public_id)


@patient_only
def submitted(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    intake = get_intake_for(request, public_id)
    if intake.is_draft:
        return redirect("intake:review", public_id=intake.public_id)
    return render(
        request,
        "intake/submitted.html",
        {"intake": intake, "urgent_followed_up": _urgent_followed_up(intake)},
    )


def _urgent_followed_up(intake: Intake | None) -> bool:
    """A clinician has acknowledged the intake's urgent flag: the crisis box says so."""
    if intake is None or not intake.urgent:
        return False
    return UrgentFlag.objects.filter(intake=intake, acknowledged_at__isnull=False).exists()


@role_required(Role.FRONT_DESK, Role.CLINICIAN)  # type: ignore[arg-type]  # a FileResponse
@require_safe
def insurance_card(request: AuthenticatedRequest, public_id: UUID) -> HttpResponseBase:
    """The insurance card of a submitted intake, for the front desk (who bill) and clinicians.

    Always a download, with the type found in its bytes and nosniff, so no browser renders an
    upload as a page of this site; every download is audited."""
    card = get_insurance_card_for(request, public_id)
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
