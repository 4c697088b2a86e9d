"""A file email backend that writes each message once, named by its Message-ID.

Django's file backend appends to a file per connection; this one makes redelivery of the same
message (after a worker died between sending and recording it) leave a single file, the way a
receiver honouring an idempotency key would.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from notifications.backends import write_once


class OutboxFileBackend(BaseEmailBackend):
    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Any) -> int:
        written = 0
        for message in email_messages:
            mime = message.message()
            name = re.sub(r"[^A-Za-z0-9@._-]", "", mime["Message-ID"] or "") or "message"
            if write_once(self.directory, f"{name}.eml", mime.as_string()):
                written += 1
        return len(list(email_messages))
