"""The email that gives a patient their Good Faith Estimate, in their language, through the
outbox (docs/paperwork.md#delivery). It carries a link to the estimate's page, no amounts and
nothing clinical; the page and its PDF are behind the patient's sign-in."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts import language
from notifications.models import Message
from notifications.registry import Resolved, Skip
from paperwork.models import Estimate


def resolve(message: Message) -> Resolved:
    estimate = (
        Estimate.objects.filter(pk=message.context.get("estimate"))
        .select_related("patient")
        .first()
    )
    if estimate is None:
        raise Skip("not sent: the estimate no longer exists")
    patient = estimate.patient
    if not patient.is_active or not patient.email:
        raise Skip("not sent: the account is inactive")
    context = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "first_name": patient.first_name,
        "link": f"{settings.SITE_URL}{reverse('paperwork:estimate', args=[estimate.public_id])}",
        "superseding": estimate.supersedes_id is not None,
    }
    with translation.override(language.of_patient(patient)):
        subject = render_to_string("paperwork/email/estimate_subject.txt", context)
        return Resolved(
            recipient=patient.email,
            subject=" ".join(subject.split()),
            body_text=render_to_string("paperwork/email/estimate_body.txt", context),
            body_html=render_to_string("paperwork/email/estimate_body.html", context),
        )
