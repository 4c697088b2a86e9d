"""The paperwork as documents: one HTML template per document, drawn as the page and, through
WeasyPrint, as a tagged PDF (PDF/UA-1) with the fonts the project ships (static/fonts/dejavu),
so a screen reader reads it in order and it looks the same on every server
(docs/paperwork.md#documents).

An estimate's PDF is drawn once from its frozen content, stored as an object (file storage, the
S3 bucket in production) with its SHA-256, and served from there; a read checks the hash. A
superbill is drawn when asked for: it reads signed records, which do not change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import translation

from billing.models import Service
from billing.money import Money
from paperwork import diagnoses
from paperwork.models import Estimate

FONTS = Path(settings.BASE_DIR) / "static" / "fonts" / "dejavu"


class Tampered(Exception):
    """A stored document no longer matches the hash recorded when it was stored."""


def font_urls(for_pdf: bool) -> dict[str, str]:
    if for_pdf:
        return {
            "font_regular": (FONTS / "DejaVuSans.ttf").as_uri(),
            "font_bold": (FONTS / "DejaVuSans-Bold.ttf").as_uri(),
        }
    return {
        "font_regular": static("fonts/dejavu/DejaVuSans.ttf"),
        "font_bold": static("fonts/dejavu/DejaVuSans-Bold.ttf"),
    }


def _money(amount: int, currency: str) -> str:
    return str(Money(amount, currency))


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def estimate_context(estimate: Estimate) -> dict[str, Any]:
    """The template's view of the frozen content: dates as dates, amounts in words of money."""
    content = estimate.content
    currency = content["currency"]
    items = []
    labels = dict(Service.choices)
    for item in content["items"]:
        items.append(
            {
                **item,
                "label": labels.get(item["kind"], item["kind"]),
                "first": _date(item["first"]),
                "last": _date(item["last"]),
                "dates": [_date(d) for d in item["dates"]],
                "provider": content["providers"][item["provider"]],
                "lines": [
                    {**line, "charge": _money(line["amount"], line["currency"])}
                    for line in item["lines"]
                ],
                "each_shown": _money(item["each"], currency),
                "subtotal_shown": _money(item["subtotal"], currency),
            }
        )
    return {
        "estimate": estimate,
        "content": content,
        "diagnoses": [
            {"code": d["code"], "description": diagnoses.shown(d["code"], d["description"])}
            for d in content["diagnoses"]
        ],
        "date_of_birth": _date(content["patient"]["date_of_birth"]),
        "primary_label": labels.get(content["primary"]["kind"], content["primary"]["kind"]),
        "primary_date": _date(content["primary"]["date"]),
        "items": items,
        "total_shown": _money(content["total"], currency),
        "threshold_shown": _money(400_00, currency),
        "issued_on": estimate.issued_at.astimezone(estimate.location.zone).date(),
    }


def render(template: str, context: dict[str, Any], language: str, *, for_pdf: bool) -> str:
    with translation.override(language):
        return render_to_string(
            template,
            {**context, **font_urls(for_pdf), "for_pdf": for_pdf, "LANGUAGE_CODE": language},
        )


def to_pdf(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1: structure tree, language, title) of the HTML."""
    from PIL import ImageFile
    from weasyprint import HTML  # loads pango: only where a PDF is drawn

    # Importing WeasyPrint switches Pillow, process-wide, to accepting truncated images; the
    # insurance card's check relies on Pillow refusing them (docs/security.md#uploads). The
    # documents draw no images, so the default is put back.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    pdf: bytes = HTML(string=html, base_url=str(FONTS)).write_pdf(pdf_variant="pdf/ua-1")
    return pdf


def estimate_html(estimate: Estimate, *, for_pdf: bool = False) -> str:
    return render(
        "paperwork/estimate_document.html",
        estimate_context(estimate),
        estimate.language,
        for_pdf=for_pdf,
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_estimate_pdf(estimate: Estimate) -> Estimate:
    """Draw and store the estimate's PDF once; safe to call again (the first stored wins)."""
    if estimate.pdf_sha256:
        return estimate
    pdf = to_pdf(estimate_html(estimate, for_pdf=True))
    name = default_storage.save(f"paperwork/estimates/{estimate.public_id}.pdf", ContentFile(pdf))
    claimed = Estimate.objects.filter(pk=estimate.pk, pdf_sha256="").update(
        pdf_name=name, pdf_sha256=sha256(pdf)
    )
    if not claimed:
        default_storage.delete(name)  # another worker stored it first
    estimate.refresh_from_db(fields=["pdf_name", "pdf_sha256"])
    return estimate


def estimate_pdf(estimate: Estimate) -> bytes:
    """The stored PDF, its hash checked; drawn and stored first if it is not yet."""
    estimate = store_estimate_pdf(estimate)
    with default_storage.open(estimate.pdf_name, "rb") as stored:
        data: bytes = stored.read()
    if sha256(data) != estimate.pdf_sha256:
        raise Tampered(estimate.pdf_name)
    return data
