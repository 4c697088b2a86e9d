"""A local stand-in for Twilio's REST API, on loopback in a thread of the test process.

The real `twilio` SDK and the real TwilioSmsBackend talk HTTP to it (tests.sms_backends points
the SDK's HTTP client here instead of api.twilio.com); it records every request it receives and
answers as Twilio does: 201 with a message resource, or an error body with Twilio's code.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "1" * 32
SITE = "https://clinic.example.org"


@dataclass
class Received:
    method: str
    path: str
    form: dict[str, str]
    authorization: str
    # When it arrived (time.monotonic() in this process), to order it against other events.
    at: float = field(default_factory=time.monotonic)

    @property
    def credentials(self) -> tuple[str, str]:
        user, _, password = base64.b64decode(self.authorization.split()[1]).decode().partition(":")
        return user, password


@dataclass
class FakeTwilio:
    """Answers by the `To` number: `errors[number] = (http status, twilio code)`."""

    requests: list[Received] = field(default_factory=list)
    errors: dict[str, tuple[int, int]] = field(default_factory=dict)
    url: str = ""
    # Called with each request, after it is recorded and before it is answered (in the
    # server's thread): a test acts "while the provider is taking a text".
    on_receive: Callable[[Received], None] | None = None

    def answer(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        failure = self.errors.get(form.get("To", ""))
        if failure is not None:
            status, code = failure
            return status, {"code": code, "message": "refused", "status": status}
        return 201, {
            "sid": "SM" + uuid.uuid4().hex,
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
            "account_sid": ACCOUNT_SID,
        }


def start_fake_twilio() -> tuple[FakeTwilio, ThreadingHTTPServer]:
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {key: values[0] for key, values in parse_qs(raw).items()}
            received = Received("POST", self.path, form, self.headers.get("Authorization", ""))
            fake.requests.append(received)
            if fake.on_receive is not None:
                fake.on_receive(received)
            status, payload = fake.answer(form)
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


def signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it: the SDK's own RequestValidator."""
    return RequestValidator(token).compute_signature(url, params)


def twilio_post(
    client,
    path: str,
    params: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    signed_url: str | None = None,
    idempotency: str | None = None,
    signed: bool = True,
    **extra: str,
):
    """POST a webhook the way Twilio does: form-encoded, signed over the public URL."""
    headers = {"I-Twilio-Idempotency-Token": idempotency or uuid.uuid4().hex}
    if signed:
        headers["X-Twilio-Signature"] = signature(signed_url or SITE + path, params, token)
    return client.post(path, params, headers=headers, **extra)
