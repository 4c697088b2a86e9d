"""Intake workflows: drafts saved step by step, submission that scores and freezes a version."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from accounts import language as languages
from accounts.models import PatientProfile, User
from intake import answers as people
from intake import cards, notifications, scoring
from intake.flags import Thresholds, derive_flags
from intake.models import ConsentText, Intake, IntakeAnswer, IntakeAttachment, UrgentFlag
from intake.steps import Step, steps_for
from locations.models import Location
from worklist import services as worklist
from worklist.models import Cause


class IntakeError(Exception):
    pass


class NotADraft(IntakeError):
    """The intake was submitted (perhaps in another tab); its answers cannot change any more."""


class NotEditable(IntakeError):
    """The latest version is with the clinic and nobody asked for a change."""


class IncompleteIntake(IntakeError):
    def __init__(self, missing: list[Step]) -> None:
        self.missing = missing
        super().__init__(", ".join(str(step.title) for step in missing))


# After these decisions a patient may start a new version (a repeat intake after a course).
EDITABLE_AFTER = {Intake.Status.MORE_INFO, Intake.Status.APPROVED, Intake.Status.DECLINED}


def current_draft(patient: User) -> Intake | None:
    return Intake.objects.drafts().filter(patient=patient).first()


@transaction.atomic
def start_draft(patient: User) -> Intake:
    """The patient's open draft, or a new version that starts from the latest answers.

    Starting again after a submission copies the previous answers, so a change is a new version
    while the submitted one stays as it was. The new version asks the current form: an answer
    whose step asks the same instrument version is carried forward as it was; one whose
    questions changed is carried forward unfinished, as the starting point of that step.
    """
    # The patient row serialises concurrent starts (two tabs): one draft per patient.
    User.objects.select_for_update().get(pk=patient.pk)
    draft = current_draft(patient)
    if draft is not None:
        return draft
    latest = Intake.objects.latest_for(patient)
    if latest is not None and latest.status not in EDITABLE_AFTER:
        raise NotEditable
    intake = Intake.objects.create(
        patient=patient,
        version=(latest.version + 1) if latest else 1,
        previous=latest,
        location=latest.location if latest else _profile_location(patient),
    )
    if latest is not None:
        # Steps the clinician reopened keep their answers but must be confirmed again.
        reopened = set(latest.reopened_steps)
        asked = {
            step.slug: (step.instrument, step.instrument_version) for step in steps_for(intake)
        }
        IntakeAnswer.objects.bulk_create(
            IntakeAnswer(
                intake=intake,
                step=answer.step,
                instrument=answer.instrument,
                instrument_version=answer.instrument_version,
                language=answer.language,
                data=answer.data,
                completed_at=None
                if answer.step in reopened
                or asked.get(answer.step) != (answer.instrument, answer.instrument_version)
                else answer.completed_at,
            )
            for answer in latest.answers.all()
        )
    return intake


def _profile_location(patient: User) -> Location | None:
    profile = PatientProfile.objects.filter(user=patient).select_related("preferred_location")
    first = profile.first()
    return first.preferred_location if first else None


def _locked_draft(intake: Intake) -> Intake:
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    if not locked.is_draft:
        raise NotADraft
    return locked


def _lock_draft(intake: Intake) -> None:
    """Lock the intake's row and check it is still a draft, reading nothing else: the steps that
    also change the intake need the lock (it orders them against a submit), not the row."""
    rows = Intake.objects.select_for_update().filter(pk=intake.pk, status=Intake.Status.DRAFT)
    if not rows.values_list("pk", flat=True):
        raise NotADraft


@transaction.atomic
def save_step(
    intake: Intake,
    step: Step,
    data: dict[str, Any],
    *,
    card: cards.Card | None = None,
    clear_card: bool = False,
    ip: str | None = None,
) -> None:
    """Store a valid step's answers (`data`, the step form's `answers()`) as finished; some
    steps also update the intake or attach a file: the insurance step's checked `card` replaces
    the one on file, `clear_card` removes it (the form's `attachments()` gives both).

    Every save takes the intake's row lock first, in one transaction: it orders the save against
    a submit from another tab (which takes the same lock, then scores) and against the same step
    saved from two tabs. The answers trigger (migrations 0003 and 0007) stays as a guard: it
    refuses any write to a version that is no longer a draft, whatever path it comes by.
    """
    _lock_draft(intake)
    if step.slug == "about":
        intake.location = Location.objects.filter(slug=data["preferred_location"]).first()
        intake.save(update_fields=["location", "updated_at"])
    elif step.slug == "insurance":
        _store_card(intake, card, clear=clear_card)
    elif step.slug == "consents":
        data = _with_signature_record(intake, data, ip)
    _write_answer(intake, step, data=data, raw={}, completed_at=timezone.now())


@transaction.atomic
def save_unfinished(intake: Intake, step: Step, raw: dict[str, list[str]]) -> None:
    """Keep what the patient typed when it did not validate, so leaving loses nothing.

    The step's last valid answers stay in `data`; only `raw` and the finished mark change. It
    locks like a valid save, in the same order (the intake, then the answer)."""
    _lock_draft(intake)
    _write_answer(intake, step, raw=raw, completed_at=None)


def _write_answer(intake: Intake, step: Step, **values: Any) -> None:
    """Update the step's row, or create it the first time; only the given fields change."""
    values.update(
        instrument=step.instrument,
        instrument_version=step.instrument_version,
        language=answer_language(),
        updated_at=timezone.now(),
    )
    if not IntakeAnswer.objects.filter(intake=intake, step=step.slug).update(**values):
        IntakeAnswer.objects.create(intake=intake, step=step.slug, **values)


def _store_card(intake: Intake, card: cards.Card | None, *, clear: bool) -> None:
    existing = IntakeAttachment.objects.filter(
        intake=intake, kind=IntakeAttachment.Kind.INSURANCE_CARD
    )
    if clear or card is not None:
        # Cleared, or replaced: the old file goes with its row, once the row's removal is
        # committed, so a step that fails after this point still has the card it had.
        for attachment in existing:
            if attachment.file.name:
                transaction.on_commit(partial(attachment.file.storage.delete, attachment.file.name))
        existing.delete()
    if card is not None:
        # The checked bytes (an image re-encoded), never the upload itself.
        IntakeAttachment.objects.create(
            intake=intake,
            kind=IntakeAttachment.Kind.INSURANCE_CARD,
            content_type=card.content_type,
            file=ContentFile(card.content, name=f"card.{card.extension}"),
            size=len(card.content),
        )


def insurance_card(public_id: UUID, seen: Q | None = None) -> IntakeAttachment | None:
    """The insurance card on file with a submitted intake version, for staff to open; a draft's
    card is the patient's own until it is submitted. `seen` narrows it to the patients a
    reader sees (intake.access.get_insurance_card_for)."""
    return (
        IntakeAttachment.objects.select_related("intake")
        .filter(seen or Q(), intake__public_id=public_id, kind=IntakeAttachment.Kind.INSURANCE_CARD)
        .exclude(intake__status=Intake.Status.DRAFT)
        .first()
    )


def current_consent_texts(language: str | None = None) -> dict[str, ConsentText]:
    """The newest published text of each kind in the language the patient reads (by default the
    active one), or in English where that language has no version of it yet."""
    language = answer_language(language)
    newest: dict[tuple[str, str], ConsentText] = {}
    for text in ConsentText.objects.filter(published_at__lte=timezone.now()):
        newest.setdefault((text.kind, text.language), text)  # ordered newest first per kind
    kinds = {kind for kind, _ in newest}
    return {
        kind: newest.get((kind, language)) or newest[(kind, settings.LANGUAGE_CODE)]
        for kind in sorted(kinds)
        if (kind, language) in newest or (kind, settings.LANGUAGE_CODE) in newest
    }


def answer_language(language: str | None = None) -> str:
    """The language answers are being given in: the active one if the site is translated into
    it, else the site's default."""
    return languages.or_default(language or translation.get_language())


def _with_signature_record(intake: Intake, data: dict[str, Any], ip: str | None) -> dict[str, Any]:
    now = timezone.now()
    texts = current_consent_texts()
    previous = intake.answers.filter(step="consents").values_list("data", flat=True).first() or {}
    record = {
        **data,
        "signed_at": now.isoformat(),
        "ip": ip,
        "consent_versions": {kind: text.version for kind, text in texts.items()},
        # The language of each text read and signed (Spanish, or English where no Spanish yet).
        "consent_languages": {kind: text.language for kind, text in texts.items()},
    }
    if data.get("sms_reminders"):
        # Consent keeps its first timestamp while the patient keeps saying yes.
        record["sms_consent_at"] = previous.get("sms_consent_at") or now.isoformat()
    else:
        record["sms_consent_at"] = None
    return record


def answers_by_step(intake: Intake) -> dict[str, IntakeAnswer]:
    return {answer.step: answer for answer in intake.answers.all()}


def missing_steps(answers: dict[str, IntakeAnswer], intake: Intake | None = None) -> list[Step]:
    """The intake's steps not finished on the instrument version its form asks."""
    return [
        step
        for step in steps_for(intake)
        if step.slug not in answers
        or not answers[step.slug].completed_at
        or answers[step.slug].instrument_version != step.instrument_version
    ]


def compute_scores(data: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every score (docs/product-rules.md#scores) from the answers of a complete intake."""
    fibro, pain, mood = data["fibromyalgia"], data["pain"], data["mood"]
    acr = scoring.acr_2016(
        fibro["painful_areas"],
        {item.code: fibro[item.code] for item in scoring.SYMPTOM_SEVERITY_ITEMS},
        {item.code: fibro[item.code] for item in scoring.SOMATIC_SYMPTOM_ITEMS},
        # ACR 2016 asks for symptoms at a similar level for 3 months. Form 2 asks it once, in
        # step 3's duration; form 1 asked it again in step 4, and both answers must agree.
        symptoms_3_months=bool(fibro.get("symptoms_3_months", True))
        and bool(data["reason"]["pain_3_months_or_more"]),
    )
    phq9 = scoring.phq9([mood[f"phq9_{n}"] for n in range(1, 10)])
    gad7 = scoring.gad7([mood[f"gad7_{n}"] for n in range(1, 8)])
    peg = scoring.peg(pain["pain_average"], pain["peg_enjoyment"], pain["peg_activity"])
    measurements = data["measurements"]
    return {
        "acr_2016": {
            "wpi": acr.wpi,
            "sss": acr.sss,
            "regions_with_pain": list(acr.regions_with_pain),
            "generalized_pain": acr.generalized_pain,
            "severity_threshold_met": acr.severity_threshold_met,
            "duration_met": acr.duration_met,
            "criteria_met": acr.criteria_met,
            "polysymptomatic_distress": acr.polysymptomatic_distress,
        },
        "phq9": {
            "total": phq9.total,
            "band": phq9.band.value,
            "item9": phq9.items[8],
            "self_harm_flag": phq9.self_harm_flag,
        },
        "gad7": {"total": gad7.total, "band": gad7.band.value},
        "peg": str(peg),
        "pain": {key: pain[key] for key in ("pain_now", "pain_average", "pain_worst")},
        "measurements": {
            "weight_kg": str(measurements["weight_kg"]),
            "height_cm": str(measurements["height_cm"]),
            "bmi": str(measurements["bmi"]),
        },
    }


@transaction.atomic
def submit(intake: Intake) -> Intake:
    """Freeze the draft: score it, mark it submitted and carry contact details to the profile."""
    intake = _locked_draft(intake)
    answers = answers_by_step(intake)
    missing = missing_steps(answers, intake)
    if missing:
        raise IncompleteIntake(missing)
    data = {slug: answer.data for slug, answer in answers.items()}
    scores = compute_scores(data)
    intake.scores = scores
    intake.flags = [flag.as_dict() for flag in derive_flags(data, scores, _thresholds(intake))]
    intake.answer_lines = people.in_words(steps_for(intake), data)
    intake.urgent = scores["phq9"]["self_harm_flag"]
    intake.status = Intake.Status.SUBMITTED
    intake.submitted_at = timezone.now()
    intake.save(
        update_fields=[
            "scores",
            "flags",
            "answer_lines",
            "urgent",
            "status",
            "submitted_at",
            "updated_at",
        ]
    )
    _update_profile(intake, data)
    if intake.urgent:
        flag = UrgentFlag.objects.create(
            intake=intake, patient=intake.patient, location=intake.location
        )
        notifications.plan_notice(flag)
        _open_flag_task(flag)
    return intake


def flag_task_about(flag_pk: int) -> str:
    """What the worklist task of an urgent flag is about (`submit` opens it,
    `review.services.acknowledge` closes it)."""
    return f"flag:{flag_pk}"


def _open_flag_task(flag: UrgentFlag) -> None:
    """In the transaction that raises the flag: the task exists exactly when the flag does."""
    worklist.open_task(
        Cause.URGENT_FLAG,
        flag_task_about(flag.pk),
        subject=flag.patient.get_full_name() or "A patient",
        detail=(
            "PHQ-9 item 9 above 0 in a submitted intake. Acknowledge the flag on the intake "
            "summary, with its own note (that closes this task too); closing this task does not "
            "acknowledge it."
        ),
        link=reverse("review:summary", args=[flag.intake.public_id]),
        location_pk=flag.location_id,
        urgent=True,
    )


def _thresholds(intake: Intake) -> Thresholds:
    location = intake.location
    if location is None:
        return Thresholds()
    return Thresholds(systolic=location.flag_systolic_at, diastolic=location.flag_diastolic_at)


def _update_profile(intake: Intake, data: dict[str, dict[str, Any]]) -> None:
    about, consents = data["about"], data["consents"]
    sms_consent_at = consents.get("sms_consent_at")
    PatientProfile.objects.update_or_create(
        user=intake.patient,
        defaults={
            "date_of_birth": dt.date.fromisoformat(str(about["date_of_birth"])),
            "preferred_name": about.get("preferred_name", ""),
            "mobile_phone": about["mobile_phone"],
            "preferred_location": intake.location,
            "preferred_language": about.get("preferred_language", ""),
            "email_reminders": bool(consents.get("email_reminders")),
            "sms_reminders": bool(consents.get("sms_reminders")),
            "sms_consent_at": dt.datetime.fromisoformat(sms_consent_at) if sms_consent_at else None,
        },
    )
    patient = intake.patient
    patient.first_name = about["legal_first_name"]
    patient.last_name = about["legal_last_name"]
    patient.save(update_fields=["first_name", "last_name"])
