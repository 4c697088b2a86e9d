"""The storage of uploads and generated files: a private, encrypted S3 bucket (django-storages).

Every web and worker node reads the same bucket, so a file saved by one is served by another.
The objects are private and encrypted at rest (SSE-S3, AES256); they are served only through the
app's own access-checked, audited views, never from a bucket address
(docs/operations.md#file-storage).
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


class PrivateS3Storage(S3Storage):  # type: ignore[misc]  # django-storages ships no types
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


def create_bucket(
    endpoint: str | None,
    bucket: str,
    region: str,
    access_key: str | None = None,
    secret_key: str | None = None,
) -> None:
    """The app's bucket, private and encrypted by default (the app asks for AES256 on each object
    too); nothing changes when it exists. For the embedded and compose peers: a production bucket
    is made, and its access policy set, by whoever runs the account."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
    )
    existing = {entry["Name"] for entry in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket, ACL="private")
    client.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def main() -> None:
    """`python -m clinic.storage`: create the bucket the settings name (compose runs it before
    migrating)."""
    import os

    import django
    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()
    options = settings.STORAGES["default"]["OPTIONS"]
    if settings.STORAGE != "s3" or not options.get("bucket_name"):
        raise SystemExit("No bucket to create: STORAGE is not s3, or S3_BUCKET is not set.")
    create_bucket(
        options["endpoint_url"],
        options["bucket_name"],
        options["region_name"],
        options["access_key"],
        options["secret_key"],
    )
    print(f"bucket {options['bucket_name']} ready", flush=True)


if __name__ == "__main__":
    main()
