"""The web worker takes its start-up heap out of the collector's full passes (clinic/heap.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wsgi_application_freezes_what_it_loaded_at_start() -> None:
    # In a fresh interpreter, as gunicorn imports it: the URL patterns are loaded and every
    # object alive then is frozen; the collector's generations are left with almost nothing.
    probe = (
        "import gc, sys; import clinic.wsgi; "
        "sys.stdout.write(f'{gc.get_freeze_count()} {sum(gc.get_count())} '); "
        "sys.stdout.write(str('django.contrib.admin.sites' in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    frozen, young, urls_loaded = result.stdout.split()
    assert int(frozen) > 50_000
    assert int(young) < 1_000
    assert urls_loaded == "True"
