"""Delivery: email through Django's email backend, SMS through a small backend interface.

Each email carries a stable Message-ID (the message's public id), the same if it is ever sent
again. Delivery is at least once (see services.send_batch); the file backends here record every
delivery they are handed, a second one included, so a duplicate is always visible.
"""

from __future__ import annotations

import contextlib
import json
import os
import smtplib
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from email.mime.text import MIMEText
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse
from django.utils.module_loading import import_string
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.models import Channel, Message
from notifications.registry import Resolved, text_refused


class DeliveryError(Exception):
    pass


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: a timeout, a refused connection, a greylist, a provider's 5xx."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: a rejected address, a number that cannot receive texts."""


class RecipientOptedOut(PermanentDeliveryError):
    """The number's owner opted out of texts from this sender (Twilio's error 21610): not a
    failure of delivery, a withdrawn consent to record."""

    def __init__(self, reason: str, recipient: str) -> None:
        super().__init__(reason)
        self.recipient = recipient


def message_id_header(message: Message) -> str:
    """The same Message-ID every time this message is sent: a receiver can tell a resend."""
    return f"<{message.public_id}@{urllib.parse.urlsplit(settings.SITE_URL).hostname}>"


@dataclass(frozen=True)
class Delivered:
    resolved: Resolved
    provider_id: str = ""


@dataclass(frozen=True)
class Withheld:
    """Not handed to the provider: the number's consent was withdrawn since the batch was
    resolved. Not a failure and not retried."""

    reason: str


Outcome = Delivered | Withheld | DeliveryError


def deliver_all(ready: list[tuple[Message, Resolved]]) -> Iterator[tuple[Message, Outcome]]:
    """Deliver each resolved message: emails over one SMTP connection for the batch, texts one
    by one. Yields each message's outcome; never raises for one message's failure."""
    emails = [(m, r) for m, r in ready if m.channel == Channel.EMAIL]
    texts = [(m, r) for m, r in ready if m.channel != Channel.EMAIL]
    yield from _deliver_emails(emails)
    backend = sms_backend() if texts else None
    for message, resolved in texts:
        # Consent as committed now, not as it was when the batch was resolved: a batch takes
        # seconds, and a STOP that arrives meanwhile must stop the texts still to go.
        refused = text_refused(resolved.recipient)
        if refused:
            yield message, Withheld(refused)
            continue
        try:
            assert backend is not None
            provider_id = backend.send(
                str(message.public_id), resolved.recipient, resolved.body_text
            )
        except DeliveryError as error:
            yield message, error
        else:
            yield message, Delivered(resolved, provider_id or "")


def email_for(message: Message, resolved: Resolved) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=resolved.subject,
        body=resolved.body_text,
        to=[resolved.recipient],
        headers={"Message-ID": message_id_header(message)},
    )
    if resolved.body_html:
        email.attach_alternative(resolved.body_html, "text/html")
    for name, content, mimetype in resolved.attachments:
        maintype, _, rest = mimetype.partition("/")
        subtype, *params = (part.strip() for part in rest.split(";"))
        part = MIMEText(content, subtype, "utf-8") if maintype == "text" else None
        if part is None:
            email.attach(name, content, mimetype)
            continue
        for param in params:
            key, _, value = param.partition("=")
            part.set_param(key, value)
        part.add_header("Content-Disposition", "attachment", filename=name)
        email.attach(part)
    return email


def _deliver_emails(
    emails: list[tuple[Message, Resolved]],
) -> Iterator[tuple[Message, Outcome]]:
    if not emails:
        return
    connection = get_connection()
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as error:
        for message, _ in emails:
            yield message, TransientDeliveryError(f"cannot connect: {type(error).__name__}")
        return
    try:
        for message, resolved in emails:
            try:
                connection.send_messages([email_for(message, resolved)])
            except smtplib.SMTPRecipientsRefused as error:
                yield message, PermanentDeliveryError(f"address refused: {len(error.recipients)}")
            except smtplib.SMTPResponseException as error:
                if 500 <= error.smtp_code < 600:
                    yield message, PermanentDeliveryError(f"SMTP {error.smtp_code}")
                else:
                    yield message, TransientDeliveryError(f"SMTP {error.smtp_code}")
            except (smtplib.SMTPException, OSError) as error:
                yield message, TransientDeliveryError(type(error).__name__)
            else:
                yield message, Delivered(resolved)
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()


