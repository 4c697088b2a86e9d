"""The first versions of the consent texts in Spanish (docs/languages.md#consent-texts): the same
version as the English ones (2026-11), so a signature in either language records the same version
and its language."""

import datetime as dt

from django.db import migrations

PUBLISHED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

TEXTS = [
    (
        "treatment",
        "Consentimiento para el tratamiento con ketamina intravenosa",
        "Pido que se me evalúe y, si un profesional clínico lo aprueba, que se me trate con "
        "ketamina en dosis bajas administrada en una vena (una infusión), normalmente en una "
        "serie de 8 a 12 infusiones durante 3 a 4 semanas.\n\n"
        "Entiendo que la ketamina para el dolor crónico, la depresión o la ansiedad se usa fuera "
        "de las indicaciones aprobadas (uso off-label); que durante una infusión y después de "
        "ella puedo sentirme como en un sueño, mareado/a, desconectado/a o con náuseas, y que mi "
        "presión arterial y mi pulso pueden subir; y que una enfermera me vigilará, medirá mi "
        "presión arterial, mi pulso y mi oxígeno durante todo el tiempo, y podrá hacer más lenta "
        "o detener la infusión.\n\n"
        "Entiendo que el beneficio no está garantizado, que puedo dejar el tratamiento en "
        "cualquier momento y que debo informar a la clínica de todos los medicamentos que tomo y "
        "de cualquier cambio en mi salud.",
    ),
    (
        "escort",
        "Acuerdo sobre el conductor y acompañante",
        "Después de cada infusión, un adulto responsable me llevará a casa. No manejaré, no usaré "
        "maquinaria ni tomaré decisiones importantes durante las 24 horas siguientes a una "
        "infusión. Si no hay nadie para llevarme a casa, la infusión no empezará.",
    ),
    (
        "fasting",
        "Ayuno antes de una infusión",
        "Antes de cada infusión: no coma alimentos sólidos durante las 6 horas anteriores; puede "
        "tomar líquidos claros (agua, jugo claro, café o té sin leche) hasta 2 horas antes. Tome "
        "sus medicamentos habituales, a menos que la clínica le indique otra cosa. La clínica "
        "puede darle instrucciones diferentes; en ese caso, siga las de la clínica.",
    ),
    (
        "sms",
        "Mensajes de texto sobre las citas",
        "Le enviaremos mensajes de texto a su celular sobre sus citas: confirmaciones, "
        "recordatorios e instrucciones para prepararse. Los mensajes nunca contienen detalles "
        "médicos. Pueden aplicarse tarifas de mensajes y datos. Responda STOP en cualquier "
        "momento para dejar de recibirlos, o cambie su elección con la recepción.",
    ),
]


def publish(apps, schema_editor):
    ConsentText = apps.get_model("intake", "ConsentText")
    for kind, title, body in TEXTS:
        ConsentText.objects.update_or_create(
            kind=kind,
            version="2026-11",
            language="es",
            defaults={"title": title, "body": body, "published_at": PUBLISHED},
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0009_answer_and_consent_language")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
