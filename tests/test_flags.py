"""Every flag rule of docs/product-rules.md#safety-flags, with its threshold edges (pure functions,
no database)."""

from __future__ import annotations

from typing import Any

import pytest

from intake.flags import Kind, Thresholds, derive_flags
from intake.vocabulary import SAFETY_ITEMS

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


def test_first_form_liver_disease_asks_for_liver_tests_and_cirrhosis_is_severe():
    moderate = codes(safety(liver_disease=True, liver_disease_detail="fatty liver"))
    severe = codes(safety(liver_disease=True, liver_disease_detail="Cirrhosis, 2019"))

    assert moderate["liver_disease_moderate"].title == "Moderate liver disease"
    assert severe["liver_disease_severe"].title == "Severe liver disease (cirrhosis)"
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


# --- Form 2: the patient's words, severity and "now or in the past" -----------------------------


@pytest.mark.parametrize("control", ["not_controlled", "not_sure"])
def test_high_blood_pressure_not_under_control_in_words_is_poorly_controlled(control):
    found = codes(safety(high_blood_pressure=True, high_blood_pressure_control=control))

    flag = found["uncontrolled_hypertension"]
    assert flag.kind == Kind.CONTRAINDICATION
    assert "Cohen" in flag.source
    assert ("not under control" if control == "not_controlled" else "not know") in flag.reason
    assert "needs_blood_pressure" in found  # and a reading is still wanted


def test_high_blood_pressure_under_control_without_a_reading_asks_for_one():
    found = codes(safety(high_blood_pressure=True, high_blood_pressure_control="controlled"))

    assert "uncontrolled_hypertension" not in found
    assert "needs_blood_pressure" in found


def test_a_first_form_detail_saying_not_under_control_is_poorly_controlled():
    found = codes(
        {
            **safety(high_blood_pressure=True),
            "high_blood_pressure_detail": "not under control",
        }
    )

    assert found["uncontrolled_hypertension"].kind == Kind.CONTRAINDICATION


def test_severe_and_moderate_liver_disease_are_asked_and_flagged_apart():
    severe = codes(safety(liver_severe=True))
    moderate = codes(safety(liver_moderate=True))

    assert severe["liver_disease_severe"].kind == Kind.CONTRAINDICATION
    assert "cirrhosis" in severe["liver_disease_severe"].title.casefold()
    assert "liver_disease_moderate" not in severe
    assert moderate["liver_disease_moderate"].kind == Kind.CONTRAINDICATION
    assert "liver_disease_severe" not in moderate
    assert "needs_liver_tests" in severe and "needs_liver_tests" in moderate


def test_severe_liver_disease_in_first_form_words_is_severe():
    found = codes({**safety(liver_disease=True), "liver_disease_detail": "Severe liver disease"})

    assert "liver_disease_severe" in found


@pytest.mark.parametrize(
    ("item", "active_code", "past_code"),
    [
        ("psychosis", "psychosis", "psychosis_past"),
        ("substance_use", "substance_misuse", "substance_misuse_past"),
    ],
)
def test_now_and_in_the_past_are_flagged_apart(item, active_code, past_code):
    now = codes(safety(**{item: True, f"{item}_when": "now"}))
    past = codes(safety(**{item: True, f"{item}_when": "past"}))

    assert now[active_code].kind == Kind.CONTRAINDICATION
    assert "active" in now[active_code].title.casefold()
    assert past_code not in now
    assert active_code not in past
    assert past[past_code].kind == Kind.POLICY
    assert "past" in past[past_code].title.casefold()
