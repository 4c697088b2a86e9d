"""What an uploaded insurance card is, decided from its bytes, and the bytes that are kept.

The file's name and the browser's content type are the client's claims, so neither is used.
The first bytes say what the file claims to be; then it must really be that:

- PNG and JPEG images are decoded and re-encoded with Pillow. Only the pixels survive: whatever
  was appended after the image (a polyglot's HTML or script), metadata such as EXIF and GPS, and
  chunks a viewer might interpret are dropped. The EXIF orientation is applied first, so the card
  still reads the right way up.
- PDFs are parsed with pypdf and refused when they can do anything but show pages: JavaScript,
  an action run on opening (/OpenAction) or on events (/AA), launching a program (/Launch),
  attached files (/EmbeddedFiles), XFA forms (which carry scripts) and rich media. Every object is
  examined, reached from the trailer or listed in the cross-reference tables, after pypdf has
  decoded escaped names such as /J#61vaScript. PDFs are kept as uploaded once they pass.

A file that fails any of this is refused with a message the patient can act on. Sources: OWASP
File Upload Cheat Sheet (content validation, "image rewriting", generated file names); Adobe PDF
Reference 1.7, 12.6 (actions) and 7.11.4 (embedded file streams).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from intake.models import ATTACHMENT_EXTENSIONS

MAX_BYTES = 5 * 1024 * 1024
# A phone photo is 12-50 megapixels; more is a decompression bomb, refused before decoding.
MAX_PIXELS = 40_000_000
# Bounds the work on a hostile PDF: a card scan has a few hundred dictionaries and arrays.
MAX_PDF_CONTAINERS = 50_000

_IMAGE_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
_IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}

_FORBIDDEN_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/OpenAction",
        "/AA",
        "/Launch",
        "/EmbeddedFiles",
        "/EmbeddedFile",
        "/XFA",
        "/RichMedia",
    }
)
_FORBIDDEN_VALUES = frozenset({"/JavaScript", "/Launch", "/EmbeddedFile", "/RichMedia"})

UNREADABLE_IMAGE = _(
    "We could not read this image. Please take the photo again or save it as JPEG or PNG."
)
UNREADABLE_PDF = _(
    "We could not read this PDF. Please scan the card again or upload a photo of it."
)
ACTIVE_PDF = _(
    "This PDF contains a script, an automatic action or an attached file, which we do not "
    "accept. Please upload a photo of the card, or a plain scan."
)


@dataclass(frozen=True)
class Card:
    """The bytes to store and what they are."""

    content: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return ATTACHMENT_EXTENSIONS[self.content_type]


def check(upload: UploadedFile[bytes]) -> Card:
    """The card to store, or ValidationError with a message in the patient's words."""
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError(_("The card image is too large: the limit is 5 MB."))
    data = upload.read(MAX_BYTES + 1)
    upload.seek(0)
    if not data:
        raise ValidationError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The card image is too large: the limit is 5 MB."))
    for signature, image_format in _IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return _re_encoded(data, image_format)
    if data.startswith(b"%PDF-"):
        return _checked_pdf(data)
    raise ValidationError(_("Upload a photo or scan as JPEG, PNG or PDF."))


def _re_encoded(data: bytes, image_format: str) -> Card:
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(
                    _(
                        "This image has too many pixels for us to check. Please upload a smaller "
                        "photo of the card."
                    )
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
            if image_format == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            output = io.BytesIO()
            options: dict[str, Any] = {"quality": 90} if image_format == "JPEG" else {}
            upright.save(output, format=image_format, **options)
    except ValidationError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        # UnidentifiedImageError and "image file is truncated" are OSErrors.
        raise ValidationError(UNREADABLE_IMAGE) from error
    return Card(output.getvalue(), _IMAGE_TYPES[image_format])


def _checked_pdf(data: bytes) -> Card:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValidationError(
                _(
                    "This PDF is protected by a password. Please upload it without the password, "
                    "or a photo of the card."
                )
            )
        if len(reader.pages) == 0:
            raise ValidationError(UNREADABLE_PDF)
        active = _can_act(reader)
    except ValidationError:
        raise
    except Exception as error:  # a hostile PDF can break the parser anywhere
        raise ValidationError(UNREADABLE_PDF) from error
    if active:
        raise ValidationError(ACTIVE_PDF)
    return Card(data, "application/pdf")


def _can_act(reader: Any) -> bool:
    """Whether any object of the file holds a script, an action, or an attached file."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    pending: list[Any] = [reader.trailer]
    for generation, numbers in reader.xref.items():
        pending.extend(IndirectObject(number, generation, reader) for number in numbers)
    pending.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    seen: set[tuple[int, int]] = set()
    examined = 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, DictionaryObject | ArrayObject):
            examined += 1
            if examined > MAX_PDF_CONTAINERS:
                raise ValueError("too many objects to examine")
        if isinstance(item, DictionaryObject):  # streams are dictionaries too
            for name, value in item.items():
                if name in _FORBIDDEN_KEYS:
                    return True
                if name in ("/S", "/Type") and value in _FORBIDDEN_VALUES:
                    return True
                pending.append(value)
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return False
