"""Every flag rule of PRODUCT.md 3.4, with its threshold edges (pure functions, no database)."""

from __future__ import annotations

from typing import Any

import pytest

from intake.flags import Kind, Thresholds, derive_flags
from intake.forms import SAFETY_ITEMS

SCORES: dict[str, Any] = {
    "phq9": {"item9": 0},
    "acr_2016": {
        "wpi": 8,
        "sss": 8,
        "regions_with_pain": ["left_upper", "right_upper", "left_lower", "axial"],
        "duration_met": True,
        "criteria_met": True,
    },
}


def safety(**answers: object) -> dict[str, object]:
    base: dict[str, object] = {code: False for code, _q, _d in SAFETY_ITEMS}
    base.update(recent_systolic=None, recent_diastolic=None, medications=[], allergies=[])
    base.update(answers)
    return base


DEFAULT = Thresholds()


def codes(safety_answers: dict, scores: dict = SCORES, thresholds: Thresholds = DEFAULT):
    return {
        flag.code: flag for flag in derive_flags({"safety": safety_answers}, scores, thresholds)
    }


@pytest.mark.parametrize(
    ("systolic", "diastolic", "flagged"),
    [(159, 99, False), (160, 80, True), (140, 100, True), (159, 100, True), (200, 120, True)],
)
def test_blood_pressure_at_or_above_160_over_100_is_poorly_controlled(systolic, diastolic, flagged):
    found = codes(safety(recent_systolic=systolic, recent_diastolic=diastolic))

    assert ("uncontrolled_hypertension" in found) is flagged
    if flagged:
        flag = found["uncontrolled_hypertension"]
        assert flag.kind == Kind.CONTRAINDICATION
        assert f"{systolic}/{diastolic}" in flag.reason
        assert "Cohen" in flag.source


def test_the_blood_pressure_threshold_is_configurable():
    answers = safety(recent_systolic=150, recent_diastolic=85)

    assert "uncontrolled_hypertension" not in codes(answers)
    assert "uncontrolled_hypertension" in codes(answers, thresholds=Thresholds(150, 95))
    assert "uncontrolled_hypertension" not in codes(answers, thresholds=Thresholds(151, 86))


def test_high_blood_pressure_without_a_reading_asks_for_one():
    found = codes(safety(high_blood_pressure=True))

    assert found["needs_blood_pressure"].kind == Kind.WORK_UP
    assert "needs_ecg" in found


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("pregnant", "pregnancy"),
        ("psychosis", "psychosis"),
        ("intracranial_pressure", "intracranial_pressure"),
        ("eye_pressure", "intraocular_pressure"),
        ("substance_use", "substance_misuse"),
    ],
)
def test_each_asra_relative_contraindication_is_flagged_with_its_source(answer, code):
    found = codes(safety(**{answer: True, f"{answer}_detail": "since May"}))

    assert found[code].kind == Kind.CONTRAINDICATION
    assert "since May" in found[code].reason
    assert "ASRA" in found[code].source
    assert code not in codes(safety())


def test_liver_disease_asks_for_liver_tests_and_cirrhosis_is_severe():
    moderate = codes(safety(liver_disease=True, liver_disease_detail="fatty liver"))
    severe = codes(safety(liver_disease=True, liver_disease_detail="Cirrhosis, 2019"))

    assert moderate["liver_disease"].title == "Liver disease"
    assert severe["liver_disease"].title == "Severe liver disease (cirrhosis)"
    assert moderate["needs_liver_tests"].kind == Kind.WORK_UP
    assert "needs_liver_tests" not in codes(safety())


@pytest.mark.parametrize(
    "answer",
    [
        "ketamine_reaction",
        "breastfeeding",
        "heart_attack",
        "angina",
        "heart_failure",
        "arrhythmia",
        "aneurysm",
        "stroke",
        "hyperthyroidism",
        "bipolar",
        "seizures",
        "sleep_apnoea",
        "bladder_after_ketamine",
    ],
)
def test_each_clinic_policy_item_is_flagged(answer):
    found = codes(safety(**{answer: True}))

    assert found[answer].kind == Kind.POLICY
    assert found[answer].source == "Clinic policy"


@pytest.mark.parametrize(
    "answer", ["heart_attack", "angina", "heart_failure", "arrhythmia", "stroke"]
)
def test_cardiac_risk_asks_for_an_ecg(answer):
    assert codes(safety(**{answer: True}))["needs_ecg"].kind == Kind.WORK_UP


@pytest.mark.parametrize(
    ("medicine", "drug_class"),
    [
        ("Xanax 0.5 mg", "benzodiazepine"),
        ("lorazepam", "benzodiazepine"),
        ("Lamotrigine", "lamotrigine"),
        ("Oxycodone ER", "opioid"),
        ("tramadol", "opioid"),
        ("Phenelzine", "maoi"),
        ("Adderall XR", "stimulant"),
    ],
)
def test_interacting_medicines_are_flagged_by_class(medicine, drug_class):
    found = codes(safety(medications=[{"name": medicine}]))

    flag = found[f"interacting_medicine_{drug_class}"]
    assert medicine in flag.reason


def test_an_unrelated_medicine_raises_no_flag():
    found = codes(safety(medications=[{"name": "Duloxetine"}, {"name": "Vitamin D"}]))

    assert not [code for code in found if code.startswith("interacting_medicine")]


@pytest.mark.parametrize(("item9", "urgent"), [(0, False), (1, True), (3, True)])
def test_phq9_item_9_above_zero_is_urgent_and_listed_first(item9, urgent):
    scores = {**SCORES, "phq9": {"item9": item9}}

    flags = derive_flags({"safety": safety()}, scores)

    assert (flags[0].code == "self_harm") is urgent
    assert any(flag.kind == Kind.URGENT for flag in flags) is urgent


def test_the_acr_2016_result_is_always_shown_either_way():
    met = codes(safety())
    not_met = codes(safety(), {**SCORES, "acr_2016": {**SCORES["acr_2016"], "criteria_met": False}})

    assert met["acr_2016_met"].kind == Kind.SCREENING
    assert "not a diagnosis" in met["acr_2016_met"].reason
    assert "acr_2016_not_met" in not_met


def test_a_clean_screen_has_only_the_acr_result():
    assert list(codes(safety())) == ["acr_2016_met"]
