"""The embedded Stripe peer: localstripe, with the three things the app relies on from Stripe.

`python -m clinic.stripe_peer --port N --log FILE` serves localstripe's fake Stripe API and its
Stripe.js stand-in (`/js.stripe.com/v3/`) for `make run`, the tests and the benchmarks
(docs/payments.md#localstripe). localstripe 1.15 lacks three things real Stripe does, which the
launcher adds around it rather than the app working around them:

- **Idempotency keys.** Stripe replays the first answer to a request that repeats an
  `Idempotency-Key`; localstripe ignores the header. The peer keeps each key's first answer and
  replays it, as Stripe does, so a retried charge is seen as Stripe would see it.
- **A payment intent's `description`.** Stripe accepts one (we send the neutral "Clinic visit");
  localstripe refuses any parameter it does not know.
- **A record of every request.** Each request that reaches the peer (method, path, query, body)
  is appended as one JSON line to `--log`, so a test can read everything Stripe was told
  (docs/payments.md#what-goes-to-stripe). Keys are not recorded.

State lives in memory only (localstripe pickles its whole store to /tmp after every write,
which makes a thousand charges quadratic): a restart of the peer forgets every object, like
moto's S3.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web


def build_app(log_path: Path | None) -> web.Application:
    from localstripe import resources, server  # type: ignore[import-untyped]  # no types

    resources.Store.dump_to_disk = lambda self: None
    _accept_description(resources.PaymentIntent)

    answers: dict[str, tuple[int, bytes, str]] = {}
    in_flight: dict[str, asyncio.Lock] = {}
    log = open(log_path, "a", buffering=1, encoding="utf-8") if log_path else None  # noqa: SIM115

    @web.middleware
    async def record_and_replay(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        body = await request.read()
        if log is not None and not request.path.startswith("/js.stripe.com/"):
            log.write(
                json.dumps(
                    {
                        "method": request.method,
                        "path": request.path,
                        "query": request.query_string,
                        "body": body.decode("utf-8", "replace"),
                        "idempotency_key": request.headers.get("Idempotency-Key", ""),
                    }
                )
                + "\n"
            )
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        scoped = f"{request.path} {key}"
        lock = in_flight.setdefault(scoped, asyncio.Lock())
        async with lock:
            if scoped in answers:
                status, text, content_type = answers[scoped]
                replay = web.Response(status=status, body=text, content_type=content_type)
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
            try:
                response = await handler(request)
            except web.HTTPException as error:
                response = error
            if isinstance(response, web.Response) and response.body is not None:
                raw = response.body
                answers[scoped] = (
                    response.status,
                    raw if isinstance(raw, bytes) else bytes(raw),  # type: ignore[arg-type]  # a Payload
                    response.content_type,
                )
            return response

    # Outermost, before localstripe's own error and auth middlewares.
    server.app.middlewares.insert(0, record_and_replay)
    return server.app  # type: ignore[no-any-return]  # untyped module


def _accept_description(payment_intent: Any) -> None:
    original = payment_intent.__init__

    def __init__(self: Any, description: str | None = None, **kwargs: Any) -> None:
        original(self, **kwargs)
        self.description = description

    payment_intent.__init__ = __init__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app = build_app(args.log)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    web.run_app(app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    main()
