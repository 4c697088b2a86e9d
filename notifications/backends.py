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
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from email.mime.text import MIMEText
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string

from notifications.models import Channel, Message
from notifications.registry import Resolved


class DeliveryError(Exception):
    pass


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: a timeout, a refused connection, a greylist, a provider's 5xx."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: a rejected address, a number that cannot receive texts."""


def message_id_header(message: Message) -> str:
    """The same Message-ID every time this message is sent: a receiver can tell a resend."""
    return f"<{message.public_id}@{urllib.parse.urlsplit(settings.SITE_URL).hostname}>"


@dataclass(frozen=True)
class Delivered:
    resolved: Resolved


Outcome = Delivered | DeliveryError


def deliver_all(ready: list[tuple[Message, Resolved]]) -> Iterator[tuple[Message, Outcome]]:
    """Deliver each resolved message: emails over one SMTP connection for the batch, texts one
    by one. Yields each message's outcome; never raises for one message's failure."""
    emails = [(m, r) for m, r in ready if m.channel == Channel.EMAIL]
    texts = [(m, r) for m, r in ready if m.channel != Channel.EMAIL]
    yield from _deliver_emails(emails)
    backend = sms_backend() if texts else None
    for message, resolved in texts:
        try:
            assert backend is not None
            backend.send(str(message.public_id), resolved.recipient, resolved.body_text)
        except DeliveryError as error:
            yield message, error
        else:
            yield message, Delivered(resolved)


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
    def send(self, message_id: str, to: str, text: str) -> None: ...


def sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend


def _masked(number: str) -> str:
    return "*" * max(0, len(number) - 2) + number[-2:]


class ConsoleSmsBackend:
    """Development: print that a text would go out, not its words (console output is a log,
    and logs carry no patient data); FileSmsBackend keeps the texts for reading."""

    def send(self, message_id: str, to: str, text: str) -> None:
        sys.stdout.write(f"[sms {message_id} to {_masked(to)}: {len(text)} characters]\n")
        sys.stdout.flush()


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

    def send(self, message_id: str, to: str, text: str) -> None:
        append_delivery(
            Path(settings.SMS_FILE_PATH),
            f"{message_id}.json",
            json.dumps({"id": message_id, "to": to, "text": text}),
        )


class TwilioSmsBackend:
    """A real provider, used only when SMS_BACKEND names it and its credentials are set."""

    timeout = 10

    def send(self, message_id: str, to: str, text: str) -> None:
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not (sid and token and settings.TWILIO_FROM_NUMBER):
            raise PermanentDeliveryError("Twilio is not configured")
        request = urllib.request.Request(
            f"https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json",
            data=urllib.parse.urlencode(
                {"To": to, "From": settings.TWILIO_FROM_NUMBER, "Body": text}
            ).encode(),
            headers={
                "Authorization": "Basic " + b64encode(f"{sid}:{token}".encode()).decode(),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout):  # noqa: S310
                return
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise TransientDeliveryError(f"Twilio HTTP {error.code}") from error
            raise PermanentDeliveryError(f"Twilio HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise TransientDeliveryError(type(error).__name__) from error
