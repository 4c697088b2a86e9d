"""Logging filters for the request loggers."""

from __future__ import annotations

import logging


class ForbiddenOnOneLine(logging.Filter):
    """A refused request (403) is routine, not an error: log its one line, not the traceback
    of the PermissionDenied that made it (Django attaches it, and each handler printed it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
