"""A Spanish-speaking patient's whole journey in Chromium (docs/languages.md): the language switch
on the sign-up page of an English browser, registration and the emailed link, the whole intake in
Spanish with axe-core on every page, and a reminder sent by a real Celery worker through the real
SMTP peer, in Spanish, whose link opens a page in Spanish."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import PatientProfile, Role, User
from bench.smtp_peer import SmtpPeer
from intake.models import Intake, IntakeAnswer
from notifications.models import Message
from notifications.tasks import dispatch_due
from review import services as review
from review.models import ProtocolTemplate
from scheduling import services
from scheduling.models import ReminderKind
from tests.conftest import screenshot
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.test_browser_intake import axe_violations, choose

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "una-contraseña-larga-2026"


def save(page, audits: dict[str, list]) -> None:
    audits[page.url] = axe_violations(page)
    page.get_by_role("button", name=re.compile("^Guardar y")).click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es", page.url
    # Shown when a step did not save (the next wait_for_url then fails).
    print(page.url, page.locator(".is-invalid").evaluate_all("els => els.map(e => e.name)"))


def _register(page, peer: SmtpPeer) -> None:
    page.goto("/register/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Español").click()
    page.wait_for_url("**/register/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Crear una cuenta").is_visible()
    assert axe_violations(page) == []
    page.get_by_label("Nombre").fill("Lucía")
    page.get_by_label("Apellido").fill("Ramos")
    page.get_by_label("Correo electrónico").fill("lucia.ramos@example.org")
    page.get_by_label("Fecha de nacimiento").fill("1979-05-02")
    page.get_by_role("button", name="Crear mi cuenta").click()
    page.wait_for_url("**/register/sent/")
    assert "Revise su correo electrónico" in page.content()

    # Sent by the worker through the SMTP peer, in the language she registered in.
    email = _mail_to(peer, "Confirme su correo electrónico")
    body = email.get_body(preferencelist=("plain",)).get_content()
    assert "Gracias por crear una cuenta" in body
    link = re.search(r"https?://\S+?(/register/verify/\S+/)", body)
    assert link, body
    page.goto(link.group(1))
    assert page.get_by_role("heading", name="Elija su contraseña").is_visible()
    assert axe_violations(page) == []
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Confirmar y crear mi cuenta").click()
    page.wait_for_url("**/intake/")


def _intake(page) -> dict[str, list]:
    audits: dict[str, list] = {}
    assert "Su cuestionario de admisión" in page.content()
    audits[page.url] = axe_violations(page)
    page.get_by_role("button", name="Empezar el cuestionario").click()

    page.wait_for_url("**/about/")
    assert page.get_by_label("Fecha de nacimiento").input_value() == "1979-05-02"
    page.get_by_label("Nombre legal").fill("Lucía")
    page.get_by_label("Apellido legal").fill("Ramos")
    choose(page, "sex_at_birth", "female")
    page.get_by_label("Dirección").fill("12 Calle Olmo")
    page.get_by_label("Ciudad o pueblo").fill("Irvine")
    page.get_by_label("Estado").fill("CA")
    page.get_by_label("Código postal (ZIP)").fill("92618")
    page.get_by_label("Teléfono celular").fill("949 555 0199")
    page.get_by_label("Sede preferida").select_option("stamford")
    assert page.get_by_label("Idioma preferido").input_value() == "es"
    save(page, audits)

    page.wait_for_url("**/contacts/")
    page.get_by_label("Nombre del contacto de emergencia").fill("Mateo Ramos")
    page.get_by_label("Teléfono del contacto de emergencia").fill("949 555 0111")
    page.get_by_label("Relación del contacto de emergencia con usted").fill("Esposo")
    page.get_by_label("Nombre de la persona adulta que le llevará a casa").fill("Mateo Ramos")
    page.get_by_label("Teléfono del conductor").fill("949 555 0111")
    page.get_by_label("Relación del conductor con usted").fill("Esposo")
    save(page, audits)

    page.wait_for_url("**/reason/")
    choose(page, "indications", "fibromyalgia")
    choose(page, "pain_duration", "1_to_5_years")
    save(page, audits)

    page.wait_for_url("**/fibromyalgia/")
    assert page.locator('label[for="area-left_shoulder_girdle"]').inner_text() == (
        "Cintura escapular (hombro) izquierda"
    )
    for area in ("left_shoulder_girdle", "right_shoulder_girdle", "neck", "lower_back"):
        page.locator(f'.body-area[data-area="{area}"]').first.click()
    for area in ("left_hip", "right_hip", "left_upper_leg"):
        page.locator(f"#area-{area}").check()
    assert page.locator("#body-map-count").inner_text() == "7 de 19 zonas seleccionadas"
    for item, value in (("fatigue", "3"), ("waking_unrefreshed", "2"), ("cognitive_symptoms", "1")):
        choose(page, item, value)
    for item, value in (("headaches", "yes"), ("lower_abdominal_pain", "no"), ("depression", "no")):
        choose(page, item, value)
    save(page, audits)

    page.wait_for_url("**/pain/")
    for name, value in (
        ("pain_now", "6"),
        ("pain_average", "7"),
        ("pain_worst", "9"),
        ("peg_enjoyment", "6"),
        ("peg_activity", "8"),
    ):
        choose(page, name, value)
    save(page, audits)

    page.wait_for_url("**/mood/")
    assert "Poco interés o placer en hacer cosas" in page.locator("#group-phq9_1").inner_text()
    for n in range(1, 9):
        choose(page, f"phq9_{n}", "1")
    choose(page, "phq9_9", "1")
    crisis = page.locator("#crisis-resources")
    assert crisis.is_visible()
    assert "Línea 988, oprima 2" in crisis.inner_text()
    assert "911" in crisis.inner_text()
    audits[page.url + "#crisis"] = axe_violations(page)
    page.get_by_role("button", name="Volver a las preguntas").click()
    for n in range(1, 8):
        choose(page, f"gad7_{n}", "2")
    save(page, audits)

    page.wait_for_url("**/safety/")
    for radio in page.locator('input[type="radio"][value="no"]').all():
        radio.check()
    page.locator("#id_medications-0-name").fill("Duloxetina")
    page.get_by_role("button", name="Añadir otra fila de medicamento").click()
    page.locator("#id_medications-1-name").fill("Pregabalina")
    save(page, audits)

    page.wait_for_url("**/measurements/")
    page.locator("#id_weight").fill("20")
    choose(page, "weight_unit", "kg")
    choose(page, "height_unit", "cm")
    page.get_by_label("Estatura en cm").fill("165")
    save(page, audits)
    assert "El peso debe estar entre 30 y 300 kg" in page.content()
    page.locator("#id_weight").fill("70")
    save(page, audits)

    page.wait_for_url("**/insurance/")
    choose(page, "payment", "self_pay")
    save(page, audits)

    page.wait_for_url("**/consents/")
    assert "Consentimiento para el tratamiento con ketamina intravenosa" in page.content()
    page.get_by_label("He leído las instrucciones de ayuno.").check()
    page.get_by_label("He leído y acepto el acuerdo sobre el conductor y acompañante.").check()
    page.get_by_label("He leído el consentimiento para el tratamiento y lo acepto.").check()
    page.get_by_label("Escriba su nombre legal completo como firma").fill("Lucía Ramos")
    save(page, audits)

    page.wait_for_url("**/review/")
    audits[page.url] = axe_violations(page)
    assert "Revise sus respuestas" in page.content()
    assert "Duloxetina" in page.content()
    screenshot(page, "intake-review-es")
    page.get_by_role("button", name="Enviar a la clínica").click()
    page.wait_for_url("**/submitted/")
    assert "Gracias: sus respuestas se enviaron" in page.content()
    audits[page.url] = axe_violations(page)
    return audits


def _mail_to(peer: SmtpPeer, subject: str, timeout: float = 60):
    """The patient's email whose subject starts so, among what the SMTP peer received (the
    clinicians' urgent-flag notice, in English, goes out too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for email in peer.messages:
            to_her = "lucia.ramos@example.org" in str(email["To"])
            if to_her and str(email["Subject"]).strip().startswith(subject):
                return email
        time.sleep(0.1)
    raise AssertionError([str(email["Subject"]) for email in peer.messages])


