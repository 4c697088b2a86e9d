"""The insurance card upload: stored under a generated name with the extension of what the bytes
are, images re-encoded (whatever follows a valid image is dropped), PDFs parsed and refused when
they can act (scripts, automatic or launch actions, attached files); the front desk and clinicians
open it through an audited download."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from accounts.models import Role
from audit.models import AuditEvent
from intake.models import Intake, IntakeAnswer, IntakeAttachment
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import submitted_intake

pytestmark = pytest.mark.django_db

APPENDED = b"<html><script>alert(1)</script></html>"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


@pytest.fixture
def patient(make_user):
    LocationFactory.create(slug="stamford", name="Stamford")
    return make_user(role=Role.PATIENT)


@pytest.fixture
def draft(patient, login):
    client = login(patient)
    assert client.post(reverse("intake:start")).status_code == 302
    return client, Intake.objects.get(patient=patient)


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (60, 38)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 140)).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(content: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def pdf_bytes(change=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=240, height=150)
    if change is not None:
        change(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def raw_pdf(*objects: bytes) -> bytes:
    """A hand-written PDF (objects numbered from 1, the first the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PAGES = (
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
)


def insurance(card: io.BytesIO | None = None) -> dict[str, object]:
    data: dict[str, object] = {"payment": "insurance", "payer": "Acme Health", "member_id": "X123"}
    if card is not None:
        data["card"] = card
    return data


def step_url(intake: Intake) -> str:
    return reverse("intake:step", args=[intake.public_id, "insurance"])


def test_a_png_with_html_appended_named_html_is_stored_re_encoded_as_png(draft):
    client, intake = draft
    original = image_bytes("PNG")

    response = client.post(step_url(intake), insurance(upload(original + APPENDED, "card.html")))

    assert response.status_code == 302
    card = IntakeAttachment.objects.get(intake=intake)
    assert re.fullmatch(rf"intake/{intake.public_id}/[0-9a-f]{{32}}\.png", str(card.file.name))
    assert card.content_type == "image/png"
    stored = card.file.read()
    assert b"<html" not in stored and b"script" not in stored
    assert card.size == len(stored)
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("PNG", (60, 38))
        assert image.getpixel((5, 5)) == (20, 120, 140)


def test_a_jpeg_named_png_is_stored_re_encoded_as_jpg(draft):
    client, intake = draft

    response = client.post(step_url(intake), insurance(upload(image_bytes("JPEG"), "card.png")))

    assert response.status_code == 302
    card = IntakeAttachment.objects.get(intake=intake)
    assert str(card.file.name).endswith(".jpg") and "card" not in str(card.file.name)
    assert card.content_type == "image/jpeg"
    with Image.open(card.file) as image:
        assert image.format == "JPEG"


def test_a_plain_pdf_is_accepted_and_stored_as_pdf(draft):
    client, intake = draft
    content = pdf_bytes()

    response = client.post(step_url(intake), insurance(upload(content, "scan.jpg")))

    assert response.status_code == 302
    card = IntakeAttachment.objects.get(intake=intake)
    assert re.fullmatch(rf"intake/{intake.public_id}/[0-9a-f]{{32}}\.pdf", str(card.file.name))
    assert (card.content_type, card.file.read()) == ("application/pdf", content)


def _js_action() -> DictionaryObject:
    return DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
    )


def _open_action(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(_js_action())


def _document_script(writer: PdfWriter) -> None:
    """A document-level script, run by viewers when the file opens (the /Names /JavaScript tree)."""
    scripts = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("a"), _js_action()])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(scripts)}
    )


def _page_additional_action(writer: PdfWriter) -> None:
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _js_action()})


HOSTILE_PDFS = {
    "javascript": pdf_bytes(_document_script),
    "open action": pdf_bytes(_open_action),
    "additional action": pdf_bytes(_page_additional_action),
    "embedded file": pdf_bytes(lambda writer: writer.add_attachment("run.exe", b"MZ")),
    "launch": raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        *PAGES,
        b"<< /S /Launch /F (cmd.exe) >>",
    ),
    "escaped names": raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /Names << /J#61vaScript 4 0 R >> >>",
        *PAGES,
        b"<< /Names [(a) << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>] >>",
    ),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_PDFS))
def test_a_pdf_that_can_act_is_refused_and_the_other_answers_are_kept(draft, kind):
    client, intake = draft

    response = client.post(step_url(intake), insurance(upload(HOSTILE_PDFS[kind], "card.pdf")))

    assert response.status_code == 200
    html = response.content.decode()
    assert "This PDF contains a script, an automatic action or an attached file" in html
    assert 'value="Acme Health"' in html
    assert not IntakeAttachment.objects.filter(intake=intake).exists()
    kept = IntakeAnswer.objects.get(intake=intake, step="insurance")
    assert kept.completed_at is None
    assert (kept.raw["payer"], kept.raw["member_id"]) == (["Acme Health"], ["X123"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "We could not read this image"),
        (image_bytes("PNG")[:80], "We could not read this image"),
        (b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10, "We could not read this image"),
        (b"%PDF-1.4\nthis is no pdf at all", "We could not read this PDF"),
        (b"MZ this is an executable", "Upload a photo or scan as JPEG, PNG or PDF"),
    ],
)
def test_a_file_that_does_not_parse_is_refused_in_words_and_nothing_else_is_lost(
    draft, content, message
):
    client, intake = draft

    response = client.post(step_url(intake), insurance(upload(content, "card.png")))

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'value="Acme Health"' in html and 'value="X123"' in html
    assert not IntakeAttachment.objects.filter(intake=intake).exists()
    raw = IntakeAnswer.objects.get(intake=intake, step="insurance").raw
    assert raw["payer"] == ["Acme Health"]


