"""The four instruments as FHIR Questionnaires, and their answers as QuestionnaireResponse items.

PHQ-9, GAD-7 and PEG carry their LOINC panel and item codes; the ACR 2016 fibromyalgia criteria
(WPI and SSS) have no LOINC panel, so the clinic publishes its own questionnaire under its canonical
URL. Texts come from intake.scoring, the same wording the patient saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from fhir import codes
from intake import scoring

PHQ9 = "phq-9"
GAD7 = "gad-7"
PEG = "peg"
ACR_2016 = "acr-2016"


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    name: str
    title: str
    panel: str | None  # LOINC panel code, when LOINC has one


INSTRUMENTS: dict[str, Instrument] = {
    PHQ9: Instrument(
        PHQ9, "2001", "PHQ9", "Patient Health Questionnaire (PHQ-9)", codes.PHQ9_PANEL
    ),
    GAD7: Instrument(
        GAD7, "2006", "GAD7", "Generalized Anxiety Disorder (GAD-7)", codes.GAD7_PANEL
    ),
    PEG: Instrument(
        PEG, "2009", "PEG", "Pain, Enjoyment of life, General activity (PEG)", codes.PEG_PANEL
    ),
    ACR_2016: Instrument(
        ACR_2016,
        "2016",
        "ACR2016FibromyalgiaCriteria",
        "ACR 2016 fibromyalgia criteria: Widespread Pain Index and Symptom Severity Scale",
        None,
    ),
}

COPYRIGHT = {
    PHQ9: "PHQ-9 and GAD-7: developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke "
    "and colleagues, with an educational grant from Pfizer Inc. No permission required to "
    "reproduce, translate, display or distribute.",
    PEG: "PEG: Krebs E.E. et al., J Gen Intern Med 2009;24:733-738. Free to use.",
    ACR_2016: "After Wolfe F. et al., 2016 Revisions to the 2010/2011 fibromyalgia diagnostic "
    "criteria, Semin Arthritis Rheum 2016;46:319-329. A screening aid, never a diagnosis.",
}
COPYRIGHT[GAD7] = COPYRIGHT[PHQ9]


def url(instrument_id: str) -> str:
    """The canonical URL: the clinic's own address, where the API also serves it."""
    return f"{settings.SITE_URL}/fhir/Questionnaire/{instrument_id}"


def canonical(instrument_id: str, version: str | None = None) -> str:
    """`url|version`, as QuestionnaireResponse.questionnaire names the version answered."""
    return f"{url(instrument_id)}|{version or INSTRUMENTS[instrument_id].version}"


def _severity_system() -> str:
    return f"{settings.SITE_URL}/fhir/CodeSystem/acr-2016-severity"


def _frequency_coding(score: int) -> dict[str, Any]:
    return {
        "system": codes.LOINC,
        "code": codes.FREQUENCY_ANSWERS[score],
        "display": scoring.FREQUENCY_ANSWERS[score],
    }


def _severity_coding(score: int) -> dict[str, Any]:
    return {
        "system": _severity_system(),
        "code": str(score),
        "display": scoring.SYMPTOM_SEVERITY_ANSWERS[score],
    }


def _ordinal(coding: dict[str, Any], score: int) -> dict[str, Any]:
    # The R4 ordinalValue extension carries the score each answer adds to the total.
    return {**coding, "extension": [{"url": codes.ORDINAL_VALUE, "valueDecimal": score}]}


def _loinc_item_code(code: str, text: str) -> list[dict[str, Any]]:
    return [{"system": codes.LOINC, "code": code, "display": text}]


def _range(low: int, high: int) -> list[dict[str, Any]]:
    return [
        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": low},
        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": high},
    ]


def _frequency_items(prefix: str, texts: Sequence[str], item_codes: Sequence[str]) -> list[Any]:
    return [
        {
            "linkId": f"{prefix}-{number}",
            "code": _loinc_item_code(code, text),
            "prefix": str(number),
            "text": text,
            "type": "choice",
            "required": True,
            "answerOption": [
                {"valueCoding": _ordinal(_frequency_coding(score), score)} for score in range(4)
            ],
        }
        for number, (text, code) in enumerate(zip(texts, item_codes, strict=True), start=1)
    ]


