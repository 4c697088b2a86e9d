"""The clinician's note of a visit (docs/visits.md#the-visit-note): written, signed once, then
locked by PostgreSQL; corrections are addenda."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from charting.models import VisitNote, VisitNoteAddendum
from scheduling import visits
from scheduling.models import VISIT_UPCOMING_STATUSES, Visit, VisitStatus


class NoteRefused(Exception):
    """The note cannot be written or signed as asked; the message says why."""


@transaction.atomic
def save_note(
    visit: Visit, author: User, *, findings: str, decision: str, plan_text: str = ""
) -> VisitNote:
    """Write or rewrite the unsigned note of a visit."""
    if visit.status in (VisitStatus.CANCELLED, VisitStatus.NO_SHOW):
        raise NoteRefused("This visit did not take place; there is nothing to note.")
    note = VisitNote.objects.select_for_update().filter(visit=visit).first()
    if note is not None and note.is_signed:
        raise NoteRefused("The note is signed; add an addendum instead.")
    if note is None:
        note = VisitNote(visit=visit)
    note.author = author
    note.findings = findings
    note.decision = decision
    note.plan_text = plan_text
    note.written_at = timezone.now()
    note.save()
    return note


@transaction.atomic
def sign_note(note: VisitNote, author: User) -> VisitNote:
    """Sign the note (its author only); the visit is then held, if it was not marked yet."""
    note = VisitNote.objects.select_for_update().select_related("visit").get(pk=note.pk)
    if note.is_signed:
        raise NoteRefused("The note is already signed.")
    if note.author_id != author.pk:
        raise NoteRefused("Only the note's author signs it.")
    if note.visit.status in VISIT_UPCOMING_STATUSES:
        visits.set_outcome(note.visit, VisitStatus.HELD)
    note.signed_at = timezone.now()
    note.save(update_fields=["signed_at"])
    return note


def add_addendum(note: VisitNote, author: User, *, reason: str, text: str) -> VisitNoteAddendum:
    if not note.is_signed:
        raise NoteRefused("Change the note itself until it is signed.")
    if not reason.strip() or not text.strip():
        raise NoteRefused("An addendum says what and why.")
    return VisitNoteAddendum.objects.create(
        note=note, written_by=author, reason=reason.strip()[:200], text=text.strip()
    )
