"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives.

Tests and bench.reminders point the app's SMTP backend at it and read what arrived: it counts
every message handed to it, a second copy of one included, and never de-duplicates.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Keeper:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.connections = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"


class SmtpPeer:
    """Start with `start()`; `host`/`port` for EMAIL_HOST/EMAIL_PORT; `messages` as received."""

    def __init__(self) -> None:
        self.keeper = _Keeper()
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.controller = Controller(self.keeper, hostname=self.host, port=self.port)

    def start(self) -> SmtpPeer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self.keeper.lock:
            return list(self.keeper.messages)

    @property
    def connections(self) -> int:
        return self.keeper.connections

    def env(self) -> dict[str, str]:
        """Environment for a worker process that delivers here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": str(self.port),
        }

    def wait_for(self, count: int, timeout: float = 60) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} emails within {timeout}s, got {len(self.messages)}"
                )
            time.sleep(0.05)
        return self.messages
