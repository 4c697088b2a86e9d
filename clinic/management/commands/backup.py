"""`manage.py backup`: the database and the media files, with a manifest
(docs/operations.md#backups-and-the-restore-drill)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clinic import backups


class Command(BaseCommand):
    help = "Back up PostgreSQL (pg_dump -Fc) and the media files, with a manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, help="the backups' directory (BACKUP_DIR)")

    def handle(self, *args: Any, **options: Any) -> None:
        target = backups.create_backup(options["dir"])
        self.stdout.write(f"backup written to {target}")