def _book(patient: User, location) -> None:
    """A clinician approves (after acknowledging the urgent flag) and the desk books one
    infusion a few days ahead, on a weekday, at 10:00 local."""
    intake = Intake.objects.get(patient=patient)
    clinician = UserFactory.create(role=Role.CLINICIAN)
    flag = intake.urgent_flag
    review.acknowledge(flag, clinician, "Called the patient; safe, follows up with her doctor.")
    template = ProtocolTemplate.objects.get(is_default=True)
    values = {field: getattr(template, field) for field in review.PLAN_FIELDS}
    values["infusions"] = 1
    plan = review.approve(intake, clinician, values)
    day = timezone.localdate() + dt.timedelta(days=4)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    services.book_series(
        plan,
        location,
        [services.Choice(day, dt.time(10))],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )


def test_a_spanish_speaking_patient_registers_does_the_intake_and_gets_a_reminder_in_spanish(
    page, start_worker
):
    location = make_location("stamford", shifts_from=timezone.localdate(), shift_days=30)
    location.phone = "203 555 0100"
    location.save()
    peer = SmtpPeer().start()
    try:
        worker = start_worker(**peer.env())
        _register(page, peer)
        patient = User.objects.get(email="lucia.ramos@example.org")
        assert PatientProfile.objects.get(user=patient).preferred_language == "es"
        audits = _intake(page)
        failing = {url: found for url, found in audits.items() if found}
        assert failing == {}, json.dumps(failing, indent=1)
        answers = IntakeAnswer.objects.filter(intake__patient=patient)
        assert set(answers.values_list("language", flat=True)) == {"es"}

        _book(patient, location)
        reminder = Message.objects.get(kind=ReminderKind.REMINDER, channel="email")
        Message.objects.filter(pk=reminder.pk).update(send_at=timezone.now())
        Message.objects.exclude(pk=reminder.pk).update(status="cancelled")
        dispatch_due.delay()
        email = _mail_to(peer, "Recordatorio: su cita del")
        worker_log = worker.log.read_text()
    finally:
        peer.stop()

    assert str(email["Subject"]).strip().startswith("Recordatorio: su cita del")
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Hola, Lucía:"), text
    assert "Le recordamos su cita en" in text and "Stamford" in text
    assert re.search(r"(lunes|martes|miércoles|jueves|viernes) \d+ de \w+ a las 10:00", text)
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "Confirmar o cancelar su cita" in html
    assert "ERROR" not in worker_log

    link = re.search(r"https?://\S+?(/r/[^/\s]+/)", text)
    assert link, text
    page.context.clear_cookies()  # opened later, from the email, signed out
    page.goto(link.group(1))
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("button", name="Sí, vendré").is_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sí, vendré").click()
    expect(page.get_by_text("Gracias: su cita está confirmada.")).to_be_visible()
    assert settings.LANGUAGE_CODE == "en"  # the site's default did not change