def test_an_encrypted_pdf_is_refused_with_a_way_forward(draft):
    client, intake = draft
    locked = pdf_bytes(lambda writer: writer.encrypt("secret"))

    response = client.post(step_url(intake), insurance(upload(locked, "card.pdf")))

    assert response.status_code == 200
    assert "protected by a password" in response.content.decode()
    assert not IntakeAttachment.objects.exists()


def test_a_huge_image_is_refused_before_it_is_decoded(draft):
    client, intake = draft
    buffer = io.BytesIO()
    Image.new("1", (7000, 7000)).save(buffer, format="PNG")  # 49 megapixels, a few kB
    huge = buffer.getvalue()

    response = client.post(step_url(intake), insurance(upload(huge, "card.png")))

    assert response.status_code == 200
    assert "too many pixels" in response.content.decode()
    assert not IntakeAttachment.objects.exists()


# --- Viewing the card -----------------------------------------------------------------------------


@pytest.fixture
def carded(patient):
    """A submitted intake with a card on file, stored under a name from before this change."""
    intake = submitted_intake(patient)
    content = image_bytes("PNG")
    name = default_storage.save(f"intake/{intake.public_id}/0a1b2c3d.png", ContentFile(content))
    card = IntakeAttachment.objects.create(
        intake=intake, kind="insurance_card", content_type="image/png", size=len(content), file=name
    )
    return intake, card, content


def card_url(intake: Intake) -> str:
    return reverse("intake:insurance_card", args=[intake.public_id])


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.CLINICIAN])
def test_the_desk_and_clinicians_download_the_card_audited(carded, login, role):
    intake, _card, content = carded
    reader = UserFactory.create(role=role)

    response = login(reader).get(card_url(intake))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="insurance-card.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(actor=reader, record_type="insurance_card")
    assert (event.action, event.record_id, event.patient_id) == (
        "read",
        str(intake.public_id),
        intake.patient_id,
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.NURSE, 403), (Role.CLINIC_ADMIN, 403), (Role.PATIENT, 403)],
)
def test_others_cannot_fetch_a_card(carded, login, role, status):
    intake, _card, _content = carded

    response = login(UserFactory.create(role=role)).get(card_url(intake))

    assert response.status_code == status
    assert not AuditEvent.objects.filter(record_type="insurance_card").exists()


def test_the_patient_cannot_fetch_even_their_own_card_through_the_staff_download(carded, login):
    intake, _card, _content = carded

    assert login(intake.patient).get(card_url(intake)).status_code == 403


def test_a_draft_or_an_intake_without_a_card_has_no_card_to_download(draft, login, patient):
    _client, intake = draft
    desk = login(UserFactory.create(role=Role.FRONT_DESK))
    assert desk.get(card_url(intake)).status_code == 404  # a draft: the patient's own still

    other = submitted_intake(UserFactory.create(role=Role.PATIENT))
    assert desk.get(card_url(other)).status_code == 404
    assert not AuditEvent.objects.filter(record_type="insurance_card").exists()


def test_the_summary_links_to_the_card(carded, login):
    intake, _card, _content = carded

    html = login(UserFactory.create(role=Role.CLINICIAN)).get(
        reverse("review:summary", args=[intake.public_id])
    )

    assert f'href="{card_url(intake)}"' in html.content.decode()
    assert "Download the insurance card" in html.content.decode()


def test_the_series_page_links_to_the_card(carded, login):
    from review import services as review
    from review.models import ProtocolTemplate
    from scheduling import services
    from tests.scheduling_data import make_location

    intake, _card, _content = carded
    location = make_location("irvine", "America/Los_Angeles")
    intake.location = location
    intake.save(update_fields=["location"])
    template = ProtocolTemplate.objects.get(is_default=True)
    values = {f: getattr(template, f) for f in review.PLAN_FIELDS} | {"infusions": 1}
    plan = review.approve(intake, UserFactory.create(role=Role.CLINICIAN), values)
    import datetime as dt

    day = dt.date.today() + dt.timedelta(days=7)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    series = services.book_series(
        plan, location, [services.Choice(day, dt.time(10))], booked_by=intake.patient
    )

    html = (
        login(UserFactory.create(role=Role.FRONT_DESK))
        .get(reverse("scheduling:series", args=[series.public_id]))
        .content.decode()
    )

    assert f'href="{card_url(intake)}"' in html


def test_a_truncated_image_is_still_refused_once_a_pdf_has_been_drawn(draft):
    """WeasyPrint, on import, tells Pillow to accept truncated images for the whole process;
    drawing an estimate's PDF must not loosen the card's check."""
    from paperwork.documents import to_pdf

    to_pdf("<html lang='en'><title>t</title><p>Estimate</p></html>")
    client, intake = draft

    response = client.post(step_url(intake), insurance(upload(image_bytes("PNG")[:80], "card.png")))

    assert response.status_code == 200
    assert "We could not read this image" in response.content.decode()
    assert not IntakeAttachment.objects.filter(intake=intake).exists()
