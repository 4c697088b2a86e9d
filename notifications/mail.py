"""A file email backend for development: each delivery is a file in EMAIL_FILE_PATH.

Django's file backend appends to one file per connection; this one writes one `.eml` per
delivery, named by the Message-ID, and lists each in deliveries.log. It never skips a second
delivery of the same message, so a duplicate is visible rather than hidden.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from notifications.backends import append_delivery


class OutboxFileBackend(BaseEmailBackend):
    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Any) -> int:
        sent = 0
        for message in email_messages:
            mime = message.message()
            name = re.sub(r"[^A-Za-z0-9@._-]", "", mime["Message-ID"] or "") or "message"
            append_delivery(self.directory, f"{name}.eml", mime.as_string())
            sent += 1
        return sent
