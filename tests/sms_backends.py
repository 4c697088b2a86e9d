"""A stand-in for an SMS provider that fails on purpose, by number (the provider is external)."""

from __future__ import annotations

from notifications.backends import PermanentDeliveryError, TransientDeliveryError


class FlakySmsBackend:
    def send(self, message_id: str, to: str, text: str) -> None:
        if to.startswith("+1999"):
            raise TransientDeliveryError("provider timed out")
        if to.startswith("+1888"):
            raise PermanentDeliveryError("number cannot receive texts")
