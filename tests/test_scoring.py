from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.scoring import (
    FREQUENCY_ANSWERS,
    GAD7_ITEMS,
    GENERALIZED_PAIN_EXCLUDED_AREAS,
    HEIGHT_CM_RANGE,
    PHQ9_ITEMS,
    REGIONS,
    SOMATIC_SYMPTOM_ITEMS,
    SYMPTOM_SEVERITY_ITEMS,
    WEIGHT_KG_RANGE,
    WPI_AREAS,
    AcrResult,
    PainResponseCategory,
    SeverityBand,
    acr_2016,
    bmi,
    cm_to_feet_inches,
    feet_inches_to_cm,
    gad7,
    kg_to_pounds,
    pain_response,
    peg,
    phq9,
    pounds_to_kg,
    validate_height_cm,
    validate_weight_kg,
)

# Hypothesis would otherwise write an example database into the working tree.
no_database = settings(database=None)

# Ordered so that the first n areas always cover min(n, 5) regions with areas that count for
# generalized pain, which lets threshold tests vary WPI without accidentally failing that test.
SPREAD_AREAS = (
    "left_shoulder_girdle",
    "right_shoulder_girdle",
    "left_hip",
    "right_hip",
    "neck",
    "left_upper_arm",
    "right_upper_arm",
    "left_upper_leg",
    "right_upper_leg",
    "upper_back",
    "left_lower_arm",
    "right_lower_arm",
    "left_lower_leg",
    "right_lower_leg",
    "lower_back",
    "left_jaw",
    "right_jaw",
    "chest",
    "abdomen",
)


def spread_areas(wpi: int) -> list[str]:
    return list(SPREAD_AREAS[:wpi])


def symptoms(sss: int) -> tuple[dict[str, int], dict[str, bool]]:
    """Severity and somatic answers adding up to the given SSS (0-12)."""
    severity = {}
    remaining = sss
    for item in SYMPTOM_SEVERITY_ITEMS:
        severity[item.code] = min(3, remaining)
        remaining -= severity[item.code]
    somatic = {}
    for item in SOMATIC_SYMPTOM_ITEMS:
        somatic[item.code] = remaining > 0
        remaining -= int(somatic[item.code])
    assert remaining == 0
    return severity, somatic


def score_acr(areas: list[str], sss: int = 12, symptoms_3_months: bool = True) -> AcrResult:
    severity, somatic = symptoms(sss)
    return acr_2016(areas, severity, somatic, symptoms_3_months)


def items_for_total(total: int, count: int) -> list[int]:
    items = []
    remaining = total
    for _ in range(count):
        items.append(min(3, remaining))
        remaining -= items[-1]
    assert remaining == 0
    return items


# --- ACR 2016: definitions ------------------------------------------------------------------------


def test_there_are_19_distinct_areas_in_5_regions() -> None:
    assert len(WPI_AREAS) == 19
    assert len({area.code for area in WPI_AREAS}) == 19
    assert [region.code for region in REGIONS] == [
        "left_upper",
        "right_upper",
        "left_lower",
        "right_lower",
        "axial",
    ]
    region_sizes = {r.code: sum(a.region == r.code for a in WPI_AREAS) for r in REGIONS}
    assert region_sizes == {
        "left_upper": 4,
        "right_upper": 4,
        "left_lower": 3,
        "right_lower": 3,
        "axial": 5,
    }


def test_jaws_chest_and_abdomen_are_excluded_from_the_generalized_pain_test() -> None:
    assert frozenset({"left_jaw", "right_jaw", "chest", "abdomen"}) == (
        GENERALIZED_PAIN_EXCLUDED_AREAS
    )


def test_every_area_and_region_has_a_human_label() -> None:
    assert all(area.label for area in WPI_AREAS)
    assert all(region.label for region in REGIONS)
    assert {area.code: area.label for area in WPI_AREAS}["left_hip"] == (
        "Left hip (buttock, trochanter)"
    )


