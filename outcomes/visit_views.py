"""The clinician's page of a visit (docs/visits.md#the-visit-note): the note, signed and locked
with its addenda; at a follow-up, the response so far (pain, PHQ-9, PEG and side effects by
session, from outcomes) and the plan's revision."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import role_required
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from audit import services as audit
from charting import visit_notes
from charting.models import Observation, VisitNote
from outcomes import reports
from outcomes.visit_forms import AddendumForm, NoteForm, RevisionForm
from review import services as review
from review.models import TreatmentPlan
from scheduling.models import Visit, VisitKind


def side_effects_by_session(patient: Any) -> list[dict[str, Any]]:
    """Each completed infusion's side effects, as the nurse charted them; one query."""
    found: dict[int, list[str]] = defaultdict(list)
    numbers: dict[int, int] = {}
    rows = Observation.objects.filter(
        record__session__patient=patient, kind=Observation.Kind.SIDE_EFFECT
    ).select_related("record__session")
    for row in rows:
        session = row.record.session
        numbers[session.pk] = session.number
        found[session.pk].append(row.label)
    return [
        {"number": numbers[pk], "effects": sorted(set(labels))}
        for pk, labels in sorted(found.items(), key=lambda item: numbers[item[0]])
    ]


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def visit_note(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    visit = get_object_or_404(
        Visit.objects.select_related("patient", "clinician", "location"), public_id=public_id
    )
    note = VisitNote.objects.filter(visit=visit).first()
    plan = TreatmentPlan.objects.active().filter(patient=visit.patient).first()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    note_form = NoteForm(
        request.POST if action in ("save", "sign") else None,
        initial={"findings": note.findings, "decision": note.decision, "plan_text": note.plan_text}
        if note
        else None,
    )
    addendum_form = AddendumForm(request.POST if action == "addendum" else None)
    revision_form = RevisionForm(
        request.POST if action == "revise" else None,
        instance=plan,
        initial={"reason": ""},
    )
    if request.method == "POST":
        try:
            if action in ("save", "sign") and note_form.is_valid():
                note = visit_notes.save_note(visit, request.user, **note_form.cleaned_data)
                if action == "sign":
                    visit_notes.sign_note(note, request.user)
                audit.record(request, action, "visit_note", visit.public_id, visit.patient_id)
                messages.success(request, "Note signed." if action == "sign" else "Note saved.")
                return redirect("outcomes:visit_note", public_id=visit.public_id)
            if action == "addendum" and note is not None and addendum_form.is_valid():
                visit_notes.add_addendum(note, request.user, **addendum_form.cleaned_data)
                audit.record(request, "addendum", "visit_note", visit.public_id, visit.patient_id)
                messages.success(request, "Addendum added.")
                return redirect("outcomes:visit_note", public_id=visit.public_id)
            if action == "revise" and plan is not None and revision_form.is_valid():
                data = dict(revision_form.cleaned_data)
                reason = data.pop("reason")
                revised = review.revise_plan(plan, request.user, data, reason=reason)
                audit.record(
                    request,
                    "revise",
                    "treatment_plan",
                    revised.public_id,
                    visit.patient_id,
                    f"version {revised.version} replaces {plan.public_id}",
                )
                messages.success(request, f"Plan revised: version {revised.version}.")
                return redirect("outcomes:visit_note", public_id=visit.public_id)
        except (visit_notes.NoteRefused, review.RevisionRefused) as error:
            messages.error(request, str(error))
    else:
        audit.record(request, "read", "visit_note", visit.public_id, visit.patient_id)
    follow_up = visit.kind == VisitKind.FOLLOW_UP
    context: dict[str, Any] = {
        "visit": visit,
        "note": note,
        "addenda": list(note.addenda.select_related("written_by")) if note else [],
        "note_form": note_form,
        "addendum_form": addendum_form,
        "revision_form": revision_form if follow_up and plan is not None else None,
        "plan": plan,
        "follow_up": follow_up,
    }
    if follow_up:
        context["outcomes"] = reports.patient_outcomes(visit.patient)
        context["side_effects"] = side_effects_by_session(visit.patient)
    return render(request, "outcomes/visit_note.html", context)