def test_the_spanish_patient_pages_pass_axe(page):
    location = make_location("stamford", shifts_from=timezone.localdate(), shift_days=30)
    location.self_booking = True
    location.save()
    plan = approved_plan("paz@example.org", location, infusions=2, min_days_between=1)
    PatientProfile.objects.filter(user=plan.patient).update(preferred_language="es")
    day = timezone.localdate() + dt.timedelta(days=3)
    while day.weekday() > 3:
        day += dt.timedelta(days=1)
    services.book_series(
        plan,
        location,
        [
            services.Choice(day, dt.time(10)),
            services.Choice(day + dt.timedelta(days=1), dt.time(10)),
        ],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    found: dict[str, list] = {}
    page.goto("/login/")
    page.get_by_role("button", name="Español").click()
    for url in ("/login/", "/register/", "/password-reset/", "/no-such-page/"):
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "es", url
        found[url] = axe_violations(page)
    page.goto("/login/")
    page.get_by_label("Correo electrónico").fill("paz@example.org")
    page.get_by_label("Contraseña").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url("**/intake/")
    for url in ("/intake/", "/sessions/", "/my-series/", "/my-progress/"):
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "es", url
        found[url] = axe_violations(page)

    failing = {url: violations for url, violations in found.items() if violations}
    assert failing == {}, json.dumps(failing, indent=1)