# --- ACR 2016: severity threshold -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("wpi", "sss", "met"),
    [
        (7, 5, True),
        (7, 4, False),
        (19, 5, True),
        (19, 4, False),
        (6, 9, True),
        (6, 8, False),
        (5, 9, True),
        (5, 8, False),
        (4, 9, True),
        (4, 8, False),
        (3, 12, False),
        (0, 12, False),
    ],
)
def test_severity_threshold_is_wpi_7_with_sss_5_or_wpi_4_to_6_with_sss_9(
    wpi: int, sss: int, met: bool
) -> None:
    result = score_acr(spread_areas(wpi), sss)

    assert (result.wpi, result.sss) == (wpi, sss)
    assert result.severity_threshold_met is met
    # From WPI 4 the spread areas cover 4 counted regions, so only the threshold decides.
    assert result.criteria_met is (met and wpi >= 4)


def test_wpi_4_to_6_needs_sss_of_at_least_9() -> None:
    assert score_acr(spread_areas(6), 9).criteria_met
    assert not score_acr(spread_areas(6), 8).criteria_met


def test_wpi_3_never_meets_the_threshold_even_with_the_highest_sss() -> None:
    result = score_acr(["left_shoulder_girdle", "right_shoulder_girdle", "left_hip"], 12)

    assert not result.severity_threshold_met
    assert not result.criteria_met


# --- ACR 2016: generalized pain -------------------------------------------------------------------


def test_pain_only_in_jaws_chest_and_abdomen_counts_in_wpi_but_in_no_region() -> None:
    result = score_acr(["left_jaw", "right_jaw", "chest", "abdomen"], 12)

    assert result.wpi == 4
    assert result.regions_with_pain == ()
    assert not result.generalized_pain
    assert result.severity_threshold_met
    assert not result.criteria_met


def test_a_jaw_does_not_make_the_fourth_region_so_criteria_are_not_met() -> None:
    areas = [
        "left_jaw",
        "right_shoulder_girdle",
        "right_upper_arm",
        "left_hip",
        "left_upper_leg",
        "right_hip",
        "right_upper_leg",
    ]

    result = score_acr(areas, 12)

    assert result.wpi == 7
    assert "left_jaw" in result.painful_areas
    assert result.regions_with_pain == ("right_upper", "left_lower", "right_lower")
    assert not result.generalized_pain
    assert result.severity_threshold_met
    assert not result.criteria_met


def test_the_same_pain_with_a_shoulder_instead_of_the_jaw_meets_the_criteria() -> None:
    areas = [
        "left_shoulder_girdle",
        "right_shoulder_girdle",
        "right_upper_arm",
        "left_hip",
        "left_upper_leg",
        "right_hip",
        "right_upper_leg",
    ]

    result = score_acr(areas, 12)

    assert result.regions_with_pain == ("left_upper", "right_upper", "left_lower", "right_lower")
    assert result.generalized_pain
    assert result.criteria_met


def test_chest_and_abdomen_do_not_make_the_axial_region_painful_but_the_neck_does() -> None:
    limbs = ["left_shoulder_girdle", "right_shoulder_girdle", "left_hip", "right_hip"]

    three_limb_regions = score_acr([*limbs[:3], "chest", "abdomen"])
    with_neck = score_acr([*limbs[:3], "chest", "abdomen", "neck"])

    assert three_limb_regions.regions_with_pain == ("left_upper", "right_upper", "left_lower")
    assert not three_limb_regions.generalized_pain
    assert with_neck.regions_with_pain == ("left_upper", "right_upper", "left_lower", "axial")
    assert with_neck.generalized_pain


@pytest.mark.parametrize(
    ("areas", "regions"),
    [
        (["left_lower_arm", "right_lower_arm", "left_lower_leg", "right_lower_leg"], 4),
        (["upper_back", "lower_back", "left_upper_leg", "right_upper_leg"], 3),
        (["neck", "upper_back", "lower_back", "chest", "abdomen"], 1),
    ],
)
def test_generalized_pain_needs_at_least_4_of_5_regions(areas: list[str], regions: int) -> None:
    result = score_acr(areas)

    assert len(result.regions_with_pain) == regions
    assert result.generalized_pain is (regions >= 4)


# --- ACR 2016: duration, distress, input ----------------------------------------------------------


def test_criteria_are_not_met_when_symptoms_have_lasted_less_than_3_months() -> None:
    result = score_acr(spread_areas(19), 12, symptoms_3_months=False)

    assert result.severity_threshold_met
    assert result.generalized_pain
    assert not result.duration_met
    assert not result.criteria_met


def test_criteria_are_met_when_all_three_hold() -> None:
    result = score_acr(spread_areas(7), 5, symptoms_3_months=True)

    assert result.duration_met
    assert result.criteria_met


