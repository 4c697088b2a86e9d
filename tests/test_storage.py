"""Files in object storage (docs/operations.md#file-storage): an upload is a private object,
encrypted at rest, in the S3 bucket every node shares (moto's server here, started by
`clinic.embedded` like PostgreSQL and Redis); it is read back only through the app's access-checked
view, and /readyz says when the bucket cannot take files."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import Role
from audit.models import AuditEvent
from clinic.env import env_choice, env_url
from clinic.storage import create_bucket
from intake import services
from intake.models import Intake, IntakeAttachment
from intake.samples import fill_intake_on
from tests.factories import LocationFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_GRANTEES = {
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}


def bucket_client(options: dict[str, object] | None = None):
    """A boto3 client of its own on the bucket the app writes to (not the app's client)."""
    options = options or django_settings.STORAGES["default"]["OPTIONS"]
    return boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        region_name=options["region_name"],
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
    )


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 38), (20, 120, 140)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "card.png"
    return buffer


def post_card(client, intake: Intake):
    return client.post(
        reverse("intake:step", args=[intake.public_id, "insurance"]),
        {"payment": "insurance", "payer": "Acme Health", "member_id": "X123", "card": png()},
    )


@pytest.fixture
def draft_with_card(make_user, login):
    """A patient's draft, every step answered, the card uploaded through the real insurance step."""
    LocationFactory.create(slug="stamford", name="Stamford")
    patient = make_user(role=Role.PATIENT)
    client = login(patient)
    assert client.post(reverse("intake:start")).status_code == 302
    intake = fill_intake_on(Intake.objects.get(patient=patient))
    assert post_card(client, intake).status_code == 302
    return client, intake


@pytest.fixture
def carded(draft_with_card):
    """The same intake, submitted: the desk and clinicians may now open its card."""
    _client, intake = draft_with_card
    intake = services.submit(intake)
    return intake, IntakeAttachment.objects.get(intake=intake)


def card_keys(intake: Intake) -> list[str]:
    bucket = django_settings.STORAGES["default"]["OPTIONS"]["bucket_name"]
    listed = bucket_client().list_objects_v2(Bucket=bucket, Prefix=f"intake/{intake.public_id}/")
    return [entry["Key"] for entry in listed.get("Contents", [])]


@pytest.mark.django_db
def test_the_suite_stores_files_in_the_embedded_s3_bucket_by_default():
    assert django_settings.STORAGE == "s3"
    assert django_settings.STORAGES["default"]["BACKEND"] == "clinic.storage.PrivateS3Storage"
    options = django_settings.STORAGES["default"]["OPTIONS"]
    assert options["endpoint_url"] == os.environ["S3_ENDPOINT_URL"]
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}


@pytest.mark.django_db
def test_an_uploaded_card_is_an_encrypted_private_object_in_the_bucket(carded):
    _intake, card = carded
    options = django_settings.STORAGES["default"]["OPTIONS"]
    s3 = bucket_client()

    head = s3.head_object(Bucket=options["bucket_name"], Key=card.file.name)
    stored = s3.get_object(Bucket=options["bucket_name"], Key=card.file.name)["Body"].read()

    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentLength"] == card.size == len(stored)
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("PNG", (60, 38))
    grants = s3.get_object_acl(Bucket=options["bucket_name"], Key=card.file.name)["Grants"]
    assert not {grant["Grantee"].get("URI") for grant in grants} & PUBLIC_GRANTEES
    with pytest.raises(NotImplementedError):
        card.file.url  # noqa: B018  (no address into the bucket leaves the app)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.CLINICIAN])
