"""Write one patient's Patient/$everything Bundle to a file: a hand-over to another clinic or an
answer to a patient's request for their record, without an integration client."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit.models import AuditEvent
from fhir import mapping as r
from fhir import queries


class Command(BaseCommand):
    help = "Write a patient's $everything Bundle (FHIR R4 JSON) to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("patient", help="The patient's public id (a UUID).")
        parser.add_argument("file", type=Path, help="Where to write the Bundle.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            public_id = uuid.UUID(options["patient"])
        except ValueError:
            raise CommandError(f"{options['patient']!r} is not a patient id (a UUID).") from None
        page = queries.everything(public_id, lambda resource_type: True)
        if page is None:
            raise CommandError("No patient has this id.")
        bundle = r.bundle(
            [(entry.resource, entry.mode) for entry in page.entries],
            page.total,
            [("self", f"{r.base_url()}/Patient/{public_id}/$everything")],
            timezone.now(),
        )
        path: Path = options["file"]
        path.write_text(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n")
        patient = page.entries[0].patient
        # Exported from the command line: no signed-in actor, so the detail says how.
        AuditEvent.objects.create(
            actor=None,
            actor_role="command",
            action=AuditEvent.Action.READ,
            record_type="fhir.Bundle",
            record_id=str(public_id),
            patient_id=patient.pk if patient else None,
            detail=f"manage.py fhir_everything: {len(page.entries)} resources written to a file",
        )
        self.stdout.write(f"Wrote {len(page.entries)} resources to {path}.")
