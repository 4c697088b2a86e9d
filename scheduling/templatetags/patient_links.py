from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django import template

from scheduling.patient_page import patients_named

register = template.Library()


@register.simple_tag
def with_patients(rows: Sequence[tuple[Any, Any]]) -> list[tuple[Any, Any, UUID | None]]:
    """The worklist's (task, location) rows with the public id of the patient each task names,
    read for the whole list at once (scheduling.patient_page.patients_named)."""
    named = patients_named(task for task, _ in rows)
    return [(task, location, named.get(task.pk)) for task, location in rows]
