"""Diagnosis codes (ICD-10-CM) an estimate and a superbill print, suggested from the indication.

The intake asks for the reason for care in its own words (intake.vocabulary.INDICATIONS); the
clinician approving a plan gets these codes suggested and edits them on the plan's diagnosis
page (docs/paperwork.md#diagnosis-codes). The descriptions are the clinic's, short and plain;
they are not the classification's titles.
"""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

# code -> the clinic's description
CODES: dict[str, StrOrPromise] = {
    "M79.7": _("Fibromyalgia"),
    "G89.29": _("Other long-lasting pain"),
    "G89.4": _("Chronic pain syndrome"),
    "F32.9": _("Depression, single episode, severity not stated"),
    "F33.9": _("Recurrent depression, severity not stated"),
    "F41.1": _("Generalised anxiety"),
    "F41.9": _("Anxiety, not stated further"),
    "F43.10": _("Post-traumatic stress disorder, not stated further"),
    "F43.12": _("Post-traumatic stress disorder, long-lasting"),
}

# indication (intake.vocabulary.INDICATIONS) -> the codes suggested, the first the primary
SUGGESTED: dict[str, tuple[str, ...]] = {
    "fibromyalgia": ("M79.7",),
    "chronic_pain": ("G89.29",),
    "depression": ("F32.9",),
    "anxiety": ("F41.1",),
    "ptsd": ("F43.10",),
    "other": (),
}

# The shape of an ICD-10-CM code: a letter, two characters, then up to four after a dot.
ICD10_SHAPE = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")


def english(code: str) -> str:
    with translation.override("en"):
        return str(CODES.get(code, ""))


def shown(code: str, description: str) -> StrOrPromise:
    """A shipped code's description in the reader's language when it was kept as shipped (the
    stored text is English); a clinician's own words as written."""
    if code in CODES and description == english(code):
        return CODES[code]
    return description


def suggested_for(indications: list[str] | str) -> list[tuple[str, str]]:
    """(code, description in English) suggested for the indications, in order, each code
    once."""
    if isinstance(indications, str):
        indications = [part.strip() for part in indications.split(",") if part.strip()]
    found: list[tuple[str, str]] = []
    for indication in indications:
        for code in SUGGESTED.get(indication, ()):
            if code not in {c for c, _d in found}:
                found.append((code, english(code)))
    return found


def description_of(code: str) -> str:
    return english(code)