def _items(instrument_id: str) -> list[dict[str, Any]]:
    if instrument_id == PHQ9:
        return [
            {"linkId": "phq9-intro", "type": "display", "text": scoring.PHQ9_PROMPT},
            *_frequency_items("phq9", scoring.PHQ9_ITEMS, codes.PHQ9_ITEMS),
            {
                "linkId": "phq9-total",
                "code": _loinc_item_code(codes.PHQ9_TOTAL, codes.DISPLAY[codes.PHQ9_TOTAL]),
                "text": "Total score (0-27)",
                "type": "integer",
                "readOnly": True,
            },
        ]
    if instrument_id == GAD7:
        return [
            {"linkId": "gad7-intro", "type": "display", "text": scoring.GAD7_PROMPT},
            *_frequency_items("gad7", scoring.GAD7_ITEMS, codes.GAD7_ITEMS),
            {
                "linkId": "gad7-total",
                "code": _loinc_item_code(codes.GAD7_TOTAL, codes.DISPLAY[codes.GAD7_TOTAL]),
                "text": "Total score (0-21)",
                "type": "integer",
                "readOnly": True,
            },
        ]
    if instrument_id == PEG:
        return [
            *[
                {
                    "linkId": f"peg-{number}",
                    "code": _loinc_item_code(code, text),
                    "prefix": str(number),
                    "text": text,
                    "type": "integer",
                    "required": True,
                    "extension": _range(0, 10),
                }
                for number, (text, code) in enumerate(
                    zip(scoring.PEG_ITEMS, codes.PEG_ITEMS, strict=True), start=1
                )
            ],
            {
                "linkId": "peg-score",
                "code": _loinc_item_code(codes.PEG_SCORE, codes.DISPLAY[codes.PEG_SCORE]),
                "text": "PEG score: the mean of the three items (0-10)",
                "type": "decimal",
                "readOnly": True,
            },
        ]
    return [
        {
            "linkId": "wpi",
            "text": scoring.WPI_PROMPT,
            "type": "group",
            "item": [
                {"linkId": f"wpi.{area.code}", "text": area.label, "type": "boolean"}
                for area in scoring.WPI_AREAS
            ],
        },
        {
            "linkId": "sss",
            "text": scoring.SYMPTOM_SEVERITY_PROMPT,
            "type": "group",
            "item": [
                {
                    "linkId": f"sss.{item.code}",
                    "text": item.label,
                    "type": "choice",
                    "required": True,
                    "answerOption": [
                        {"valueCoding": _ordinal(_severity_coding(score), score)}
                        for score in range(4)
                    ],
                }
                for item in scoring.SYMPTOM_SEVERITY_ITEMS
            ],
        },
        {
            "linkId": "somatic",
            "text": scoring.SOMATIC_SYMPTOM_PROMPT,
            "type": "group",
            "item": [
                {
                    "linkId": f"somatic.{item.code}",
                    "text": item.label,
                    "type": "boolean",
                    "required": True,
                }
                for item in scoring.SOMATIC_SYMPTOM_ITEMS
            ],
        },
        {
            "linkId": "symptoms-3-months",
            "text": "Symptoms present at a similar level for at least 3 months",
            "type": "boolean",
            "required": True,
        },
        {
            "linkId": "scores",
            "text": "Scores",
            "type": "group",
            "item": [
                {"linkId": "wpi-score", "text": "WPI (0-19)", "type": "integer", "readOnly": True},
                {"linkId": "sss-score", "text": "SSS (0-12)", "type": "integer", "readOnly": True},
                {
                    "linkId": "criteria-met",
                    "text": "ACR 2016 criteria met (a screening aid, never a diagnosis)",
                    "type": "boolean",
                    "readOnly": True,
                },
            ],
        },
    ]


def questionnaire(instrument_id: str) -> dict[str, Any]:
    instrument = INSTRUMENTS[instrument_id]
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.id,
        "url": url(instrument.id),
        "version": instrument.version,
        "name": instrument.name,
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": settings.SITE_NAME,
        "copyright": COPYRIGHT[instrument.id],
    }
    if instrument.panel:
        resource["code"] = codes.loinc(instrument.panel)["coding"]
    resource["item"] = _items(instrument.id)
    return resource


# --- Answers --------------------------------------------------------------------------------------


def _texts(instrument_id: str) -> dict[str, str]:
    def walk(items: list[dict[str, Any]]) -> dict[str, str]:
        found: dict[str, str] = {}
        for item in items:
            found[item["linkId"]] = item.get("text", "")
            found.update(walk(item.get("item", [])))
        return found

    return walk(_items(instrument_id))


def _answer(texts: dict[str, str], link_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"linkId": link_id, "text": texts[link_id], "answer": [value]}


def frequency_answers(instrument_id: str, scores: Sequence[int], total: int) -> list[Any]:
    """PHQ-9 or GAD-7 answers (each 0-3) and the total."""
    prefix = "phq9" if instrument_id == PHQ9 else "gad7"
    texts = _texts(instrument_id)
    return [
        *[
            _answer(texts, f"{prefix}-{number}", {"valueCoding": _frequency_coding(int(score))})
            for number, score in enumerate(scores, start=1)
        ],
        _answer(texts, f"{prefix}-total", {"valueInteger": int(total)}),
    ]


def peg_answers(items: Sequence[int], peg: Decimal) -> list[Any]:
    texts = _texts(PEG)
    return [
        *[
            _answer(texts, f"peg-{number}", {"valueInteger": int(value)})
            for number, value in enumerate(items, start=1)
        ],
        _answer(texts, "peg-score", {"valueDecimal": codes.number(peg)}),
    ]


def acr_answers(data: dict[str, Any], acr: dict[str, Any]) -> list[Any]:
    """The fibromyalgia step's answers (intake.forms.FibromyalgiaForm) and the stored scores."""
    texts = _texts(ACR_2016)
    painful = set(data.get("painful_areas", []))

    def group(link_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"linkId": link_id, "text": texts[link_id], "item": items}

    return [
        group(
            "wpi",
            [
                _answer(texts, f"wpi.{area.code}", {"valueBoolean": area.code in painful})
                for area in scoring.WPI_AREAS
            ],
        ),
        group(
            "sss",
            [
                _answer(
                    texts, f"sss.{item.code}", {"valueCoding": _severity_coding(data[item.code])}
                )
                for item in scoring.SYMPTOM_SEVERITY_ITEMS
            ],
        ),
        group(
            "somatic",
            [
                _answer(texts, f"somatic.{item.code}", {"valueBoolean": bool(data[item.code])})
                for item in scoring.SOMATIC_SYMPTOM_ITEMS
            ],
        ),
        # Form 2 asks the duration once, in step 3; the score records the answer both forms give.
        _answer(
            texts,
            "symptoms-3-months",
            {"valueBoolean": bool(data.get("symptoms_3_months", acr.get("duration_met")))},
        ),
        group(
            "scores",
            [
                _answer(texts, "wpi-score", {"valueInteger": acr["wpi"]}),
                _answer(texts, "sss-score", {"valueInteger": acr["sss"]}),
                _answer(texts, "criteria-met", {"valueBoolean": acr["criteria_met"]}),
            ],
        ),
    ]
