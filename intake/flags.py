"""Safety flags derived from a submitted intake (docs/product-rules.md#safety-flags): decision
support, never a verdict.

Each flag carries the reason in plain words (quoting the patient's answer) and its source, so the
clinician sees why it was raised and can weigh it. Nothing here rejects anyone. The functions are
pure: they read the stored answers and scores and the location's thresholds.

Sources:
- ASRA: Cohen SP et al. Consensus guidelines on the use of intravenous ketamine infusions for
  chronic pain from the American Society of Regional Anesthesia and Pain Medicine, the American
  Academy of Pain Medicine, and the American Society of Anesthesiologists. Reg Anesth Pain Med
  2018;43:521-546 (relative contraindications).
- Clinic policy: exclusions and cautions the clinics publish for their patients.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

ASRA_2018 = "ASRA/AAPM/ASA consensus guidelines on IV ketamine for chronic pain (Cohen et al. 2018)"
CLINIC_POLICY = "Clinic policy"
PHQ9_SOURCE = "PHQ-9 item 9 (Kroenke, Spitzer & Williams 2001)"
ACR_SOURCE = "ACR 2016 fibromyalgia criteria (Wolfe et al. 2016)"


class Kind(StrEnum):
    URGENT = "urgent"
    CONTRAINDICATION = "contraindication"
    POLICY = "policy"
    WORK_UP = "work_up"
    SCREENING = "screening"

    @property
    def label(self) -> str:
        return {
            "urgent": "Urgent safety flag",
            "contraindication": "Relative contraindication",
            "policy": "Clinic policy",
            "work_up": "Work-up needed",
            "screening": "Screening result",
        }[self.value]


@dataclass(frozen=True)
class Flag:
    code: str
    kind: Kind
    title: str
    reason: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class Thresholds:
    """A blood-pressure reading at or above either number counts as uncontrolled (configurable)."""

    systolic: int = 160
    diastolic: int = 100


# Answer code -> (flag code, title) for the ASRA relative contraindications the patient reports.
ASRA_ITEMS = {
    "pregnant": ("pregnancy", "Pregnancy"),
    "intracranial_pressure": ("intracranial_pressure", "Elevated intracranial pressure"),
    "eye_pressure": ("intraocular_pressure", "Elevated intraocular pressure"),
}

# Items where ASRA names the active condition only: (answer code, flag code, active title, past
# title). Form 2 asks "now or in the past" (`<code>_when`); form 1 asked "ever", so its yes says
# neither and the flag says so.
NOW_OR_PAST_ITEMS = (
    ("psychosis", "psychosis", "Active psychosis", "Psychosis in the past"),
    (
        "substance_use",
        "substance_misuse",
        "Active substance misuse: no serial infusions",
        "Substance misuse in the past",
    ),
)

# Words in a form-1 detail that say the blood pressure is not under control, or not known.
_NOT_CONTROLLED_WORDS = re.compile(
    r"not (well |very well )?(under )?control|uncontrolled|poorly controlled|not treated|untreated"
    r"|don.?t know|do not know|not sure|unsure",
    re.IGNORECASE,
)
# Words in a form-1 liver detail that name severe disease.
_SEVERE_LIVER_WORDS = re.compile(r"cirrho|severe|failure|transplant|end.stage", re.IGNORECASE)

POLICY_ITEMS = {
    "ketamine_reaction": "Allergy or bad reaction to ketamine",
    "breastfeeding": "Breastfeeding",
    "heart_attack": "Previous heart attack: is it recent?",
    "angina": "Angina: is it unstable?",
    "heart_failure": "Heart failure",
    "arrhythmia": "Significant arrhythmia",
    "aneurysm": "Aneurysm",
    "stroke": "Stroke or TIA",
    "hyperthyroidism": "Hyperthyroidism: is it controlled?",
    "bipolar": "Bipolar disorder or mania",
    "seizures": "Seizure disorder",
    "sleep_apnoea": "Sleep apnoea",
    "bladder_after_ketamine": "Bladder problems after ketamine",
}

CARDIAC_ITEMS = (
    "high_blood_pressure",
    "heart_attack",
    "angina",
    "heart_failure",
    "arrhythmia",
    "aneurysm",
    "stroke",
)

# Medicines that interact with ketamine, by class; matched on generic and common brand names.
INTERACTING_MEDICINES: dict[str, tuple[str, ...]] = {
    "benzodiazepine": (
        "alprazolam",
        "lorazepam",
        "clonazepam",
        "diazepam",
        "temazepam",
        "chlordiazepoxide",
        "oxazepam",
        "xanax",
        "ativan",
        "klonopin",
        "valium",
    ),
    "lamotrigine": ("lamotrigine", "lamictal"),
    "opioid": (
        "oxycodone",
        "hydrocodone",
        "morphine",
        "fentanyl",
        "tramadol",
        "methadone",
        "buprenorphine",
        "codeine",
        "hydromorphone",
        "tapentadol",
        "oxymorphone",
        "percocet",
        "vicodin",
        "suboxone",
        "norco",
    ),
    "MAOI": (
        "phenelzine",
        "tranylcypromine",
        "isocarboxazid",
        "selegiline",
        "rasagiline",
        "nardil",
        "parnate",
        "emsam",
    ),
    "stimulant": (
        "amphetamine",
        "dextroamphetamine",
        "lisdexamfetamine",
        "methylphenidate",
        "modafinil",
        "armodafinil",
        "adderall",
        "ritalin",
        "vyvanse",
        "concerta",
    ),
}


def _detail(safety: Mapping[str, Any], code: str) -> str:
    detail = str(safety.get(f"{code}_detail") or "").strip()
    return f" Their words: “{detail}”." if detail else ""


def _reported_uncontrolled(safety: Mapping[str, Any]) -> str:
    """Why the patient's own words say their blood pressure is poorly controlled, or "".

    ASRA 2018 lists poorly controlled cardiovascular disease, e.g. uncontrolled hypertension, as
    a relative contraindication: a patient who says it is not under control, or does not know,
    has not shown that it is controlled. Form 2 asks it (`high_blood_pressure_control`); form 1
    had only a free-text detail, read for the same words.
    """
    if not safety.get("high_blood_pressure"):
        return ""
    control = safety.get("high_blood_pressure_control")
    if control == "not_controlled":
        return "Reports high blood pressure that is not under control."
    if control == "not_sure":
        return "Reports high blood pressure and does not know whether it is under control."
    detail = str(safety.get("high_blood_pressure_detail") or "")
    if control is None and _NOT_CONTROLLED_WORDS.search(detail):
        return "Reports high blood pressure; their words say it is not known to be controlled."
    return ""


def blood_pressure_flags(safety: Mapping[str, Any], thresholds: Thresholds) -> list[Flag]:
    """Poorly controlled blood pressure from a reading at or above the location's threshold
    (default 160/100) or from the patient's words (ASRA 2018); a reading is asked for when high
    blood pressure is reported without one (clinic policy)."""
    systolic, diastolic = safety.get("recent_systolic"), safety.get("recent_diastolic")
    reasons: list[str] = []
    has_reading = systolic is not None and diastolic is not None
    if (
        systolic is not None
        and diastolic is not None
        and (systolic >= thresholds.systolic or diastolic >= thresholds.diastolic)
    ):
        taken = safety.get("recent_bp_date")
        reasons.append(
            f"Most recent reading given: {systolic}/{diastolic} mmHg"
            + (f" (taken {taken})" if taken else "")
            + f", at or above the threshold of {thresholds.systolic}/{thresholds.diastolic}."
        )
    if words := _reported_uncontrolled(safety):
        reasons.append(words)
    flags: list[Flag] = []
    if reasons:
        flags.append(
            Flag(
                "uncontrolled_hypertension",
                Kind.CONTRAINDICATION,
                "Poorly controlled blood pressure",
                " ".join(reasons) + _detail(safety, "high_blood_pressure"),
                ASRA_2018,
            )
        )
    if not has_reading and safety.get("high_blood_pressure"):
        flags.append(
            Flag(
                "needs_blood_pressure",
                Kind.WORK_UP,
                "Needs a blood pressure reading",
                "High blood pressure reported without a recent reading."
                + _detail(safety, "high_blood_pressure"),
                CLINIC_POLICY,
            )
        )
    return flags


def now_or_past_flags(safety: Mapping[str, Any]) -> list[Flag]:
    """Active psychosis and active substance misuse are ASRA 2018 relative contraindications
    (substance misuse: no serial infusions); a history of either is not, so it is a clinic-policy
    caution that says "in the past"."""
    flags: list[Flag] = []
    for answer, code, active_title, past_title in NOW_OR_PAST_ITEMS:
        if not safety.get(answer):
            continue
        when = safety.get(f"{answer}_when")
        if when == "past":
            flags.append(
                Flag(
                    f"{code}_past",
                    Kind.POLICY,
                    past_title,
                    "Answered yes, in the past and not now." + _detail(safety, answer),
                    CLINIC_POLICY,
                )
            )
            continue
        reason = (
            "Answered yes, now."
            if when == "now"
            else "Answered yes to “ever”; this form did not ask whether it is current."
        )
        flags.append(
            Flag(
                code,
                Kind.CONTRAINDICATION,
                active_title if when == "now" else f"{active_title} (now or in the past)",
                reason + _detail(safety, answer),
                ASRA_2018,
            )
        )
    return flags


def liver_flags(safety: Mapping[str, Any]) -> list[Flag]:
    """ASRA 2018 names severe liver disease (e.g. cirrhosis) and moderate liver disease apart
    (the latter needs liver function tests). Form 2 asks them apart (`liver_severe`,
    `liver_moderate`); form 1 asked one question, whose detail is read for severe words."""
    severe = bool(safety.get("liver_severe"))
    moderate = bool(safety.get("liver_moderate"))
    detail_code = "liver_severe" if severe else "liver_moderate"
    if safety.get("liver_disease"):  # form 1
        detail_code = "liver_disease"
        if _SEVERE_LIVER_WORDS.search(str(safety.get("liver_disease_detail") or "")):
            severe = True
        else:
            moderate = True
    flags: list[Flag] = []
    if severe:
        flags.append(
            Flag(
                "liver_disease_severe",
                Kind.CONTRAINDICATION,
                "Severe liver disease (cirrhosis)",
                "Severe liver disease or cirrhosis reported." + _detail(safety, detail_code),
                ASRA_2018,
            )
        )
    if moderate and not severe:
        flags.append(
            Flag(
                "liver_disease_moderate",
                Kind.CONTRAINDICATION,
                "Moderate liver disease",
                "Liver disease (not severe) reported." + _detail(safety, detail_code),
                ASRA_2018,
            )
        )
    return flags


def medicine_flags(medications: list[Mapping[str, Any]]) -> list[Flag]:
    flags: list[Flag] = []
    for medicine in medications:
        name = str(medicine.get("name", ""))
        words = name.casefold()
        for drug_class, names in INTERACTING_MEDICINES.items():
            if any(known in words for known in names):
                flags.append(
                    Flag(
                        f"interacting_medicine_{drug_class.lower()}",
                        Kind.POLICY,
                        f"Interacting medicine ({drug_class})",
                        f"Takes “{name}”, a {drug_class} that interacts with ketamine.",
                        CLINIC_POLICY,
                    )
                )
    return flags


def derive_flags(
    answers: Mapping[str, Mapping[str, Any]],
    scores: Mapping[str, Any],
    thresholds: Thresholds = Thresholds(),
) -> list[Flag]:
    """All flags for one intake, urgent first, in a stable order."""
    safety = answers["safety"]
    flags: list[Flag] = []

    if scores["phq9"]["item9"] > 0:
        flags.append(
            Flag(
                "self_harm",
                Kind.URGENT,
                "Thoughts of death or self-harm",
                f"PHQ-9 item 9 answered {scores['phq9']['item9']} (of 3): thoughts that they "
                "would be better off dead or of hurting themselves. Acknowledge before booking.",
                PHQ9_SOURCE,
            )
        )

    flags.extend(blood_pressure_flags(safety, thresholds))
    for answer, (code, title) in ASRA_ITEMS.items():
        if safety.get(answer):
            flags.append(
                Flag(
                    code,
                    Kind.CONTRAINDICATION,
                    title,
                    "Answered yes." + _detail(safety, answer),
                    ASRA_2018,
                )
            )
    flags.extend(now_or_past_flags(safety))
    liver = liver_flags(safety)
    flags.extend(liver)

    for answer, title in POLICY_ITEMS.items():
        if safety.get(answer):
            flags.append(
                Flag(
                    answer,
                    Kind.POLICY,
                    title,
                    "Answered yes." + _detail(safety, answer),
                    CLINIC_POLICY,
                )
            )
    flags.extend(medicine_flags(list(safety.get("medications") or [])))

    cardiac = [item for item in CARDIAC_ITEMS if safety.get(item)]
    if cardiac:
        flags.append(
            Flag(
                "needs_ecg",
                Kind.WORK_UP,
                "Needs an ECG",
                "Cardiac risk reported: "
                + ", ".join(item.replace("_", " ") for item in cardiac)
                + ".",
                ASRA_2018,
            )
        )
    if liver:
        flags.append(
            Flag(
                "needs_liver_tests",
                Kind.WORK_UP,
                "Needs liver tests",
                "Liver disease reported; liver function tests before treatment.",
                ASRA_2018,
            )
        )

    acr = scores["acr_2016"]
    met = acr["criteria_met"]
    flags.append(
        Flag(
            "acr_2016_met" if met else "acr_2016_not_met",
            Kind.SCREENING,
            "ACR 2016 fibromyalgia criteria met" if met else "ACR 2016 criteria not met",
            f"WPI {acr['wpi']}, SSS {acr['sss']}, pain in {len(acr['regions_with_pain'])} of 5 "
            f"regions, symptoms for 3 months or more: {'yes' if acr['duration_met'] else 'no'}. "
            "A screening aid, not a diagnosis.",
            ACR_SOURCE,
        )
    )
    return flags
