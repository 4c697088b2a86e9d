"""Phone numbers are read by libphonenumber where they are typed, stored in E.164 and shown as
people write them (docs/roles/patient.md#registration-and-the-intake)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from charting.forms import CheckInForm
from clinic.phones import PhoneField
from intake.models import Intake, IntakeAnswer
from locations.admin import LocationForm
from tests.factories import LocationFactory
from tests.intake_data import valid_steps

pytestmark = pytest.mark.django_db

IMPOSSIBLE = {
    "en": "This phone number cannot be dialled: check the area code and the number of digits",
    "es": "Este número de teléfono no se puede marcar: revise el código de área y la cantidad",
}


@pytest.fixture
def patient_client(make_user, login):
    LocationFactory.create(slug="stamford", name="Stamford")
    return login(make_user(role=Role.PATIENT, first_name="", last_name=""))


def _about_step(client, mobile_phone: str):
    client.post(reverse("intake:start"))
    intake = Intake.objects.get()
    url = reverse("intake:step", args=[intake.public_id, "about"])
    return intake, client.post(url, {**valid_steps()["about"], "mobile_phone": mobile_phone})


def test_a_us_number_written_as_people_write_it_is_stored_in_e164(patient_client):
    intake, response = _about_step(patient_client, "(949) 555-0123")

    assert response.status_code == 302
    answer = IntakeAnswer.objects.get(intake=intake, step="about")
    assert answer.data["mobile_phone"] == "+19495550123"


@pytest.mark.parametrize("typed", ["555-0000", "+1 123 456 7890"])
def test_a_number_no_phone_can_dial_is_refused_where_it_is_typed(patient_client, typed):
    intake, response = _about_step(patient_client, typed)

    assert response.status_code == 200
    assert IMPOSSIBLE["en"] in response.content.decode()
    assert IntakeAnswer.objects.get(intake=intake, step="about").completed_at is None


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("typed", ["555-0000", "+1 123 456 7890"])
def test_the_refusal_is_in_the_readers_language(language, typed):
    with translation.override(language):
        field = PhoneField()
        with pytest.raises(ValidationError) as refused:
            field.clean(typed)
        assert IMPOSSIBLE[language] in refused.value.messages[0]


def test_words_are_not_a_phone_number():
    with translation.override("es"):
        with pytest.raises(ValidationError) as refused:
            PhoneField().clean("call me")
        assert "Escriba un número de teléfono con dígitos" in refused.value.messages[0]


def test_the_escort_and_a_locations_phone_are_read_the_same_way():
    with pytest.raises(ValidationError) as refused:
        CheckInForm.base_fields["escort_phone"].clean("+1 123 456 7890")
    assert IMPOSSIBLE["en"] in refused.value.messages[0]
    location = LocationForm(data={"phone": "555-0000"})
    location.is_valid()
    assert IMPOSSIBLE["en"] in str(location.errors["phone"])


def test_a_number_is_shown_in_its_countrys_own_format():
    shown = Template("{% load intake_tags %}{{ us|phone }} · {{ uk|phone }} · {{ odd|phone }}")

    html = shown.render(Context({"us": "+19495550123", "uk": "+442079460958", "odd": "12345"}))

    assert html == "(949) 555-0123 · +44 20 7946 0958 · 12345"
