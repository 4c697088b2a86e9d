"""`manage.py restore_drill`: restore the latest backup into a fresh database and storage,
check it and drop it (docs/operations.md#backups-and-the-restore-drill)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic import backups


class Command(BaseCommand):
    help = "Restore the latest backup into a scratch database, check it, then drop it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, help="the backups' directory (BACKUP_DIR)")
        parser.add_argument("--backup", type=Path, help="this backup instead of the latest")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup = options["backup"] or backups.latest_backup(options["dir"])
            report = backups.restore_drill(backup)
        except (backups.DrillFailed, FileNotFoundError) as error:
            raise CommandError(f"restore drill FAILED: {error}") from error
        self.stdout.write(
            f"restore drill passed: {backup.name} into {report.database} (dropped); "
            f"{report.tables} tables, {report.rows} rows equal to the manifest; "
            f"migrate --check clean; {report.files} files restored, "
            f"{len(report.sampled_files)} checked by sha256; "
            f"restore {report.restore_seconds:.1f} s, total {report.seconds:.1f} s"
        )
