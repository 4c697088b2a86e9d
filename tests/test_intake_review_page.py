"""The patient's review page is written for people (docs/product-rules.md#intake)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from intake.models import IntakeAttachment
from tests.factories import LocationFactory
from tests.intake_data import fill_intake

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def test_the_review_page_reads_like_a_letter_not_a_database(make_user, login, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    LocationFactory.create(slug="stamford", name="Stamford")
    patient = make_user(role=Role.PATIENT)
    intake = fill_intake(patient)
    from django.core.files.base import ContentFile

    IntakeAttachment.objects.create(
        intake=intake,
        kind=IntakeAttachment.Kind.INSURANCE_CARD,
        content_type="image/png",
        file=ContentFile(PNG, name="card.png"),
        size=len(PNG),
    )

    html = login(patient).get(reverse("intake:review", args=[intake.public_id])).content.decode()

    assert "12 April 1980" in html and "1980-04-12" not in html
    assert "(203) 555-0199" in html and "+12035550199" not in html
    assert "168 cm (5 ft 6 in)" in html
    assert "74.8 kg (165 lb)" in html
    assert "Card on file (PNG image)" in html and "bytes" not in html
    labels = re.findall(r'<dt class="[^"]*">([^<]+)</dt>', html)
    assert labels and all(label[0].isupper() for label in labels), labels