@pytest.mark.parametrize(("wpi", "sss", "distress"), [(0, 0, 0), (7, 5, 12), (19, 12, 31)])
def test_polysymptomatic_distress_is_wpi_plus_sss(wpi: int, sss: int, distress: int) -> None:
    assert score_acr(spread_areas(wpi), sss).polysymptomatic_distress == distress


def test_sss_adds_severity_items_and_somatic_items() -> None:
    result = acr_2016(
        ["neck"],
        {"fatigue": 3, "waking_unrefreshed": 2, "cognitive_symptoms": 1},
        {"headaches": True, "lower_abdominal_pain": 0, "depression": 1},
        True,
    )

    assert result.symptom_severity_score == 6
    assert result.somatic_symptom_score == 2
    assert result.sss == 8


def test_an_area_given_twice_counts_once_and_areas_come_back_in_form_order() -> None:
    result = score_acr(["neck", "left_jaw", "neck"])

    assert result.wpi == 2
    assert result.painful_areas == ("left_jaw", "neck")


@pytest.mark.parametrize(
    ("areas", "severity_change", "somatic_change", "duration"),
    [
        (["left_knee"], {}, {}, True),
        ("neck", {}, {}, True),
        ([], {"fatigue": 4}, {}, True),
        ([], {"fatigue": -1}, {}, True),
        ([], {"fatigue": True}, {}, True),
        ([], {"fatigue": 1.0}, {}, True),
        ([], {"mood": 1}, {}, True),
        ([], {}, {"headaches": 2}, True),
        ([], {}, {"nausea": True}, True),
        ([], {}, {}, "yes"),
    ],
)
def test_acr_refuses_unknown_codes_and_out_of_range_answers(
    areas: list[str], severity_change: dict, somatic_change: dict, duration: object
) -> None:
    severity, somatic = symptoms(0)

    with pytest.raises(ValueError):
        acr_2016(
            areas,
            severity | severity_change,
            somatic | somatic_change,
            duration,  # type: ignore[arg-type]  # a wrong type, refused at run time
        )


def test_acr_refuses_a_missing_answer_and_names_it() -> None:
    severity, somatic = symptoms(0)
    del severity["fatigue"]

    with pytest.raises(ValueError, match="Fatigue"):
        acr_2016([], severity, somatic, True)


def test_acr_names_the_unknown_area() -> None:
    with pytest.raises(ValueError, match="left_knee"):
        score_acr(["neck", "left_knee"])


@no_database
@given(
    areas=st.lists(st.sampled_from([a.code for a in WPI_AREAS]), max_size=40),
    sss=st.integers(min_value=0, max_value=12),
)
def test_wpi_always_equals_the_number_of_distinct_areas(areas: list[str], sss: int) -> None:
    result = score_acr(areas, sss)

    assert result.wpi == len(set(areas))
    assert 0 <= result.polysymptomatic_distress <= 31
    assert len(result.regions_with_pain) <= result.wpi
    assert result.criteria_met == (
        result.severity_threshold_met and result.generalized_pain and result.duration_met
    )


# --- PHQ-9 and GAD-7 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, SeverityBand.MINIMAL),
        (4, SeverityBand.MINIMAL),
        (5, SeverityBand.MILD),
        (9, SeverityBand.MILD),
        (10, SeverityBand.MODERATE),
        (14, SeverityBand.MODERATE),
        (15, SeverityBand.MODERATELY_SEVERE),
        (19, SeverityBand.MODERATELY_SEVERE),
        (20, SeverityBand.SEVERE),
        (27, SeverityBand.SEVERE),
    ],
)
def test_phq9_total_falls_in_its_band(total: int, band: SeverityBand) -> None:
    result = phq9(items_for_total(total, 9))

    assert result.total == total
    assert result.band is band


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, SeverityBand.MINIMAL),
        (4, SeverityBand.MINIMAL),
        (5, SeverityBand.MILD),
        (9, SeverityBand.MILD),
        (10, SeverityBand.MODERATE),
        (14, SeverityBand.MODERATE),
        (15, SeverityBand.SEVERE),
        (21, SeverityBand.SEVERE),
    ],
)
def test_gad7_total_falls_in_its_band(total: int, band: SeverityBand) -> None:
    result = gad7(items_for_total(total, 7))

    assert result.total == total
    assert result.band is band