# --- SMS ---------------------------------------------------------------------------------------


class SmsBackend(Protocol):
    def send(self, message_id: str, to: str, text: str) -> str | None:
        """Hand the text over; the provider's id of it, if it has one."""
        ...


def sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend


def _masked(number: str) -> str:
    return "*" * max(0, len(number) - 2) + number[-2:]


class ConsoleSmsBackend:
    """Development: print that a text would go out, not its words (console output is a log,
    and logs carry no patient data); FileSmsBackend keeps the texts for reading."""

    def send(self, message_id: str, to: str, text: str) -> str | None:
        sys.stdout.write(f"[sms {message_id} to {_masked(to)}: {len(text)} characters]\n")
        sys.stdout.flush()
        return None


def append_delivery(directory: Path, name: str, content: str) -> Path:
    """Write one delivery as its own file and list it in deliveries.log; a second delivery of
    the same message is a second file and a second line, never silently dropped."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}.{os.getpid()}-{time.time_ns()}"
    target.write_text(content)
    with open(directory / "deliveries.log", "a") as log:
        log.write(name + "\n")
    return target


class FileSmsBackend:
    """Development, tests and benchmarks: one JSON file per delivery in SMS_FILE_PATH."""

    def send(self, message_id: str, to: str, text: str) -> str | None:
        append_delivery(
            Path(settings.SMS_FILE_PATH),
            f"{message_id}.json",
            json.dumps({"id": message_id, "to": to, "text": text}),
        )
        return None


# Twilio's error for a number that replied STOP (or another opt-out word) to this sender.
OPTED_OUT = 21610


class TwilioSmsBackend:
    """Twilio, through its SDK, used only when SMS_BACKEND names it and its credentials are set.

    Each text asks for delivery reports at its own StatusCallback (Message.status_callback_url).
    It is sent from TWILIO_MESSAGING_SERVICE_SID when set (needed for Advanced Opt-Out), else from
    TWILIO_FROM_NUMBER. The SDK makes one attempt per call: retries are the outbox's (backoff).
    """

    timeout = 10

    def http_client(self) -> TwilioHttpClient:
        return TwilioHttpClient(timeout=self.timeout)

    def send(self, message_id: str, to: str, text: str) -> str | None:
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        service = settings.TWILIO_MESSAGING_SERVICE_SID
        if not (sid and token and (service or settings.TWILIO_FROM_NUMBER)):
            raise PermanentDeliveryError("Twilio is not configured")
        sender = (
            {"messaging_service_sid": service}
            if service
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        client = Client(sid, token, http_client=self.http_client())
        try:
            sent = client.messages.create(
                to=to,
                body=text,
                status_callback=status_callback_url(message_id),
                **sender,
            )
        except TwilioRestException as error:
            if error.code == OPTED_OUT:
                raise RecipientOptedOut(
                    f"the number opted out of texts (Twilio {OPTED_OUT})", recipient=to
                ) from error
            if error.status == 429 or error.status >= 500:
                raise TransientDeliveryError(f"Twilio HTTP {error.status}") from error
            raise PermanentDeliveryError(
                f"Twilio HTTP {error.status}, error {error.code}"
            ) from error
        except (TwilioException, RequestException, OSError) as error:
            raise TransientDeliveryError(type(error).__name__) from error
        return str(sent.sid or "")


def status_callback_url(message_id: str) -> str:
    """The public address of a text's delivery reports (SITE_URL): what Twilio signs."""
    return f"{settings.SITE_URL}{reverse('notifications:twilio_status')}?message={message_id}"
