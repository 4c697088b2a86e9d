"""What a planned message says is decided when it is sent, by the app that planned it.

The outbox row keeps the kind, what it is about (its group, e.g. ``session:<id>``), the channel
and the planned instant. At send time the resolver registered for the kind reads the current
state (the patient's address and consent, the session's time and status, the location's texts
and policy) and returns the message to deliver, or says why it must not go out (`Skip`) or not
yet (`Defer`). This app knows nothing of the apps that register: they call `register` from
their AppConfig.ready.

A kind with no resolver is sent as it was stored (messages written complete, e.g. the urgent-flag
notice to clinicians).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clinic.redaction import token_prefix

if TYPE_CHECKING:
    from notifications.models import Message


@dataclass(frozen=True)
class Resolved:
    """The message as it goes out now."""

    recipient: str
    body_text: str
    subject: str = ""
    body_html: str = ""
    # (file name, content, MIME type with parameters, e.g. "text/calendar; method=REQUEST")
    attachments: list[tuple[str, str, str]] = field(default_factory=list)
    # Values delivered but never stored (a single-use link's raw token): the row's record of
    # what went out shows their first characters only (`redacted`).
    secrets: tuple[str, ...] = ()

    def redacted(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, token_prefix(secret))
        return text


class Skip(Exception):
    """The message must not go out (consent withdrawn, the session cancelled); the reason is
    recorded on the row for staff."""


@dataclass
class Defer(Exception):
    """Not now: send at `until` (a text that would arrive in quiet hours)."""

    until: dt.datetime


Resolver = Callable[["Message"], Resolved]
_resolvers: dict[str, Resolver] = {}
_labels: dict[str, str] = {}


def register(kind: str, resolver: Resolver, label: str = "") -> None:
    """`label` is how staff pages name the kind ("Reminder with confirm/cancel link")."""
    _resolvers[kind] = resolver
    if label:
        _labels[kind] = label


def unregister(kind: str) -> None:
    """Forget the kind's resolver and label (a test's own kind, after the test)."""
    _resolvers.pop(kind, None)
    _labels.pop(kind, None)


def name_kind(kind: str, label: str) -> None:
    """How staff pages name a kind that has no resolver (its messages are written complete)."""
    _labels[kind] = label


def resolver_for(kind: str) -> Resolver | None:
    return _resolvers.get(kind)


def label_for(kind: str) -> str:
    return _labels.get(kind, kind.replace("_", " ").capitalize())


# --- Replies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the app that understands replies made of an inbound text: the words to answer with
    ("" for none), what the text was about (a group, e.g. ``session:<id>``) and its outcome."""

    reply: str = ""
    group: str = ""
    outcome: str = ""


if TYPE_CHECKING:
    from notifications.models import InboundText

ReplyHandler = Callable[["InboundText"], Answer]
_reply_handlers: list[ReplyHandler] = []


def register_replies(handler: ReplyHandler) -> None:
    """The one handler of inbound texts (the app that sends the reminders knows their words)."""
    _reply_handlers[:] = [handler]


def reply_handler() -> ReplyHandler | None:
    return _reply_handlers[0] if _reply_handlers else None


# --- Consent to texts, read again at each delivery ------------------------------------------------

TextGate = Callable[[str], str]
_text_gates: list[TextGate] = []


def register_text_gate(gate: TextGate) -> None:
    """The one check of a number's consent to texts (the app that keeps consent registers it).

    It is asked right before each text is handed to the provider, after the batch was resolved,
    and reads the consent as committed at that moment: an opt-out (a STOP reply) that commits
    while a batch is sending stops the texts after it. It returns why the number must not get a
    text now, or "" when it may."""
    _text_gates[:] = [gate]


def text_refused(number: str) -> str:
    return _text_gates[0](number) if _text_gates else ""
