"""The PHQ-9 and GAD-7 in each language patients answer them in
(docs/languages.md#the-instruments).

The English wording is `intake.scoring`'s. A standardised instrument is not translated by us: the
Spanish text is the authors' Spanish version, copied as published, never reworded, because its
validation holds for that wording only. Both instruments were developed by Drs. Robert L.
Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer
Inc.; "No se requiere permiso para reproducir, traducir, presentar o distribuir."

Sources (README "Languages"):
- PHQ-9, Spanish: the authors' form "Cuestionario sobre la salud del paciente-9 (PHQ-9)" as
  reproduced in full, with the authors' attribution, at
  https://es.studenta.com/content/129686767/patient-health-questionnaire-9-spanish (the PDF
  "PatientHealthQuestionnaire9_Spanish" of the PHQ Screeners site); the same item wording is in
  many public clinical forms.
- GAD-7, Spanish: the authors' "Spanish for USA" wording, which shares the PHQ-9's prompt and
  answers ("¿qué tan seguido ha tenido molestias...", "Ningún día"...). The PHQ Screeners PDF
  itself could not be retrieved here; the items are as reproduced, with the authors'
  attribution, in several independent public clinical forms that agree word for word (a
  screening app marking its wording verified, two clinics' questionnaires). Check it against
  https://www.phqscreeners.com before clinical use; a correction is a new GAD7_VERSION (the
  stored answers record the version and language they were given in).
"""

from __future__ import annotations

from dataclasses import dataclass

from intake import scoring


@dataclass(frozen=True)
class MoodTexts:
    phq9_prompt: str
    phq9_items: tuple[str, ...]
    gad7_prompt: str
    gad7_items: tuple[str, ...]
    answers: tuple[str, ...]  # 0 to 3, shared by both instruments
    gad7_answers: tuple[str, ...]


ENGLISH = MoodTexts(
    phq9_prompt=scoring.PHQ9_PROMPT,
    phq9_items=tuple(scoring.PHQ9_ITEMS),
    gad7_prompt=scoring.GAD7_PROMPT,
    gad7_items=tuple(scoring.GAD7_ITEMS),
    answers=tuple(scoring.FREQUENCY_ANSWERS),
    gad7_answers=tuple(scoring.FREQUENCY_ANSWERS),
)

# Both instruments' Spanish answers, as the PHQ-9's English ones serve both.
SPANISH_ANSWERS = (
    "Ningún día",
    "Varios días",
    "Más de la mitad de los días",
    "Casi todos los días",
)

SPANISH = MoodTexts(
    phq9_prompt=(
        "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los "
        "siguientes problemas?"
    ),
    phq9_items=(
        "Poco interés o placer en hacer cosas",
        "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
        "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado",
        "Se ha sentido cansado(a) o con poca energía",
        "Sin apetito o ha comido en exceso",
        "Se ha sentido mal con usted mismo(a) – o que es un fracaso o que ha quedado mal con "
        "usted mismo(a) o con su familia",
        "Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el "
        "periódico o ver la televisión",
        "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo "
        "contrario – muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo "
        "normal",
        "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
    ),
    gad7_prompt=(
        "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los "
        "siguientes problemas?"
    ),
    gad7_items=(
        "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
        "No ha sido capaz de parar o controlar su preocupación",
        "Se ha preocupado demasiado por motivos diferentes",
        "Ha tenido dificultad para relajarse",
        "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
        "Se ha molestado o irritado fácilmente",
        "Ha tenido miedo de que algo terrible fuera a pasar",
    ),
    answers=SPANISH_ANSWERS,
    gad7_answers=SPANISH_ANSWERS,
)

BY_LANGUAGE: dict[str, MoodTexts] = {"en": ENGLISH, "es": SPANISH}


def mood_texts(language: str) -> MoodTexts:
    """The instruments' wording in the language, or in English where there is none."""
    return BY_LANGUAGE.get(language, ENGLISH)
