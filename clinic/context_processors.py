"""Context for every page that no view may override."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """SITE_NAME for every page's title and header. Not `site_name`: Django's auth views set
    that to the request's host (RequestSite), which is how the login page came to be titled
    "Sign in · 127.0.0.1:8123"."""
    return {"SITE_NAME": settings.SITE_NAME}
