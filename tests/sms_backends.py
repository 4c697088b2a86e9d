"""A stand-in for an SMS provider that fails on purpose, by number (the provider is external)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from notifications.backends import (
    PermanentDeliveryError,
    TransientDeliveryError,
    TwilioSmsBackend,
)

API = "https://api.twilio.com"


class FlakySmsBackend:
    def send(self, message_id: str, to: str, text: str) -> None:
        if to.startswith("+1999"):
            raise TransientDeliveryError("provider timed out")
        if to.startswith("+1888"):
            raise PermanentDeliveryError("number cannot receive texts")


class LocalTwilioSmsBackend(TwilioSmsBackend):
    """The real Twilio backend and SDK, whose HTTP client is pointed at the local stand-in of
    Twilio's API (tests/twilio_peer.py, its address in settings.TWILIO_TEST_API_URL, or in the
    environment of a worker process): the SDK builds and sends real requests, nothing leaves the
    machine."""

    def http_client(self) -> TwilioHttpClient:
        base = getattr(settings, "TWILIO_TEST_API_URL", "") or os.environ["TWILIO_TEST_API_URL"]
        return _Redirected(base, timeout=5)

    def send(self, message_id: str, to: str, text: str) -> str | None:
        # Never reach the real API: a backend without the hook would not use the local server.
        if "http_client" not in vars(TwilioSmsBackend):
            raise PermanentDeliveryError("the Twilio backend has no HTTP client hook")
        return super().send(message_id, to, text)


class _Redirected(TwilioHttpClient):  # type: ignore[misc]  # the SDK ships no types
    def __init__(self, base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        assert url.startswith(API), url
        return super().request(method, self.base + url.removeprefix(API), *args, **kwargs)
