"""`make run`: the demo locations get the fictional price list (billing.demo), once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from billing import demo
from locations.models import Location


class Command(BaseCommand):
    help = "Give every location without prices the demo price list."

    def handle(self, *args: object, **options: object) -> None:
        for location in Location.objects.all():
            demo.load(location)