def test_bands_have_stable_values_and_human_labels() -> None:
    assert SeverityBand.MODERATELY_SEVERE == "moderately_severe"
    assert SeverityBand.MODERATELY_SEVERE.label == "Moderately severe"
    assert all(band.label for band in SeverityBand)


@pytest.mark.parametrize("item_9", [1, 2, 3])
def test_any_answer_above_0_on_phq9_item_9_raises_the_self_harm_flag_whatever_the_total(
    item_9: int,
) -> None:
    result = phq9([0] * 8 + [item_9])

    assert result.band is SeverityBand.MINIMAL
    assert result.self_harm_flag


def test_a_severe_phq9_with_item_9_at_0_raises_no_self_harm_flag() -> None:
    result = phq9([3] * 8 + [0])

    assert result.band is SeverityBand.SEVERE
    assert not result.self_harm_flag


@pytest.mark.parametrize(
    "items",
    [[0] * 8, [0] * 10, [0] * 8 + [4], [0] * 8 + [-1], [0] * 8 + [True], [0] * 8 + [1.0], "0" * 9],
)
def test_phq9_refuses_wrong_item_counts_and_values(items: list[int]) -> None:
    with pytest.raises(ValueError):
        phq9(items)


@pytest.mark.parametrize("items", [[0] * 6, [0] * 9, [0] * 6 + [4], [0] * 6 + [None]])
def test_gad7_refuses_wrong_item_counts_and_values(items: list[int]) -> None:
    with pytest.raises(ValueError):
        gad7(items)


def test_questionnaire_wording_has_one_line_per_item_and_four_answers() -> None:
    assert len(PHQ9_ITEMS) == 9
    assert len(GAD7_ITEMS) == 7
    assert PHQ9_ITEMS[8].startswith("Thoughts that you would be better off dead")
    assert FREQUENCY_ANSWERS == (
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    )


@no_database
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9))
def test_phq9_total_is_the_item_sum_within_0_to_27(items: list[int]) -> None:
    result = phq9(items)

    assert result.total == sum(items)
    assert 0 <= result.total <= 27
    assert result.self_harm_flag is (items[8] > 0)


@no_database
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=7, max_size=7))
def test_gad7_total_is_the_item_sum_within_0_to_21(items: list[int]) -> None:
    result = gad7(items)

    assert result.total == sum(items)
    assert 0 <= result.total <= 21
    assert result.band is not SeverityBand.MODERATELY_SEVERE


# --- PEG ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "score"),
    [
        ((0, 0, 0), Decimal("0.0")),
        ((10, 10, 10), Decimal("10.0")),
        ((5, 6, 7), Decimal("6.0")),
        ((7, 7, 6), Decimal("6.7")),
        ((6, 6, 7), Decimal("6.3")),
        ((0, 0, 1), Decimal("0.3")),
        ((10, 10, 9), Decimal("9.7")),
    ],
)
def test_peg_is_the_mean_of_three_items_to_one_decimal(
    items: tuple[int, int, int], score: Decimal
) -> None:
    assert peg(*items) == score
    assert str(peg(*items)) == str(score)


@pytest.mark.parametrize("items", [(11, 0, 0), (0, -1, 0), (0, 0, 5.5), (True, 0, 0)])
def test_peg_refuses_answers_outside_0_to_10(items: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        peg(*items)


# --- Pain response --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "current", "percent", "category"),
    [
        (10, 7.1, Decimal("29.0"), PainResponseCategory.NONE),
        (10, 7, Decimal("30.0"), PainResponseCategory.MODERATE),
        (10, 5.1, Decimal("49.0"), PainResponseCategory.MODERATE),
        (10, 5, Decimal("50.0"), PainResponseCategory.SUBSTANTIAL),
        (10, 0, Decimal("100.0"), PainResponseCategory.SUBSTANTIAL),
        (7, 4.9, Decimal("30.0"), PainResponseCategory.MODERATE),
        (3, 1.5, Decimal("50.0"), PainResponseCategory.SUBSTANTIAL),
        (5, 5, Decimal("0.0"), PainResponseCategory.NONE),
        (4, 6, Decimal("-50.0"), PainResponseCategory.NONE),
    ],
)
def test_pain_response_is_moderate_from_30_and_substantial_from_50_percent(
    baseline: float, current: float, percent: Decimal, category: PainResponseCategory
) -> None:
    result = pain_response(baseline, current)

    assert result.percent_reduction == percent
    assert result.category is category
    assert result.is_responder is (category is PainResponseCategory.SUBSTANTIAL)


