"""Whether a patient's evaluation visit is booked or held, for the review queue and the approval
rule (docs/visits.md#evaluation-and-approval).

Visits are scheduling's, which sits above review: scheduling registers its reader here at
start-up (`SchedulingConfig.ready`), as messaging registers its planner with scheduling. A read
before any registration is a configuration error, never a silent "no evaluation": a location
that requires one would otherwise approve without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import ImproperlyConfigured

NONE = "none"
BOOKED = "booked"
HELD = "held"
LABELS = {NONE: "Not booked", BOOKED: "Booked", HELD: "Held"}

Reader = Callable[[Iterable[int]], dict[int, str]]
_reader: Reader | None = None


def register_reader(reader: Reader) -> None:
    """Called once from SchedulingConfig.ready; the last registration wins."""
    global _reader
    _reader = reader


def states(patient_ids: Iterable[int]) -> dict[int, str]:
    """Each patient's evaluation: NONE, BOOKED (one still ahead) or HELD; one query."""
    if _reader is None:
        raise ImproperlyConfigured("No evaluation reader is registered: add the scheduling app.")
    ids = list(patient_ids)
    found = _reader(ids)
    return {pk: found.get(pk, NONE) for pk in ids}
