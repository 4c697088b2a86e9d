"""gunicorn's logger with link tokens and query values cut from every access-log atom, and from
the paths in its error log.

gunicorn writes the access log from the WSGI environ, outside Django's logging, so the filter of
`clinic.redaction` does not reach it. This logger hands gunicorn a copy of the environ (and of the
request headers) in which the path, the query string and the Referer are already redacted; every
atom of any access-log format is built from those copies. `gunicorn.conf.py` selects it.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from clinic import redaction

_REDACTED_HEADERS = {"referer"}


class _Headers:
    """The request as atoms() reads it: only its `headers`, with the Referer redacted."""

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = [
            (name, redaction.redact_url(value) if name.lower() in _REDACTED_HEADERS else value)
            for name, value in headers
        ]


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn ships no types
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # The error log has request paths too: at debug level, gunicorn's default pre_request
        # hook logs "GET /r/<token>/".
        self.error_log.addFilter(redaction.RedactTokens())

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        path = redaction.redact_path(environ.get("PATH_INFO") or "")
        query = redaction.redact_query(environ.get("QUERY_STRING") or "")
        safe = {
            **environ,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "RAW_URI": f"{path}?{query}" if query else path,
            "REQUEST_URI": f"{path}?{query}" if query else path,
        }
        if "HTTP_REFERER" in environ:
            safe["HTTP_REFERER"] = redaction.redact_url(environ["HTTP_REFERER"])
        headers = getattr(req, "headers", None)
        atoms: dict[str, Any] = super().atoms(
            resp, _Headers(list(headers or [])), safe, request_time
        )
        return atoms
