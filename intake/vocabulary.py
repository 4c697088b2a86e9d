"""The questionnaire's vocabulary: the fixed choices and questions its forms offer.

The step forms build their fields from these lists (intake.forms); the review summary names the
answers in words from the same lists. A code is stored; its words are only shown, in the reader's
language.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

YES_NO = [("yes", _("Yes")), ("no", _("No"))]

# --- 3. Reason for care

INDICATIONS = [
    ("fibromyalgia", _("Fibromyalgia")),
    ("chronic_pain", _("Other chronic pain")),
    ("depression", _("Depression")),
    ("anxiety", _("Anxiety")),
    ("ptsd", _("PTSD")),
    ("other", _("Other")),
]

# Form 2: one question for how long, in ranges that do not touch (form 1's _("3 to 6 months") and
# _("6 to 12 months") both held 6 months); the ACR 2016 3-month answer is derived from it.
PAIN_DURATIONS = [
    ("under_3_months", _("Less than 3 months")),
    ("3_to_6_months", _("3 months or more, but less than 6 months")),
    ("6_to_12_months", _("6 months or more, but less than a year")),
    ("1_to_5_years", _("1 year or more, but less than 5 years")),
    ("over_5_years", _("5 years or more")),
]
PAIN_DURATIONS_FORM_1 = [
    ("under_3_months", _("Less than 3 months")),
    ("3_to_6_months", _("3 to 6 months")),
    ("6_to_12_months", _("6 to 12 months")),
    ("1_to_5_years", _("1 to 5 years")),
    ("over_5_years", _("More than 5 years")),
]
THREE_MONTHS_OR_MORE = {"3_to_6_months", "6_to_12_months", "1_to_5_years", "over_5_years"}

PRIOR_TREATMENTS = [
    ("physical_therapy", _("Physical therapy or an exercise programme")),
    ("antidepressants", _("Antidepressants (e.g. duloxetine, amitriptyline)")),
    ("anticonvulsants", _("Nerve-pain medicines (e.g. pregabalin, gabapentin)")),
    ("opioids", _("Opioid pain medicines")),
    ("injections", _("Injections or nerve blocks")),
    ("psychotherapy", _("Talking therapy (e.g. CBT)")),
    ("ketamine", _("Ketamine before")),
    ("other", _("Something else")),
]

# --- 7. Health history and safety screen

# (code, question, prompt for details when the answer is yes). Form 2 (form versions:
# intake/steps.py) asks severe and moderate liver disease apart and follows some yeses with a
# structured question (FOLLOW_UPS), as the ASRA 2018 guideline distinguishes them (intake.flags).
SAFETY_ITEMS: list[tuple[str, StrOrPromise, StrOrPromise]] = [
    ("high_blood_pressure", _("High blood pressure"), _("Which medicines do you take for it?")),
    ("heart_attack", _("A heart attack"), _("When was it?")),
    ("angina", _("Chest pain from the heart (angina)"), _("Is it recent or getting worse?")),
    ("heart_failure", _("Heart failure"), ""),
    (
        "arrhythmia",
        _("An irregular heartbeat (arrhythmia)"),
        _("Which kind, and how is it treated?"),
    ),
    ("aneurysm", _("An aneurysm"), _("Where, and is it being followed?")),
    ("stroke", _("A stroke or mini-stroke (TIA)"), _("When was it?")),
    ("pregnant", _("Are you pregnant, or could you be?"), ""),
    ("breastfeeding", _("Are you breastfeeding?"), ""),
    (
        "psychosis",
        _("Psychosis or schizophrenia, or seeing or hearing things others do not"),
        _("What happened, and when?"),
    ),
    ("bipolar", _("Bipolar disorder or episodes of mania"), ""),
    ("seizures", _("Seizures or epilepsy"), _("When was the last one?")),
    (
        "liver_severe",
        _("Cirrhosis or severe liver disease (for example liver failure, or a liver transplant)"),
        _("What did your doctor call it?"),
    ),
    (
        "liver_moderate",
        _("Other liver disease (for example hepatitis or a fatty liver)"),
        _("Which, and is it treated?"),
    ),
    (
        "intracranial_pressure",
        _("A serious head injury, brain tumour, or raised pressure in the head"),
        "",
    ),
    ("eye_pressure", _("Glaucoma, raised eye pressure, or a recent eye injury"), ""),
    (
        "substance_use",
        _("Alcohol or drug use that worried you or others"),
        _("What, and how often?"),
    ),
    ("ketamine_reaction", _("An allergy or a bad reaction to ketamine"), _("What happened?")),
    ("hyperthyroidism", _("An overactive thyroid (hyperthyroidism)"), _("Is it under control?")),
    ("sleep_apnoea", _("Sleep apnoea"), _("Do you use a CPAP machine?")),
    ("bladder_after_ketamine", _("Bladder problems after using ketamine"), ""),
]

_NOW_OR_PAST = [
    ("now", _("Yes, now (or it is still being treated)")),
    ("past", _("Only in the past")),
]

# Question code -> (field, question, choices), asked after a yes (and required then).
FOLLOW_UPS: dict[str, tuple[str, StrOrPromise, Sequence[tuple[str, StrOrPromise]]]] = {
    "high_blood_pressure": (
        "high_blood_pressure_control",
        _("Is your blood pressure under control?"),
        [
            ("controlled", _("Yes, it is under control")),
            ("not_controlled", _("No, it is not under control")),
            ("not_sure", _("I don't know")),
        ],
    ),
    "psychosis": ("psychosis_when", _("Is it now, or only in the past?"), _NOW_OR_PAST),
    "substance_use": ("substance_use_when", _("Is it now, or only in the past?"), _NOW_OR_PAST),
}

SAFETY_ITEMS_FORM_1: list[tuple[str, StrOrPromise, StrOrPromise]] = [
    ("high_blood_pressure", _("High blood pressure"), _("Is it treated? Is it under control?")),
    *SAFETY_ITEMS[1:9],
    (
        "psychosis",
        _("Psychosis or schizophrenia, or seeing or hearing things others do not"),
        _("Is it current?"),
    ),
    ("bipolar", _("Bipolar disorder or episodes of mania"), ""),
    ("seizures", _("Seizures or epilepsy"), _("When was the last one?")),
    (
        "liver_disease",
        _("Liver disease (for example hepatitis or cirrhosis)"),
        _("Which, and how bad?"),
    ),
    *SAFETY_ITEMS[14:16],
    (
        "substance_use",
        _("Do you currently use alcohol or drugs in a way that worries you or others?"),
        _("What, and how often?"),
    ),
    *SAFETY_ITEMS[17:],
]
