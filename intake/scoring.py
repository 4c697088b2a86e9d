"""Clinical scoring for the intake and for outcomes.

ACR 2016 fibromyalgia criteria, PHQ-9, GAD-7, PEG, pain response and body measurements, as pure
functions over plain values: forms, clinician summaries and outcome reports all call the same code,
and every rule can be tested exhaustively without a database. Each result is a screening aid for a
clinician, never a diagnosis.

Invalid input (an unknown code, a missing answer, a value out of range, a non-number) raises
``ValueError`` with a message that can be shown to the patient next to the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import TypeAlias

# Marks the wording patients see for translation; the values stay plain English strings (the
# scores, FHIR and the clinician's summary use them as they are). Forms translate them when shown.
from django.utils.translation import gettext_noop

Number: TypeAlias = int | float | Decimal

_TENTH = Decimal("0.1")


# --- ACR 2016 fibromyalgia criteria ---------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """One of the five body regions used by the ACR 2016 generalized-pain test."""

    code: str
    label: str


@dataclass(frozen=True)
class PainArea:
    """One of the 19 areas of the Widespread Pain Index (WPI), each worth one point."""

    code: str
    label: str
    region: str
    counts_for_generalized_pain: bool = True


@dataclass(frozen=True)
class SymptomItem:
    """One item of the ACR 2016 Symptom Severity Scale (SSS)."""

    code: str
    label: str


REGIONS: tuple[Region, ...] = (
    Region("left_upper", gettext_noop("Left upper region")),
    Region("right_upper", gettext_noop("Right upper region")),
    Region("left_lower", gettext_noop("Left lower region")),
    Region("right_lower", gettext_noop("Right lower region")),
    Region("axial", gettext_noop("Axial region")),
)

# Left and right are the patient's own sides, as on the ACR form: a body map drawn facing the
# viewer must mirror them. Jaw, chest and abdomen score in the WPI but, by the 2016 revision, do
# not make their region "painful" for the generalized-pain test.
WPI_AREAS: tuple[PainArea, ...] = (
    PainArea("left_jaw", gettext_noop("Left jaw"), "left_upper", counts_for_generalized_pain=False),
    PainArea("left_shoulder_girdle", gettext_noop("Left shoulder girdle"), "left_upper"),
    PainArea("left_upper_arm", gettext_noop("Left upper arm"), "left_upper"),
    PainArea("left_lower_arm", gettext_noop("Left lower arm"), "left_upper"),
    PainArea(
        "right_jaw", gettext_noop("Right jaw"), "right_upper", counts_for_generalized_pain=False
    ),
    PainArea("right_shoulder_girdle", gettext_noop("Right shoulder girdle"), "right_upper"),
    PainArea("right_upper_arm", gettext_noop("Right upper arm"), "right_upper"),
    PainArea("right_lower_arm", gettext_noop("Right lower arm"), "right_upper"),
    PainArea("left_hip", gettext_noop("Left hip (buttock, trochanter)"), "left_lower"),
    PainArea("left_upper_leg", gettext_noop("Left upper leg"), "left_lower"),
    PainArea("left_lower_leg", gettext_noop("Left lower leg"), "left_lower"),
    PainArea("right_hip", gettext_noop("Right hip (buttock, trochanter)"), "right_lower"),
    PainArea("right_upper_leg", gettext_noop("Right upper leg"), "right_lower"),
    PainArea("right_lower_leg", gettext_noop("Right lower leg"), "right_lower"),
    PainArea("neck", gettext_noop("Neck"), "axial"),
    PainArea("upper_back", gettext_noop("Upper back"), "axial"),
    PainArea("lower_back", gettext_noop("Lower back"), "axial"),
    PainArea("chest", gettext_noop("Chest"), "axial", counts_for_generalized_pain=False),
    PainArea("abdomen", gettext_noop("Abdomen"), "axial", counts_for_generalized_pain=False),
)

AREAS_BY_CODE: Mapping[str, PainArea] = MappingProxyType({area.code: area for area in WPI_AREAS})
REGIONS_BY_CODE: Mapping[str, Region] = MappingProxyType({r.code: r for r in REGIONS})
GENERALIZED_PAIN_EXCLUDED_AREAS: frozenset[str] = frozenset(
    area.code for area in WPI_AREAS if not area.counts_for_generalized_pain
)

WPI_PROMPT = gettext_noop("Have you had pain or tenderness in this area over the past week?")

SYMPTOM_SEVERITY_PROMPT = gettext_noop(
    "Over the past week, how much of a problem has each of these been for you?"
)
SYMPTOM_SEVERITY_ITEMS: tuple[SymptomItem, ...] = (
    SymptomItem("fatigue", gettext_noop("Fatigue")),
    SymptomItem("waking_unrefreshed", gettext_noop("Waking unrefreshed")),
    SymptomItem(
        "cognitive_symptoms", gettext_noop("Cognitive symptoms (trouble thinking or remembering)")
    ),
)
# Index is the score (0-3).
SYMPTOM_SEVERITY_ANSWERS: tuple[str, ...] = (
    gettext_noop("No problem"),
    gettext_noop("Slight or mild problems, generally mild or intermittent"),
    gettext_noop("Moderate, considerable problems, often present and/or at a moderate level"),
    gettext_noop("Severe: pervasive, continuous, life-disturbing problems"),
)

SOMATIC_SYMPTOM_PROMPT = gettext_noop("During the past 6 months, have you been bothered by:")
SOMATIC_SYMPTOM_ITEMS: tuple[SymptomItem, ...] = (
    SymptomItem("headaches", gettext_noop("Headaches")),
    SymptomItem("lower_abdominal_pain", gettext_noop("Pain or cramps in the lower abdomen")),
    SymptomItem("depression", gettext_noop("Depression")),
)

WPI_MAX = len(WPI_AREAS)
SSS_MAX = 3 * len(SYMPTOM_SEVERITY_ITEMS) + len(SOMATIC_SYMPTOM_ITEMS)


@dataclass(frozen=True)
class AcrResult:
    """The ACR 2016 scores and each criterion separately, so a summary can say which one failed."""

    wpi: int
    sss: int
    regions_with_pain: tuple[str, ...]
    generalized_pain: bool
    severity_threshold_met: bool
    duration_met: bool
    criteria_met: bool
    polysymptomatic_distress: int
    painful_areas: tuple[str, ...]
    symptom_severity_score: int
    somatic_symptom_score: int


def acr_2016(
    painful_areas: Iterable[str],
    severity: Mapping[str, int],
    somatic: Mapping[str, bool | int],
    symptoms_3_months: bool,
) -> AcrResult:
    """Score the ACR 2016 fibromyalgia criteria.

    WPI: one point per painful area in the last week (0-19). SSS: fatigue, waking unrefreshed and
    cognitive symptoms over the last week, each 0-3, plus headaches, lower abdominal pain or cramps
    and depression in the last 6 months, each 0/1 (0-12). The criteria are met when all hold:

    1. WPI >= 7 and SSS >= 5, or WPI 4-6 and SSS >= 9;
    2. generalized pain: pain in at least 4 of the 5 regions, not counting jaw, chest and abdomen
       when deciding whether a region has pain (they still count in the WPI);
    3. symptoms at a similar level for at least 3 months.

    The polysymptomatic distress score is WPI + SSS (0-31). A fibromyalgia diagnosis is valid
    irrespective of other diagnoses, so nothing else is asked here.

    Source: Wolfe F. et al., "2016 Revisions to the 2010/2011 fibromyalgia diagnostic criteria",
    Semin Arthritis Rheum 2016;46:319-329.

    ``painful_areas`` holds codes from ``WPI_AREAS``; repeats count once. ``severity`` and
    ``somatic`` must answer every item of ``SYMPTOM_SEVERITY_ITEMS`` and ``SOMATIC_SYMPTOM_ITEMS``
    by code: an unanswered item is an incomplete form, not a zero.
    """
    areas = _painful_area_codes(painful_areas)
    severity_scores = _answers_by_code(
        severity, SYMPTOM_SEVERITY_ITEMS, "symptom severity", high=3, allow_bool=False
    )
    somatic_scores = _answers_by_code(
        somatic, SOMATIC_SYMPTOM_ITEMS, "somatic symptom", high=1, allow_bool=True
    )
    if not isinstance(symptoms_3_months, bool):
        # ValueError rather than TypeError throughout: callers catch one exception type and show
        # its message next to the field.
        raise ValueError("Please say whether your symptoms have lasted at least 3 months.")

    wpi = len(areas)
    symptom_severity_score = sum(severity_scores)
    somatic_symptom_score = sum(somatic_scores)
    sss = symptom_severity_score + somatic_symptom_score

    counted_regions = {
        AREAS_BY_CODE[code].region
        for code in areas
        if AREAS_BY_CODE[code].counts_for_generalized_pain
    }
    regions_with_pain = tuple(r.code for r in REGIONS if r.code in counted_regions)
    generalized_pain = len(regions_with_pain) >= 4
    severity_threshold_met = (wpi >= 7 and sss >= 5) or (4 <= wpi <= 6 and sss >= 9)

    return AcrResult(
        wpi=wpi,
        sss=sss,
        regions_with_pain=regions_with_pain,
        generalized_pain=generalized_pain,
        severity_threshold_met=severity_threshold_met,
        duration_met=symptoms_3_months,
        criteria_met=severity_threshold_met and generalized_pain and symptoms_3_months,
        polysymptomatic_distress=wpi + sss,
        painful_areas=areas,
        symptom_severity_score=symptom_severity_score,
        somatic_symptom_score=somatic_symptom_score,
    )


def _painful_area_codes(painful_areas: Iterable[str]) -> tuple[str, ...]:
    # A bare string is iterable too, and would otherwise fail later as 19 one-letter "codes".
    if isinstance(painful_areas, str):
        raise ValueError("Painful areas must be a list of area codes, not a single string.")
    chosen = set(painful_areas)
    unknown = sorted(str(code) for code in chosen if code not in AREAS_BY_CODE)
    if unknown:
        raise ValueError(f"Unknown pain area: {', '.join(unknown)}.")
    # Canonical WPI order, so equal answers compare and store equal whatever order they came in.
    return tuple(area.code for area in WPI_AREAS if area.code in chosen)


def _answers_by_code(
    answers: Mapping[str, bool | int],
    items: tuple[SymptomItem, ...],
    what: str,
    *,
    high: int,
    allow_bool: bool,
) -> tuple[int, ...]:
    codes = [item.code for item in items]
    unknown = sorted(str(code) for code in answers if code not in codes)
    if unknown:
        raise ValueError(f"Unknown {what} item: {', '.join(unknown)}.")
    missing = [item.label for item in items if item.code not in answers]
    if missing:
        raise ValueError(f"Please answer every {what} item (missing: {', '.join(missing)}).")
    return tuple(
        _score(answers[item.code], item.label, high=high, allow_bool=allow_bool) for item in items
    )


def _score(value: object, label: str, *, high: int, allow_bool: bool) -> int:
    # bool is a subclass of int; True as a 0-3 answer is almost certainly a wiring mistake.
    if isinstance(value, bool):
        if allow_bool:
            return int(value)
    elif isinstance(value, int) and 0 <= value <= high:
        return value
    raise ValueError(f"{label}: answer must be a whole number from 0 to {high}.")


# --- PHQ-9 and GAD-7 ------------------------------------------------------------------------------


class SeverityBand(StrEnum):
    """Severity band of a PHQ-9 or GAD-7 total. GAD-7 has no "moderately severe" band."""

    MINIMAL = "minimal"
    MILD = "mild"
    MODERATE = "moderate"
    MODERATELY_SEVERE = "moderately_severe"
    SEVERE = "severe"

    @property
    def label(self) -> str:
        return _BAND_LABELS[self]


_BAND_LABELS: Mapping[SeverityBand, str] = MappingProxyType(
    {
        SeverityBand.MINIMAL: "Minimal",
        SeverityBand.MILD: "Mild",
        SeverityBand.MODERATE: "Moderate",
        SeverityBand.MODERATELY_SEVERE: "Moderately severe",
        SeverityBand.SEVERE: "Severe",
    }
)

# Index is the score (0-3); both instruments share the answer scale.
FREQUENCY_ANSWERS: tuple[str, ...] = (
    "Not at all",
    "Several days",
    "More than half the days",
    "Nearly every day",
)

PHQ9_PROMPT = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
PHQ9_ITEMS: tuple[str, ...] = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    (
        "Feeling bad about yourself - or that you are a failure or have let yourself or your "
        "family down"
    ),
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    (
        "Moving or speaking so slowly that other people could have noticed? Or the opposite - "
        "being so fidgety or restless that you have been moving around a lot more than usual"
    ),
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
PHQ9_SELF_HARM_ITEM = 9  # 1-based, as printed on the form
PHQ9_MAX = 3 * len(PHQ9_ITEMS)

GAD7_PROMPT = "Over the last 2 weeks, how often have you been bothered by the following problems?"
GAD7_ITEMS: tuple[str, ...] = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
)
GAD7_MAX = 3 * len(GAD7_ITEMS)

# (lowest total, band), highest first.
_PHQ9_BANDS: tuple[tuple[int, SeverityBand], ...] = (
    (20, SeverityBand.SEVERE),
    (15, SeverityBand.MODERATELY_SEVERE),
    (10, SeverityBand.MODERATE),
    (5, SeverityBand.MILD),
    (0, SeverityBand.MINIMAL),
)
_GAD7_BANDS: tuple[tuple[int, SeverityBand], ...] = (
    (15, SeverityBand.SEVERE),
    (10, SeverityBand.MODERATE),
    (5, SeverityBand.MILD),
    (0, SeverityBand.MINIMAL),
)


@dataclass(frozen=True)
class QuestionnaireResult:
    items: tuple[int, ...]
    total: int
    band: SeverityBand


@dataclass(frozen=True)
class PHQ9Result(QuestionnaireResult):
    self_harm_flag: bool


def phq9(items: Sequence[int]) -> PHQ9Result:
    """Score the PHQ-9: 9 items, each 0-3 over the last 2 weeks, total 0-27.

    Bands: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.
    ``self_harm_flag`` is set when item 9 (thoughts of being better off dead or of self-harm) is
    above 0 whatever the total, because the clinic treats any such answer as an urgent safety
    flag for a clinician, not as part of a severity grade.

    Source: Kroenke K., Spitzer R.L., Williams J.B.W., "The PHQ-9: validity of a brief depression
    severity measure", J Gen Intern Med 2001;16:606-613.
    """
    scores = _questionnaire_items(items, len(PHQ9_ITEMS), "PHQ-9")
    total = sum(scores)
    return PHQ9Result(
        items=scores,
        total=total,
        band=_band(total, _PHQ9_BANDS),
        self_harm_flag=scores[PHQ9_SELF_HARM_ITEM - 1] > 0,
    )


def gad7(items: Sequence[int]) -> QuestionnaireResult:
    """Score the GAD-7: 7 items, each 0-3 over the last 2 weeks, total 0-21.

    Bands: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe.

    Source: Spitzer R.L., Kroenke K., Williams J.B.W., Lowe B., "A brief measure for assessing
    generalized anxiety disorder: the GAD-7", Arch Intern Med 2006;166:1092-1097.
    """
    scores = _questionnaire_items(items, len(GAD7_ITEMS), "GAD-7")
    total = sum(scores)
    return QuestionnaireResult(items=scores, total=total, band=_band(total, _GAD7_BANDS))


def _questionnaire_items(items: Sequence[int], count: int, name: str) -> tuple[int, ...]:
    if isinstance(items, str | bytes) or len(items) != count:
        raise ValueError(f"{name} needs exactly {count} answers.")
    return tuple(
        _score(value, f"{name} question {number}", high=3, allow_bool=False)
        for number, value in enumerate(items, start=1)
    )


def _band(total: int, bands: tuple[tuple[int, SeverityBand], ...]) -> SeverityBand:
    for lowest, band in bands:
        if total >= lowest:
            return band
    raise ValueError(f"Total {total} is below every band.")  # unreachable for validated items


# --- PEG ------------------------------------------------------------------------------------------

PEG_ITEMS: tuple[str, ...] = (
    gettext_noop("What number best describes your pain on average in the past week?"),
    gettext_noop(
        "What number best describes how, during the past week, pain has interfered with your "
        "enjoyment of life?"
    ),
    gettext_noop(
        "What number best describes how, during the past week, pain has interfered with your "
        "general activity?"
    ),
)


def peg(average_pain: int, enjoyment_interference: int, activity_interference: int) -> Decimal:
    """Score the PEG: the mean of three 0-10 items (Pain, Enjoyment of life, General activity).

    The mean is computed exactly in ``Decimal`` and rounded half up to one decimal place. With
    whole-number items the exact mean is a multiple of 1/3 (x.0, x.333..., x.666...), so no
    halfway case can occur and the rounding rule never moves a score: 20/3 gives 6.7, 19/3 gives
    6.3.

    Source: Krebs E.E. et al., "Development and initial validation of the PEG, a three-item scale
    assessing pain intensity and interference", J Gen Intern Med 2009;24:733-738.
    """
    items = (
        _score(average_pain, "Average pain", high=10, allow_bool=False),
        _score(
            enjoyment_interference, "Interference with enjoyment of life", high=10, allow_bool=False
        ),
        _score(
            activity_interference, "Interference with general activity", high=10, allow_bool=False
        ),
    )
    return (Decimal(sum(items)) / len(items)).quantize(_TENTH, rounding=ROUND_HALF_UP)


# --- Pain change ----------------------------------------------------------------------------------


class PainResponseCategory(StrEnum):
    NONE = "none"
    MODERATE = "moderate"
    SUBSTANTIAL = "substantial"

    @property
    def label(self) -> str:
        return _RESPONSE_LABELS[self]


_RESPONSE_LABELS: Mapping[PainResponseCategory, str] = MappingProxyType(
    {
        PainResponseCategory.NONE: "No meaningful response (less than 30% reduction)",
        PainResponseCategory.MODERATE: "Moderate response (30% or more reduction)",
        PainResponseCategory.SUBSTANTIAL: "Substantial response (50% or more reduction): responder",
    }
)

MODERATE_RESPONSE_PERCENT = 30
SUBSTANTIAL_RESPONSE_PERCENT = 50


@dataclass(frozen=True)
class PainResponse:
    baseline: Decimal
    current: Decimal
    percent_reduction: Decimal | None
    category: PainResponseCategory

    @property
    def is_responder(self) -> bool:
        return self.category is PainResponseCategory.SUBSTANTIAL


def pain_response(baseline: Number, current: Number) -> PainResponse:
    """Classify the change in 0-10 pain intensity from baseline.

    A reduction of at least 30% is a moderate (moderately important) response, at least 50% a
    substantial response, i.e. a responder. An increase is a negative reduction and no response.
    With a baseline of 0 there is nothing to reduce, so ``percent_reduction`` is None.

    The thresholds are compared on the exact fraction, because 3/10 in binary floating point is
    not 30%. ``percent_reduction`` is that fraction rounded down to one decimal, so the displayed
    figure never reaches a threshold the category did not (29.96% shows as 29.9%, not 30.0%).

    Source: Dworkin R.H. et al., "Interpreting the clinical importance of treatment outcomes in
    chronic pain clinical trials: IMMPACT recommendations", J Pain 2008;9:105-121.
    """
    before = _pain_score(baseline, "Baseline pain")
    after = _pain_score(current, "Current pain")
    if before == 0:
        return PainResponse(before, after, None, PainResponseCategory.NONE)

    reduction = (Fraction(before) - Fraction(after)) / Fraction(before) * 100
    if reduction >= SUBSTANTIAL_RESPONSE_PERCENT:
        category = PainResponseCategory.SUBSTANTIAL
    elif reduction >= MODERATE_RESPONSE_PERCENT:
        category = PainResponseCategory.MODERATE
    else:
        category = PainResponseCategory.NONE
    percent = Decimal(math.floor(reduction * 10)).scaleb(-1)
    return PainResponse(before, after, percent, category)


def _pain_score(value: Number, what: str) -> Decimal:
    score = _decimal(value, what)
    if not 0 <= score <= 10:
        raise ValueError(f"{what} must be between 0 and 10.")
    return score


# --- Body measurements ----------------------------------------------------------------------------

# Exact by definition (international yard and pound agreement, 1959).
KG_PER_POUND = Decimal("0.45359237")
CM_PER_INCH = Decimal("2.54")
INCHES_PER_FOOT = 12

WEIGHT_KG_RANGE: tuple[int, int] = (30, 300)
HEIGHT_CM_RANGE: tuple[int, int] = (100, 250)


def pounds_to_kg(pounds: Number) -> Decimal:
    """Convert pounds to kilograms, rounded half up to 0.1 kg (1 lb = 0.45359237 kg exactly)."""
    value = _non_negative(pounds, "Weight")
    return (value * KG_PER_POUND).quantize(_TENTH, rounding=ROUND_HALF_UP)


def kg_to_pounds(kg: Number) -> Decimal:
    """Convert kilograms to pounds, rounded half up to 0.1 lb (1 lb = 0.45359237 kg exactly)."""
    value = _non_negative(kg, "Weight")
    return (value / KG_PER_POUND).quantize(_TENTH, rounding=ROUND_HALF_UP)


def feet_inches_to_cm(feet: int, inches: Number = 0) -> Decimal:
    """Convert a height in feet and inches to centimetres, rounded half up to 0.1 cm.

    1 in = 2.54 cm exactly. Inches must be below 12: "5 ft 14 in" is far more likely a typo than
    a deliberate way of writing 6 ft 2 in, so it is refused rather than silently carried.
    """
    if isinstance(feet, bool) or not isinstance(feet, int) or feet < 0:
        raise ValueError("Feet must be a whole number, 0 or more.")
    extra = _non_negative(inches, "Inches")
    if extra >= INCHES_PER_FOOT:
        raise ValueError("Inches must be less than 12.")
    total_inches = feet * INCHES_PER_FOOT + extra
    return (total_inches * CM_PER_INCH).quantize(_TENTH, rounding=ROUND_HALF_UP)


def cm_to_feet_inches(cm: Number) -> tuple[int, Decimal]:
    """Convert centimetres to (feet, inches), inches rounded half up to 0.1 in.

    The total is rounded before splitting, so 182.8 cm (71.97 in) becomes 6 ft 0.0 in rather than
    5 ft 12.0 in.
    """
    value = _non_negative(cm, "Height")
    total_inches = (value / CM_PER_INCH).quantize(_TENTH, rounding=ROUND_HALF_UP)
    feet, inches = divmod(total_inches, INCHES_PER_FOOT)
    return int(feet), inches


def _whole_pounds_inside(kg_range: tuple[int, int]) -> tuple[int, int]:
    # Rounded inwards, so a patient who types the pound figure from the message is accepted.
    low, high = kg_range
    return math.ceil(Fraction(low) / Fraction(KG_PER_POUND)), math.floor(
        Fraction(high) / Fraction(KG_PER_POUND)
    )


def _whole_inches_inside(cm_range: tuple[int, int]) -> tuple[int, int]:
    low, high = cm_range
    return math.ceil(Fraction(low) / Fraction(CM_PER_INCH)), math.floor(
        Fraction(high) / Fraction(CM_PER_INCH)
    )


def _feet_inches_text(total_inches: int) -> str:
    feet, inches = divmod(total_inches, INCHES_PER_FOOT)
    return f"{feet} ft {inches} in"


_LOW_LB, _HIGH_LB = _whole_pounds_inside(WEIGHT_KG_RANGE)
WEIGHT_RANGE_MESSAGE = (
    f"Weight must be between {WEIGHT_KG_RANGE[0]} and {WEIGHT_KG_RANGE[1]} kg "
    f"({_LOW_LB} and {_HIGH_LB} lb)."
)
_LOW_IN, _HIGH_IN = _whole_inches_inside(HEIGHT_CM_RANGE)
HEIGHT_RANGE_MESSAGE = (
    f"Height must be between {HEIGHT_CM_RANGE[0]} and {HEIGHT_CM_RANGE[1]} cm "
    f"({_feet_inches_text(_LOW_IN)} and {_feet_inches_text(_HIGH_IN)})."
)
# The same limits in whole pounds and inches, for the messages in other languages (intake.forms).
WEIGHT_LB_RANGE = (_LOW_LB, _HIGH_LB)
HEIGHT_IN_RANGE = (_LOW_IN, _HIGH_IN)


def validate_weight_kg(weight_kg: Number) -> Decimal:
    """Return the weight as a Decimal if it lies within ``WEIGHT_KG_RANGE`` (inclusive).

    The range is a plausibility check for typing mistakes and unit mix-ups (pounds entered as
    kilograms), not a clinical limit. The pound figures in the message are rounded inwards so
    that typing either of them is accepted after conversion.
    """
    value = _decimal(weight_kg, "Weight")
    low, high = WEIGHT_KG_RANGE
    if not low <= value <= high:
        raise ValueError(WEIGHT_RANGE_MESSAGE)
    return value


def validate_height_cm(height_cm: Number) -> Decimal:
    """Return the height as a Decimal if it lies within ``HEIGHT_CM_RANGE`` (inclusive).

    A plausibility check for typing mistakes and unit mix-ups (inches entered as centimetres);
    the feet-and-inches figures in the message are rounded inwards like the weight's.
    """
    value = _decimal(height_cm, "Height")
    low, high = HEIGHT_CM_RANGE
    if not low <= value <= high:
        raise ValueError(HEIGHT_RANGE_MESSAGE)
    return value


def bmi(weight_kg: Number, height_cm: Number) -> Decimal:
    """Body mass index, kg / m^2, rounded half up to 0.1 (WHO definition)."""
    weight = _decimal(weight_kg, "Weight")
    height = _decimal(height_cm, "Height")
    if weight <= 0 or height <= 0:
        raise ValueError("Weight and height must both be more than 0.")
    metres = height / 100
    return (weight / (metres * metres)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def _decimal(value: Number, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{what} must be a number.")
    # Through str() so a float 70.1 becomes Decimal("70.1"), not its binary approximation.
    result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} must be a number.")
    return result


def _non_negative(value: Number, what: str) -> Decimal:
    result = _decimal(value, what)
    if result < 0:
        raise ValueError(f"{what} cannot be negative.")
    return result
