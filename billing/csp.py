"""The one exception to "no script from another origin": Stripe.js, which Stripe requires to be
loaded from js.stripe.com so that card numbers are typed into Stripe's own frame and never reach
this server (docs/security.md#stripejs). Only the pages with a card form widen the policy."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse

from clinic.middleware import CSP


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allow_stripe(response: HttpResponse) -> HttpResponse:
    js = _origin(settings.STRIPE_JS_URL)
    api = (
        _origin(settings.STRIPE_API_BASE) if settings.STRIPE_API_BASE else "https://api.stripe.com"
    )
    policy = (
        CSP.replace("script-src 'self'", f"script-src 'self' {js}")
        .replace("connect-src 'self'", f"connect-src 'self' {api} {js}")
        .replace(
            "frame-ancestors 'none'",
            f"frame-src {js} https://hooks.stripe.com; frame-ancestors 'none'",
        )
    )
    response.headers["Content-Security-Policy"] = policy
    return response