def test_pain_response_percentage_is_rounded_down_so_it_never_shows_a_threshold_not_reached() -> (
    None
):
    result = pain_response(10, 7.004)

    assert result.percent_reduction == Decimal("29.9")
    assert result.category is PainResponseCategory.NONE


def test_pain_response_from_a_baseline_of_0_has_no_percentage() -> None:
    result = pain_response(0, 3)

    assert result.percent_reduction is None
    assert result.category is PainResponseCategory.NONE


@pytest.mark.parametrize(
    ("baseline", "current"), [(11, 5), (5, -1), (5, 10.5), ("7", 3), (float("nan"), 3)]
)
def test_pain_response_refuses_scores_outside_0_to_10(baseline: object, current: object) -> None:
    with pytest.raises(ValueError):
        pain_response(baseline, current)  # type: ignore[arg-type]  # wrong types, refused at run time


# --- Units ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pounds", "kg"),
    [
        (0, Decimal("0.0")),
        (1, Decimal("0.5")),
        (150, Decimal("68.0")),
        (220, Decimal("99.8")),
        (Decimal("154.3"), Decimal("70.0")),
        (70.1, Decimal("31.8")),
    ],
)
def test_pounds_convert_to_kg_to_one_decimal(pounds: float, kg: Decimal) -> None:
    assert pounds_to_kg(pounds) == kg


@pytest.mark.parametrize(
    ("kg", "pounds"),
    [(0, Decimal("0.0")), (30, Decimal("66.1")), (68, Decimal("149.9")), (100, Decimal("220.5"))],
)
def test_kg_convert_to_pounds_to_one_decimal(kg: float, pounds: Decimal) -> None:
    assert kg_to_pounds(kg) == pounds


@pytest.mark.parametrize(
    ("feet", "inches", "cm"),
    [
        (0, 0, Decimal("0.0")),
        (5, 0, Decimal("152.4")),
        (5, 9, Decimal("175.3")),
        (6, 0, Decimal("182.9")),
        (5, Decimal("7.5"), Decimal("171.5")),
    ],
)
def test_feet_and_inches_convert_to_cm_to_one_decimal(
    feet: int, inches: Decimal, cm: Decimal
) -> None:
    assert feet_inches_to_cm(feet, inches) == cm


@pytest.mark.parametrize(
    ("cm", "feet", "inches"),
    [
        (0, 0, Decimal("0.0")),
        (100, 3, Decimal("3.4")),
        (152.4, 5, Decimal("0.0")),
        (175, 5, Decimal("8.9")),
        (182.8, 6, Decimal("0.0")),
    ],
)
def test_cm_convert_to_feet_and_inches_carrying_12_inches_into_a_foot(
    cm: float, feet: int, inches: Decimal
) -> None:
    assert cm_to_feet_inches(cm) == (feet, inches)


@no_database
@given(st.integers(min_value=0, max_value=1000))
def test_whole_pounds_survive_a_round_trip_through_kg(pounds: int) -> None:
    back = kg_to_pounds(pounds_to_kg(pounds))

    assert abs(back - pounds) <= Decimal("0.2")
    assert round(back) == pounds


@no_database
@given(st.decimals(min_value=0, max_value=500, places=1))
def test_kg_to_one_decimal_survive_a_round_trip_through_pounds_exactly(kg: Decimal) -> None:
    assert pounds_to_kg(kg_to_pounds(kg)) == kg


@no_database
@given(
    st.integers(min_value=0, max_value=9),
    st.decimals(min_value=0, max_value=Decimal("11.9"), places=1),
)
def test_feet_and_inches_survive_a_round_trip_through_cm_exactly(
    feet: int, inches: Decimal
) -> None:
    assert cm_to_feet_inches(feet_inches_to_cm(feet, inches)) == (feet, inches)


@no_database
@given(st.decimals(min_value=0, max_value=300, places=1))
def test_cm_survive_a_round_trip_through_feet_and_inches_within_2_mm(cm: Decimal) -> None:
    feet, inches = cm_to_feet_inches(cm)

    assert abs(feet_inches_to_cm(feet, inches) - cm) <= Decimal("0.2")


