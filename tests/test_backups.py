"""Backups and the restore drill (docs/operations.md#backups-and-the-restore-drill): a small
world is backed up, restored into a scratch database and storage, and checked."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Role
from clinic import backups
from intake.models import IntakeAttachment
from scheduling import services
from scheduling.models import Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_DAY = dt.date(2030, 3, 4)  # a Monday


@pytest.fixture
def world(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.BACKUP_DIR = tmp_path / "backups"
    location = make_location(shifts_from=FIRST_DAY, shift_days=14)
    plan = approved_plan("backed.up@example.org", location, infusions=2, min_days_between=2)
    services.book_series(
        plan,
        location,
        [
            services.Choice(FIRST_DAY, dt.time(10)),
            services.Choice(FIRST_DAY + dt.timedelta(2), dt.time(10)),
        ],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    IntakeAttachment.objects.create(
        intake=plan.intake,
        kind=IntakeAttachment.Kind.INSURANCE_CARD,
        file=ContentFile(b"\x89PNG a card", name="card.png"),
        content_type="image/png",
        size=12,
    )
    return plan


def test_the_drill_restores_the_latest_backup_with_equal_counts_and_files(world, capsys):
    call_command("backup")
    backup = backups.latest_backup()
    manifest = json.loads((backup / backups.MANIFEST).read_text())
    assert manifest["row_counts"]["scheduling_session"] == Session.objects.count() == 2
    assert manifest["row_counts"]["intake_intakeattachment"] == 1
    card = IntakeAttachment.objects.get().file.name
    assert f"media/{card}" in manifest["files"]
    assert "scheduling.0001_btree_gist" in manifest["migrations"]

    call_command("restore_drill")

    out = capsys.readouterr().out
    assert "restore drill passed" in out
    assert f"{len(manifest['row_counts'])} tables" in out
    assert f"{sum(manifest['row_counts'].values())} rows equal to the manifest" in out
    assert "1 files restored, 1 checked by sha256" in out
    # The drill database is gone.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", ["%_drill_%"])
        assert cursor.fetchone()[0] == 0


def test_the_drill_fails_naming_a_corrupted_file(world):
    call_command("backup")
    backup = backups.latest_backup()
    card = str(IntakeAttachment.objects.get().file.name)
    (backup / "media" / card).write_bytes(b"not the card")

    with pytest.raises(CommandError, match=f"media/{card}: sha256 differs"):
        call_command("restore_drill")


def test_a_backup_without_a_manifest_is_never_the_latest(world):
    call_command("backup")
    finished = backups.latest_backup()
    (finished.parent / "99999999T999999Z").mkdir()
    assert backups.latest_backup() == finished
