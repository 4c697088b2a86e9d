"""Delivery: email through Django's email backend, SMS through a small backend interface.

Every delivery carries the message's public id as an idempotency key: the email's Message-ID,
the SMS file's name. A receiver that honours it (the file backends here do) gets a message once
even if a worker dies after delivering and before recording it.
"""

from __future__ import annotations

import json
import os
import smtplib
import sys
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string

from notifications.models import Channel, Message


class DeliveryError(Exception):
    pass


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: a timeout, a refused connection, a greylist, a provider's 5xx."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: a rejected address, a number that cannot receive texts."""


def message_id_header(message: Message) -> str:
    return f"<{message.public_id}@{settings.SITE_URL.split('//')[-1].split('/')[0].split(':')[0]}>"


def deliver(message: Message) -> None:
    if message.channel == Channel.EMAIL:
        _deliver_email(message)
    else:
        sms_backend().send(str(message.public_id), message.recipient, message.body_text)


def _deliver_email(message: Message) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        to=[message.recipient],
        headers={"Message-ID": message_id_header(message)},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    if message.attachment:
        email.attach(
            message.attachment_name or "attachment.txt", message.attachment, "text/calendar"
        )
    try:
        with get_connection() as connection:
            connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentDeliveryError(f"address refused: {error.recipients}") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentDeliveryError(f"SMTP {error.smtp_code}") from error
        raise TransientDeliveryError(f"SMTP {error.smtp_code}") from error
    except (smtplib.SMTPException, OSError) as error:
        raise TransientDeliveryError(type(error).__name__) from error


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


def write_once(directory: Path, name: str, content: str) -> bool:
    """Create `name` with `content` unless it exists; True if this call wrote it.

    The file appears complete or not at all (written aside, then linked into place), and every
    real write is appended to deliveries.log, so duplicates would be visible.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    if target.exists():
        return False
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    temporary.write_text(content)
    try:
        os.link(temporary, target)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    with open(directory / "deliveries.log", "a") as log:
        log.write(name + "\n")
    return True


class FileSmsBackend:
    """Tests and benchmarks: one JSON file per message id in SMS_FILE_PATH."""

    def send(self, message_id: str, to: str, text: str) -> None:
        write_once(
            Path(settings.SMS_FILE_PATH),
            f"{message_id}.json",
            json.dumps({"to": to, "text": text}),
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
                "I-Twilio-Idempotency-Token": message_id,
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