@pytest.mark.parametrize(
    "call",
    [
        lambda: pounds_to_kg(-1),
        lambda: kg_to_pounds(float("inf")),
        lambda: pounds_to_kg(Decimal("NaN")),
        lambda: pounds_to_kg("150"),  # type: ignore[arg-type]  # refused at run time
        lambda: kg_to_pounds(True),
        lambda: feet_inches_to_cm(5, 12),
        lambda: feet_inches_to_cm(5, -1),
        lambda: feet_inches_to_cm(-1, 0),
        lambda: feet_inches_to_cm(5.5, 0),  # type: ignore[arg-type]  # refused at run time
        lambda: cm_to_feet_inches(-0.1),
    ],
)
def test_unit_conversions_refuse_negative_or_non_numeric_input(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# --- Plausible ranges and BMI ---------------------------------------------------------------------


def test_weight_and_height_ranges_are_30_to_300_kg_and_100_to_250_cm() -> None:
    assert WEIGHT_KG_RANGE == (30, 300)
    assert HEIGHT_CM_RANGE == (100, 250)


@pytest.mark.parametrize("kg", [30, Decimal("30.0"), 70.5, 300])
def test_weights_inside_the_range_including_its_ends_are_accepted(kg: float) -> None:
    assert validate_weight_kg(kg) == Decimal(str(kg))


@pytest.mark.parametrize("kg", [Decimal("29.9"), Decimal("29.99"), Decimal("300.1"), 0, 661])
def test_weights_outside_the_range_are_refused_with_both_units_in_the_message(kg: Decimal) -> None:
    with pytest.raises(ValueError) as error:
        validate_weight_kg(kg)

    assert str(error.value) == "Weight must be between 30 and 300 kg (67 and 661 lb)."


def test_the_pound_figures_in_the_weight_message_are_themselves_accepted() -> None:
    # 66 lb is 29.9 kg, which is why the message says 67.
    assert validate_weight_kg(pounds_to_kg(67))
    assert validate_weight_kg(pounds_to_kg(661))
    with pytest.raises(ValueError):
        validate_weight_kg(pounds_to_kg(66))


@pytest.mark.parametrize("cm", [100, 175.3, 250])
def test_heights_inside_the_range_including_its_ends_are_accepted(cm: float) -> None:
    assert validate_height_cm(cm) == Decimal(str(cm))


@pytest.mark.parametrize("cm", [Decimal("99.9"), Decimal("250.1"), 69])
def test_heights_outside_the_range_are_refused_with_both_units_in_the_message(cm: Decimal) -> None:
    with pytest.raises(ValueError) as error:
        validate_height_cm(cm)

    assert str(error.value) == "Height must be between 100 and 250 cm (3 ft 4 in and 8 ft 2 in)."


def test_the_feet_and_inches_in_the_height_message_are_themselves_accepted() -> None:
    assert validate_height_cm(feet_inches_to_cm(3, 4))
    assert validate_height_cm(feet_inches_to_cm(8, 2))
    with pytest.raises(ValueError):
        validate_height_cm(feet_inches_to_cm(3, 3))


@pytest.mark.parametrize("value", ["70", None, True, float("nan"), Decimal("Infinity")])
def test_range_validation_refuses_non_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="must be a number"):
        validate_weight_kg(value)  # type: ignore[arg-type]  # non-numbers, refused at run time
    with pytest.raises(ValueError, match="must be a number"):
        validate_height_cm(value)  # type: ignore[arg-type]  # non-numbers, refused at run time


@pytest.mark.parametrize(
    ("kg", "cm", "expected"),
    [
        (70, 175, Decimal("22.9")),
        (100, 200, Decimal("25.0")),
        (Decimal("45.5"), 160, Decimal("17.8")),
    ],
)
def test_bmi_is_weight_over_height_in_metres_squared(
    kg: float, cm: float, expected: Decimal
) -> None:
    assert bmi(kg, cm) == expected


@pytest.mark.parametrize(("kg", "cm"), [(0, 170), (70, 0), (-70, 170)])
def test_bmi_refuses_a_weight_or_height_of_0_or_less(kg: float, cm: float) -> None:
    with pytest.raises(ValueError):
        bmi(kg, cm)
