"""Twilio's webhooks: delivery reports of the texts sent, and the texts patients send.

Both are refused (403, nothing read, nothing logged but the path) unless `X-Twilio-Signature`
is Twilio's signature of the request, checked with the SDK's RequestValidator and the account's
auth token against the public URL, SITE_URL + the path and query: the address Twilio was given.
Each webhook is handled once: its idempotency token (`I-Twilio-Idempotency-Token`) is recorded
in the transaction that handles it, so a retry of the same webhook changes nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from clinic.querystrings import query_form, read_query
from notifications import registry, services
from notifications.forms import InboundForm, StatusCallbackForm, StatusQueryForm
from notifications.models import InboundText, Message, WebhookReceipt

logger = logging.getLogger(__name__)

Webhook = Callable[[HttpRequest], HttpResponse]


def public_url(request: HttpRequest) -> str:
    """The URL Twilio requested, as it signed it: SITE_URL and the request's path and query.

    Behind the TLS proxy the request's own scheme and host are those of the hop from the proxy;
    Twilio signs the address it was given, which is SITE_URL's. (The sign-in work's proxy helper
    in accounts.security can take this over once TRUSTED_PROXY_COUNT lands.)
    """
    return settings.SITE_URL + request.get_full_path()


def signed_by_twilio(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not (token and signature) or request.method != "POST":
        return False
    return bool(RequestValidator(token).validate(public_url(request), request.POST, signature))


def _first_time(request: HttpRequest, fallback: str) -> bool:
    """Record the webhook's idempotency token (or `fallback` when it has none); False if it was
    handled before. Call inside the transaction that handles the webhook."""
    token = request.headers.get("I-Twilio-Idempotency-Token", "")[:100] or fallback
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(token=token)
    except IntegrityError:
        return False
    return True


def twilio_webhook(view: Webhook) -> Webhook:
    """POSTs signed by Twilio only; anything else is 403 whoever sends it."""

    @functools.wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        if not signed_by_twilio(request):
            # The path only: the body of a forged request may carry anything, a number included.
            logger.warning("refused a webhook without a valid Twilio signature: %s", request.path)
            return HttpResponseForbidden("")
        return view(request)

    return csrf_exempt(checked)


@query_form(StatusQueryForm)
@twilio_webhook
def twilio_status(request: HttpRequest) -> HttpResponse:
    """A delivery report (queued, sent, delivered, undelivered, failed) of one text."""
    form = StatusCallbackForm(request.POST)
    if not form.is_valid():
        return HttpResponse("")
    report = form.cleaned_data
    # Every text names itself in its StatusCallback (Message.status_callback_url), so a report
    # that arrives before the send's own answer recorded the provider's id still finds it.
    public_id = read_query(request, StatusQueryForm)["message"]
    message = Message.objects.filter(public_id=public_id).first() if public_id else None
    if message is None:
        return HttpResponse("")
    with transaction.atomic():
        fallback = f"status:{report['MessageSid'] or message.public_id}:{report['MessageStatus']}"
        if _first_time(request, fallback):
            services.record_delivery(message, report["MessageStatus"], report["ErrorCode"])
    return HttpResponse("")


def _twiml(reply: str) -> HttpResponse:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


@twilio_webhook
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """A text sent to the clinic's number: kept, understood by the registered handler, and
    answered in the response (TwiML) when the handler has something to say."""
    form = InboundForm(request.POST)
    if not form.is_valid():
        return _twiml("")
    data = form.cleaned_data
    with transaction.atomic():
        if not _first_time(request, f"inbound:{data['MessageSid']}"):
            return _twiml("")
        text, created = InboundText.objects.get_or_create(
            provider_id=data["MessageSid"],
            defaults={"sender": data["From"], "body": data["Body"], "received_at": timezone.now()},
        )
        if not created:
            return _twiml("")
        handler = registry.reply_handler()
        answer = handler(text) if handler is not None else registry.Answer()
        InboundText.objects.filter(pk=text.pk).update(
            group=answer.group[:80], outcome=answer.outcome[:40]
        )
    logger.info("text %s received: %s", text.public_id, answer.outcome or "no handler")
    return _twiml(answer.reply)
