"""The documentation is in the repository, and every citation of it leads somewhere.

A comment that cites a file outside the repository, or an issue number, points nowhere for the
next maintainer; a citation of a docs/ page that was renamed, or of a heading that was reworded,
points nowhere either. These tests read the project's own files (not .venv, node_modules,
vendored static files, generated data, or docs/_incoming/, where notes wait to be merged into
the pages) and need no database.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
INCOMING = DOCS / "_incoming"
README_MAX_LINES = 200

SKIPPED_DIRS = {
    ".git",
    ".venv",
    "node_modules",
    ".local",
    "staticfiles",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    ".import_linter_cache",
    ".grimp_cache",
    "artifacts",
}
SKIPPED_PATHS = {ROOT / "static" / "vendor", ROOT / "bench" / "results", INCOMING}
TEXT_SUFFIXES = {
    ".py", ".html", ".txt", ".md", ".toml", ".yml", ".yaml", ".cfg", ".ini", ".js", ".css",
    ".sh", ".po", ".ics", ".sql",
}  # fmt: skip
TEXT_NAMES = {"Makefile", "Dockerfile", "run", ".gitignore", ".dockerignore"}
# This file names what it looks for.
THIS_FILE = Path(__file__).resolve()

# Spelled in pieces so that the patterns do not describe themselves.
OUTSIDE = re.compile("PRODUCT" + r"\.md|\.\./" + "shared")
ISSUE = re.compile(r"\bissues?\s+#?\d+", re.IGNORECASE)
DOC_CITATION = re.compile(r"(?<![\w./-])docs/((?:[\w-]+/)*[\w.-]+\.md)(?:#([\w-]+))?")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+?\.md)(?:#([\w-]+))?\)")


def project_files() -> list[Path]:
    found: list[Path] = []
    for directory, subdirectories, names in os.walk(ROOT):
        here = Path(directory)
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if name not in SKIPPED_DIRS and here / name not in SKIPPED_PATHS
        )
        found.extend(
            here / name
            for name in sorted(names)
            if (Path(name).suffix in TEXT_SUFFIXES or name in TEXT_NAMES)
            and here / name != THIS_FILE
        )
    return found


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its words
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in a Markdown page (a repeated heading gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    result: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not match:
            continue
        slug = github_slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def where(path: Path, number: int) -> str:
    return f"{path.relative_to(ROOT)}:{number}"


def test_no_file_cites_the_specification_outside_the_repository() -> None:
    found = [
        f"{where(path, number)}: {line.strip()}"
        for path in project_files()
        for number, line in enumerate(lines_of(path), start=1)
        if OUTSIDE.search(line)
    ]
    assert found == [], "cite a docs/ page instead:\n" + "\n".join(found)


def test_no_file_cites_an_issue_number() -> None:
    found = [
        f"{where(path, number)}: {line.strip()}"
        for path in project_files()
        for number, line in enumerate(lines_of(path), start=1)
        if ISSUE.search(line)
    ]
    assert found == [], "say the rule, or cite a docs/ page:\n" + "\n".join(found)


def citations() -> list[tuple[str, Path, str | None]]:
    """(where, the page cited, its anchor) for every docs/ citation and every Markdown link."""
    result: list[tuple[str, Path, str | None]] = []
    for path in project_files():
        for number, line in enumerate(lines_of(path), start=1):
            for match in DOC_CITATION.finditer(line):
                result.append((where(path, number), DOCS / match.group(1), match.group(2)))
            if path.suffix != ".md":
                continue
            for match in MARKDOWN_LINK.finditer(line):
                target = match.group(1)
                if "://" in target or target.startswith("docs/"):
                    continue  # another site; or a docs/ citation, checked above
                page = (path.parent / target).resolve()
                result.append((where(path, number), page, match.group(2)))
    return result


def test_every_citation_of_the_docs_names_a_page_and_a_heading_in_it() -> None:
    dangling = []
    for place, page, anchor in citations():
        if not page.is_file():
            dangling.append(f"{place}: no page {page.relative_to(ROOT)}")
        elif anchor is not None and anchor not in anchors(page):
            dangling.append(f"{place}: no heading #{anchor} in {page.relative_to(ROOT)}")
    assert dangling == [], "\n".join(dangling)


def test_the_readme_is_short() -> None:
    count = len(lines_of(ROOT / "README.md"))
    assert count <= README_MAX_LINES, f"README.md has {count} lines; move detail into docs/"


def test_every_docs_page_is_listed_in_the_docs_index() -> None:
    index = DOCS / "README.md"
    assert index.is_file(), "docs/README.md, the index of the docs, is missing"
    linked = {
        (DOCS / match.group(1)).resolve() for match in MARKDOWN_LINK.finditer(index.read_text())
    }
    pages = {
        page.resolve()
        for page in DOCS.rglob("*.md")
        if page != index and not page.is_relative_to(INCOMING)
    }
    assert sorted(str(p.relative_to(ROOT)) for p in pages - linked) == []


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Reminders", "reminders"),
        ("No PHI in logs, URLs or SMS", "no-phi-in-logs-urls-or-sms"),
        ("The lock order (`scheduling/services.py`)", "the-lock-order-schedulingservicespy"),
        ("Sign-in & lockout", "sign-in--lockout"),
        ("Spacing: 2-7 days", "spacing-2-7-days"),
    ],
)
def test_anchors_are_slugged_as_github_slugs_them(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug
