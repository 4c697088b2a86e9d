"""The storage of uploads and generated files: a private, encrypted S3 bucket (django-storages).

Every web and worker node reads the same bucket, so a file saved by one is served by another.
The objects are private and encrypted at rest (SSE-S3, AES256); they are served only through the
app's own access-checked, audited views, never from a bucket address (docs/operations.md#file-storage).
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage

# A readiness probe or an upload waits this long for an S3 peer that does not answer, not
# botocore's minute; two attempts in all.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10


class PrivateS3Storage(S3Storage):
    """S3Storage that refuses to start without a bucket and never hands out a bucket address."""

    def __init__(self, **settings: Any) -> None:
        if not settings.get("bucket_name"):
            # Settings load without a bucket (collectstatic, check --deploy and migrate need no
            # files); the first file operation stops here, and /readyz reports storage unavailable.
            raise ImproperlyConfigured(
                "File storage is S3 (STORAGE=s3, the default) but S3_BUCKET is not set. Set "
                "S3_BUCKET (and S3_ENDPOINT_URL for a bucket outside AWS), or STORAGE=local "
                "for files on this machine's disk."
            )
        settings.setdefault(
            "client_config",
            Config(
                s3={"addressing_style": settings.get("addressing_style") or "auto"},
                signature_version=settings.get("signature_version") or "s3v4",
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                read_timeout=READ_TIMEOUT_SECONDS,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )
        super().__init__(**settings)

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        """No address into the bucket leaves the app: a file is served by a view that checks who
        asks and audits the read (the insurance card's download, for one)."""
        raise NotImplementedError(
            "Stored files have no URL; serve them through an access-checked view."
        )
