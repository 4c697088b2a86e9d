"""One English word with two meanings is two entries of the catalogue: "Back" on the body map is
the back of the body (Spanish "Espalda"), on a step's button it is going back ("Atrás"). The
words of the body map are told apart from the same words used elsewhere by a context
(pgettext, `{% translate … context … %}`)."""

from __future__ import annotations

from pathlib import Path

import polib  # type: ignore[import-untyped]  # no stubs published
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from django.utils.translation import pgettext

from intake import scoring
from tests.test_catalogue import IGNORED, ROOT

# Where the words of the body map come from: its drawing, and its areas and regions.
BODY_MAP_SOURCES = {"templates/intake/_body_map.html", "intake/scoring.py"}
AREA_WORDS = {area.label for area in scoring.WPI_AREAS} | {r.label for r in scoring.REGIONS}


def _fresh_catalogue(tmp_path: Path, monkeypatch: object) -> polib.POFile:
    scratch = tmp_path / "project"
    scratch.mkdir()
    for entry in ROOT.iterdir():
        if entry.is_dir() and entry.name not in {"locale", ".git", *IGNORED}:
            (scratch / entry.name).symlink_to(entry)
    monkeypatch.chdir(scratch)  # type: ignore[attr-defined]  # pytest's MonkeyPatch
    with override_settings(LOCALE_PATHS=[scratch / "locale"]):
        call_command(
            "makemessages", locale=["es"], ignore_patterns=IGNORED, symlinks=True, verbosity=0
        )
    return polib.pofile(str(scratch / "locale/es/LC_MESSAGES/django.po"))


def test_no_word_of_the_body_map_is_shared_with_the_rest_of_the_interface_without_a_context(
    tmp_path: Path, monkeypatch: object
) -> None:
    shared = []
    for entry in _fresh_catalogue(tmp_path, monkeypatch):
        if entry.msgctxt:
            continue
        files = {path for path, _line in entry.occurrences}
        on_the_map = "templates/intake/_body_map.html" in files or entry.msgid in AREA_WORDS
        if on_the_map and files - BODY_MAP_SOURCES:
            shared.append((entry.msgid, sorted(files)))

    assert shared == []


def test_back_is_the_back_of_the_body_on_the_map_and_going_back_on_the_button() -> None:
    with translation.override("es"):
        assert pgettext("body map", "Back") == "Espalda"
        assert pgettext("previous step", "Back") == "Atrás"
