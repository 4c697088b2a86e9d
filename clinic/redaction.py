"""Link tokens in addresses, cut to their first characters before anything is logged.

A signed or random token in a URL (reminder links, check-ins, questionnaires, email
verification, invitations, password resets, calendar feeds) is the key to what it opens: whoever
reads a log that holds it whole can open the link. Logs keep the first `PREFIX` characters only,
enough to match a complaint to a message, never enough to open anything (OWASP Logging Cheat
Sheet: "access tokens ... should not be recorded directly in the logs").

Which parts of an address are tokens is read from the URL patterns themselves: any path argument
named `token`. Query strings are logged by parameter names only: their values are whatever a
person typed, and the app never needs them in a log.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit, urlunsplit

PREFIX = 8
SECRET_ARGUMENTS = frozenset({"token"})
# Longer than any word of the app's own paths; calendar tokens are 32 characters, signed ones more.
LONG_SEGMENT = 24
_ELLIPSIS = "…"


def token_prefix(token: str) -> str:
    """What may be logged of a token: its first characters."""
    return token[:PREFIX] + _ELLIPSIS


def tokens_in(path: str) -> list[str]:
    """The tokens a path carries, found by resolving it against the project's URL patterns."""
    from django.apps import apps
    from django.conf import settings
    from django.urls import Resolver404, resolve

    if not apps.ready:  # gunicorn's master process never loads Django
        raise RuntimeError("the URL patterns are not loaded")
    if path.startswith(settings.STATIC_URL):  # hashed file names, no tokens
        return []
    try:
        match = resolve(path)
    except Resolver404:
        # A path that names no page may still hold a mangled link's token (a mail client that
        # appended a character): its long segments are treated as tokens.
        return [part for part in path.split("/") if len(part) >= LONG_SEGMENT]
    return [str(match.kwargs[name]) for name in SECRET_ARGUMENTS & match.kwargs.keys()]


def redact_path(path: str) -> str:
    try:
        tokens = tokens_in(path)
    except Exception:  # a log line must never fail: cut every long segment instead
        return "/".join(
            part[:PREFIX] + _ELLIPSIS if len(part) > PREFIX else part for part in path.split("/")
        )
    for token in tokens:
        path = path.replace(token, token_prefix(token))
    return path


def redact_query(query: str) -> str:
    """Parameter names only: `week=…&location=…`."""
    names = [name for name, _value in parse_qsl(query, keep_blank_values=True)]
    return "&".join(f"{name[:40]}={_ELLIPSIS}" for name in names)


def redact_url(url: str) -> str:
    """A path with its query (`/r/abc/?x=1`) or a whole URL (a Referer), redacted."""
    if not url or url == "-":
        return url
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(path=redact_path(parts.path), query=redact_query(parts.query), fragment="")
    )


def redact_words(text: str) -> str:
    """Every word of a log message that is a path (`/r/<token>/`) or a URL, redacted."""
    words = text.split(" ")
    for index, word in enumerate(words):
        bare = word.strip("\"'")
        if bare.startswith("/") or bare.startswith(("http://", "https://")):
            words[index] = word.replace(bare, redact_url(bare))
    return " ".join(words)


class RedactTokens(logging.Filter):
    """For the loggers that write request paths (django.request, django.server): the message is
    rendered once with its tokens and query values cut, so no handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report, as without this filter
            return True
        redacted = redact_words(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
