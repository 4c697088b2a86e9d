"""The Spanish catalogue is complete and current (docs/languages.md#catalogue): no entry empty or
fuzzy, every string marked in the code is in it, and its placeholders match (msgfmt --check)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polib  # type: ignore[import-untyped]  # no stubs published
import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po"))
IGNORED = [".venv", "node_modules", "static/vendor", ".local", "tests", "bench"]


def test_there_is_a_spanish_catalogue():
    assert ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_catalogue_has_no_empty_fuzzy_or_obsolete_entry(path):
    catalogue = polib.pofile(str(path))

    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []
    assert [entry.msgid for entry in catalogue.obsolete_entries()] == []
    assert not catalogue.metadata_is_fuzzy
    assert catalogue.metadata["Language"] == path.parts[-3]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_catalogue_compiles_with_matching_placeholders(path, tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "out.mo"), str(path)],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr


def test_every_string_marked_in_the_code_is_in_the_catalogue(tmp_path, monkeypatch):
    """makemessages run afresh finds nothing the committed catalogue lacks.

    It runs in a scratch folder that links to the project's folders (makemessages writes its
    catalogue next to the files it reads, so the committed one is never touched).
    """
    scratch = tmp_path / "project"
    scratch.mkdir()
    for entry in ROOT.iterdir():
        if entry.is_dir() and entry.name not in {"locale", ".git", *IGNORED}:
            (scratch / entry.name).symlink_to(entry)
    monkeypatch.chdir(scratch)
    with override_settings(LOCALE_PATHS=[scratch / "locale"]):
        call_command(
            "makemessages", locale=["es"], ignore_patterns=IGNORED, symlinks=True, verbosity=0
        )
    fresh = {
        entry.msgid for entry in polib.pofile(str(scratch / "locale/es/LC_MESSAGES/django.po"))
    }
    committed = {entry.msgid for entry in polib.pofile(str(CATALOGUES[0]))}

    assert sorted(fresh - committed) == [], "run `make makemessages` and translate the new ones"
