"""Every `type: ignore` in the project's own code says why, on its line
(docs/operations.md#checks-ci-runs).

mypy's `ignore-without-code` makes each one name the error it silences; this makes each one
also give the reason, so that the next engineer can tell a stub's gap from a real bug left in.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".venv", "node_modules", "static", "staticfiles", ".local", ".git"}
# "# type: ignore[code]  # the reason", or a reason in brackets after the code.
IGNORE = re.compile(r"type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)")


def _python_files() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED.intersection(path.relative_to(ROOT).parts)
    ]


def unexplained_ignores(source: str) -> list[int]:
    """The lines whose `type: ignore` comment names no code or gives no reason after it."""
    lines = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = IGNORE.search(token.string)
        if match is None:
            continue
        reason = match["rest"].strip().lstrip("#").strip(" ()")
        if not match["codes"] or not reason:
            lines.append(token.start[0])
    return lines


def test_the_check_tells_an_explained_ignore_from_a_bare_one():
    source = (
        "a = 1  # type: ignore[assignment]  # the stub types it as str\n"
        "b = 2  # type: ignore[assignment]\n"
        "c = 3  # type: ignore\n"
        "d = 4  # type: ignore[misc] (django-stubs' generic)\n"
        "e = '# type: ignore[misc]'\n"
    )
    assert unexplained_ignores(source) == [2, 3]


def test_every_type_ignore_in_the_project_says_why():
    bare = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files()
        for line in unexplained_ignores(path.read_text(encoding="utf-8"))
    ]
    assert not bare, "a `type: ignore` with no reason on its line:\n" + "\n".join(bare)
