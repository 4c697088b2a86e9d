"""The code systems and codes the API speaks: LOINC for instruments, scores and vital signs, UCUM
for units, HL7's own systems for categories and place types.

Sources: LOINC (loinc.org) panels and items of PHQ-9 (44249-1), GAD-7 (69737-5) and PEG (91148-7);
the FHIR R4 vital signs profile (hl7.org/fhir/R4/observation-vitalsigns.html) for the vital-sign
codes and their UCUM units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
BIRTH_SEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"
TIME_ZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"

# Instruments (panels)
PHQ9_PANEL = "44249-1"
GAD7_PANEL = "69737-5"
PEG_PANEL = "91148-7"

# Scores
PHQ9_TOTAL = "44261-6"
PHQ9_ITEM9 = "44260-8"
GAD7_TOTAL = "70274-6"
PEG_SCORE = "91147-9"
PAIN_0_10 = "38208-5"

# Items, in the order the forms print them.
PHQ9_ITEMS = (
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    PHQ9_ITEM9,
)
GAD7_ITEMS = ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7")
PEG_ITEMS = ("75893-8", "91145-3", "91146-1")
# LOINC's answer list for "over the last 2 weeks" (PHQ-9 and GAD-7), by score 0-3.
FREQUENCY_ANSWERS = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")

# Vital signs
BLOOD_PRESSURE_PANEL = "85354-9"
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
HEART_RATE = "8867-4"
OXYGEN_SATURATION = "59408-5"
OXYGEN_SATURATION_ARTERIAL = "2708-6"
RESPIRATORY_RATE = "9279-1"
BODY_WEIGHT = "29463-7"

DISPLAY = {
    PHQ9_PANEL: "PHQ-9 quick depression assessment panel",
    GAD7_PANEL: "Generalized anxiety disorder 7 item (GAD-7)",
    PEG_PANEL: "Pain, Enjoyment of Life and General Activity (PEG) [Reported]",
    PHQ9_TOTAL: "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    PHQ9_ITEM9: "Thoughts that you would be better off dead, or of hurting yourself in some way",
    GAD7_TOTAL: "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
    PEG_SCORE: "Pain, Enjoyment of Life and General Activity (PEG) score [Reported]",
    PAIN_0_10: "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
    BLOOD_PRESSURE_PANEL: "Blood pressure panel with all children optional",
    SYSTOLIC: "Systolic blood pressure",
    DIASTOLIC: "Diastolic blood pressure",
    HEART_RATE: "Heart rate",
    OXYGEN_SATURATION: "Oxygen saturation in Arterial blood by Pulse oximetry",
    OXYGEN_SATURATION_ARTERIAL: "Oxygen saturation in Arterial blood",
    RESPIRATORY_RATE: "Respiratory rate",
    BODY_WEIGHT: "Body weight",
}


def loinc(*codes: str, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of LOINC codings (the first is the one the resource is about)."""
    concept: dict[str, Any] = {
        "coding": [{"system": LOINC, "code": code, "display": DISPLAY[code]} for code in codes]
    }
    if text:
        concept["text"] = text
    return concept


def category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}]


VITAL_SIGNS = category("vital-signs", "Vital Signs")
SURVEY = category("survey", "Survey")


def number(value: Decimal | int | str) -> int | float:
    """A JSON number: FHIR decimals are numbers, never the strings Django's encoder makes."""
    exact = Decimal(value)
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def quantity(value: Decimal | int | str, unit: str, code: str) -> dict[str, Any]:
    """A UCUM Quantity."""
    return {"value": number(value), "unit": unit, "system": UCUM, "code": code}


def score(value: Decimal | int | str) -> dict[str, Any]:
    return quantity(value, "{score}", "{score}")