def test_the_desk_and_clinicians_get_the_card_from_the_bucket_through_the_audited_view(
    carded, login, role
):
    intake, card = carded
    options = django_settings.STORAGES["default"]["OPTIONS"]
    in_bucket = bucket_client().get_object(Bucket=options["bucket_name"], Key=card.file.name)
    reader = UserFactory.create(role=role)

    response = login(reader).get(reverse("intake:insurance_card", args=[intake.public_id]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == in_bucket["Body"].read()
    assert response["Content-Type"] == "image/png"
    assert AuditEvent.objects.filter(actor=reader, record_type="insurance_card").count() == 1


@pytest.mark.django_db
def test_another_patient_is_refused_the_card(carded, login, make_user):
    intake, _card = carded

    response = login(make_user(role=Role.PATIENT)).get(
        reverse("intake:insurance_card", args=[intake.public_id])
    )

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(record_type="insurance_card").exists()


@pytest.mark.django_db
def test_the_pages_that_mention_the_card_render_with_no_address_into_the_bucket(
    draft_with_card, login
):
    client, intake = draft_with_card
    endpoint = django_settings.STORAGES["default"]["OPTIONS"]["endpoint_url"]
    patient_pages = [
        reverse("intake:step", args=[intake.public_id, "insurance"]),
        reverse("intake:review", args=[intake.public_id]),
    ]
    for path in patient_pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert endpoint not in response.content.decode()

    intake = services.submit(intake)
    summary = login(UserFactory.create(role=Role.CLINICIAN)).get(
        reverse("review:summary", args=[intake.public_id])
    )

    assert summary.status_code == 200
    html = summary.content.decode()
    assert reverse("intake:insurance_card", args=[intake.public_id]) in html
    assert endpoint not in html


@pytest.mark.django_db
def test_a_card_missing_from_the_bucket_is_not_found(carded, login):
    intake, card = carded
    options = django_settings.STORAGES["default"]["OPTIONS"]
    bucket_client().delete_object(Bucket=options["bucket_name"], Key=card.file.name)

    response = login(UserFactory.create(role=Role.FRONT_DESK)).get(
        reverse("intake:insurance_card", args=[intake.public_id])
    )

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_replaced_card_leaves_no_object_behind_once_committed(
    draft_with_card, django_capture_on_commit_callbacks
):
    client, intake = draft_with_card
    old_key = IntakeAttachment.objects.get(intake=intake).file.name

    with django_capture_on_commit_callbacks(execute=True):
        response = post_card(client, intake)

    assert response.status_code == 302
    new_key = IntakeAttachment.objects.get(intake=intake).file.name
    assert new_key != old_key
    assert card_keys(intake) == [new_key]


@pytest.mark.django_db
def test_a_replacement_that_is_rolled_back_keeps_the_old_card_in_the_bucket(draft_with_card):
    from django.db import transaction
    from django.utils.datastructures import MultiValueDict

    from intake.forms import InsuranceForm
    from intake.steps import steps_for

    _client, intake = draft_with_card
    old_key = IntakeAttachment.objects.get(intake=intake).file.name
    step = next(step for step in steps_for(intake) if step.slug == "insurance")
    form = InsuranceForm(
        MultiValueDict({"payment": ["insurance"], "payer": ["A"], "member_id": ["X"]}),
        {"card": SimpleUploadedFile("card.png", png().getvalue())},
        intake=intake,
    )
    assert form.is_valid(), form.errors

    with pytest.raises(RuntimeError), transaction.atomic():
        services.save_step(intake, step, form.answers(), ip="127.0.0.1", **form.attachments())
        raise RuntimeError("a later write fails")

    assert IntakeAttachment.objects.get(intake=intake).file.name == old_key
    assert old_key in card_keys(intake)


def test_a_tmp_path_file_system_storage_still_overrides_the_bucket(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }

    name = default_storage.save("probe/file.txt", ContentFile(b"on disk"))

    assert (tmp_path / name).read_bytes() == b"on disk"


# --- /readyz against an S3 peer that goes away ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def own_s3_peer(settings):
    """A moto server of this test's own, so stopping it takes no bucket from other tests."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    options = settings.STORAGES["default"]["OPTIONS"]
    create_bucket(
        endpoint, "readyz-peer", "us-east-1", options["access_key"], options["secret_key"]
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {
                **settings.STORAGES["default"]["OPTIONS"],
                "endpoint_url": endpoint,
                "bucket_name": "readyz-peer",
            },
        },
    }
    running = [True]

    def stop() -> None:
        server.stop()
        running[0] = False

    yield stop
    if running[0]:
        server.stop()


@pytest.mark.django_db
def test_readyz_reports_storage_ok_while_the_s3_peer_answers_and_unavailable_once_it_is_down(
    client, own_s3_peer
):
    up = client.get("/readyz")
    assert (up.status_code, up.json()["storage"]) == (200, "ok")

    own_s3_peer()
    down = client.get("/readyz")

    assert down.status_code == 503
    assert down.json() == {
        "status": "unavailable",
        "database": "ok",
        "redis": "ok",
        "storage": "unavailable",
        "migrations": "ok",
    }


@pytest.mark.django_db
def test_readyz_reports_storage_unavailable_when_the_bucket_does_not_exist(client, settings):
    options = settings.STORAGES["default"]["OPTIONS"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**options, "bucket_name": "no-such-bucket"},
        },
    }

    response = client.get("/readyz")

    assert (response.status_code, response.json()["storage"]) == (503, "unavailable")


def test_python_m_clinic_storage_creates_the_named_bucket_encrypted_by_default():
    bucket = f"created-{os.getpid()}"

    made = subprocess.run(
        [sys.executable, "-m", "clinic.storage"],
        cwd=ROOT,
        env={**os.environ, "S3_BUCKET": bucket},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert made.returncode == 0, made.stderr
    rules = bucket_client().get_bucket_encryption(Bucket=bucket)
    assert rules["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}


# --- Settings: what production gets when nothing is set ------------------------------------------


def _settings_process(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a process of its own with CI's production-like environment."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("S3_", "AWS_ACCESS", "AWS_SECRET", "STORAGE", "MEDIA_ROOT"))
    }
    base.update(
        DEBUG="false",
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://clinic@db.invalid/clinic",
        REDIS_URL="redis://redis.invalid:6379/0",
        DJANGO_SETTINGS_MODULE="clinic.settings",
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_bucket_loads_but_the_first_file_operation_names_s3_bucket():
    loaded = _settings_process("from django.conf import settings; print(settings.STORAGE)")
    assert (loaded.returncode, loaded.stdout.strip()) == (0, "s3"), loaded.stderr

    used = _settings_process(
        "from django.core.files.storage import default_storage; default_storage.exists('x')"
    )
    assert used.returncode != 0
    assert "ImproperlyConfigured" in used.stderr and "S3_BUCKET is not set" in used.stderr


def test_storage_local_puts_files_on_disk_at_media_root(tmp_path):
    loaded = _settings_process(
        "from django.core.files.storage import default_storage as s; s._setup(); "
        "print(type(s._wrapped).__name__, s._wrapped.location)",
        STORAGE="local",
        MEDIA_ROOT=str(tmp_path),
    )

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["FileSystemStorage", str(tmp_path)]


def test_a_bad_storage_setting_stops_start_up_naming_the_variable():
    bad_choice = _settings_process("", STORAGE="disk")
    bad_endpoint = _settings_process("", S3_ENDPOINT_URL="minio:9000")

    assert "STORAGE must be one of local, s3; got 'disk'" in bad_choice.stderr
    assert "S3_ENDPOINT_URL must be an http:// or https:// address" in bad_endpoint.stderr


def test_the_typed_helpers_read_a_choice_and_an_address():
    assert env_choice("STORAGE", "s3", {"s3", "local"}, environ={"STORAGE": " Local "}) == "local"
    assert env_choice("STORAGE", "s3", {"s3", "local"}, environ={}) == "s3"
    with pytest.raises(ImproperlyConfigured, match="STORAGE must be one of local, s3"):
        env_choice("STORAGE", "s3", {"s3", "local"}, environ={"STORAGE": "disk"})
    assert env_url("U", "", environ={"U": "https://s3.example.org"}) == "https://s3.example.org"
    assert env_url("U", "", environ={}) == ""
    with pytest.raises(ImproperlyConfigured, match="U must be an http"):
        env_url("U", "", environ={"U": "ftp://x"})
