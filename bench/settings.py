"""The benchmark server's settings: the app's own, plus the timing middleware and the reference
pages. Only bench.pages starts a server with them (DJANGO_SETTINGS_MODULE=bench.settings)."""

from __future__ import annotations

from clinic.env import env_str
from clinic.settings import *  # noqa: F403
from clinic.settings import MIDDLEWARE

REQUEST_TIMING_LOG = env_str("REQUEST_TIMING_LOG")
MIDDLEWARE = ["bench.server.RequestTimingMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "bench.urls"
