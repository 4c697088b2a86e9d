"""What a person finds in their mailbox: emails as the real SMTP peer received them, parsed.

`Inbox.deliver()` sends the outbox's due rows in this process through the same path the worker
runs (claim, resolve, deliver over SMTP, record) to the SMTP peer (bench/smtp_peer.py), and
returns what arrived with that call. Worker tests read `Inbox.peer` as the worker delivers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from django.conf import settings
from django.db import connection

from bench.smtp_peer import SmtpPeer


@dataclass(frozen=True)
class Mail:
    """One received email: its addressee, subject, text and HTML parts."""

    to: list[str]
    subject: str
    body: str
    html: str
    message_id: str

    @classmethod
    def parse(cls, message: EmailMessage) -> Mail:
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        return cls(
            to=[address.strip() for address in str(message["To"]).split(",")],
            subject=str(message["Subject"]),
            body=text.get_content() if text is not None else "",
            html=html.get_content() if html is not None else "",
            message_id=str(message["Message-ID"]).strip("<>").split("@")[0],
        )

    def link(self, path_prefix: str) -> str:
        """The path of the first absolute link in the text part that starts with the prefix."""
        match = re.search(
            re.escape(settings.SITE_URL) + rf"({re.escape(path_prefix)}\S+/)", self.body
        )
        assert match, f"no {path_prefix} link in: {self.body}"
        return match.group(1)


class Inbox:
    def __init__(self, peer: SmtpPeer) -> None:
        self.peer = peer
        self.seen = 0

    @property
    def received(self) -> list[Mail]:
        return [Mail.parse(message) for message in self.peer.messages]

    def deliver(self) -> list[Mail]:
        """Send every due outbox row now, as the worker would, and return what arrived."""
        from notifications import services as outbox

        outbox.send_batch(outbox.claim_due())
        return self.new()

    def new(self) -> list[Mail]:
        """What arrived since the last call."""
        received = self.received
        fresh, self.seen = received[self.seen :], len(received)
        return fresh


def rows_holding(value: str) -> list[str]:
    """The tables with a row that holds `value` anywhere in any column (each row cast to text).

    Used to show that a link's raw token is nowhere in the database, only its hash."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        found = []
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT count(*) FROM {quoted} AS t WHERE strpos(t::text, %s) > 0",  # noqa: S608
                [value],
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found
