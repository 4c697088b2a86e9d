"""The PHQ-9 and GAD-7 in each language patients answer them in (issue 21).

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
- GAD-7, Spanish: the authors' "Spanish for USA" PDF could not be retrieved here. The wording
  below is the one public sources agree on (https://sonria.com/?p=49407 for the prompt, the
  answers and items 1-4 and 7; public clinical forms for items 5 and 6). It must be checked
  against https://www.phqscreeners.com before clinical use; a correction is a new
  GAD7_VERSION (the stored answers record the version and language they were given in).
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
        "Durante las últimas 2 semanas, ¿con qué frecuencia le han molestado los siguientes "
        "problemas?"
    ),
    gad7_items=(
        "Sentirse nervioso(a), ansioso(a) o con los nervios de punta",
        "No poder dejar de preocuparse o no poder controlar la preocupación",
        "Preocuparse demasiado por diferentes cosas",
        "Dificultad para relajarse",
        "Estar tan inquieto(a) que es difícil permanecer sentado(a) tranquilamente",
        "Molestarse o ponerse irritable fácilmente",
        "Sentir miedo como si algo terrible pudiera pasar",
    ),
    answers=("Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días"),
    gad7_answers=("Nunca", "Varios días", "Más de la mitad de los días", "Casi todos los días"),
)

BY_LANGUAGE: dict[str, MoodTexts] = {"en": ENGLISH, "es": SPANISH}


def mood_texts(language: str) -> MoodTexts:
    """The instruments' wording in the language, or in English where there is none."""
    return BY_LANGUAGE.get(language, ENGLISH)
