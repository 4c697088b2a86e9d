"""Finds English left on a page or in a message rendered in Spanish (docs/languages.md).

Two checks, so that a string nobody marked for translation is caught as well as one marked and
not translated:
- a text node with a run of two or more common English words;
- a text node with a word of three letters or more that is identical in the English and the
  Spanish rendering of the same page.
Text the patient typed, people's and places' names, and the few words that are the same in both
languages ("988", "PHQ-9", "JPEG") are allowed; so is anything inside an element marked
`lang="en"` (the language switch's "English").
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Common English words that are not also Spanish words ("a", "no", "he", "me", "son" are both).
ENGLISH_WORDS = frozenset(
    [
        "the",
        "and",
        "you",
        "your",
        "yours",
        "to",
        "of",
        "for",
        "is",
        "are",
        "this",
        "that",
        "with",
        "will",
        "be",
        "not",
        "we",
        "our",
        "it",
        "its",
        "at",
        "or",
        "have",
        "can",
        "please",
        "from",
        "by",
        "as",
        "if",
        "do",
        "does",
        "did",
        "all",
        "what",
        "when",
        "was",
        "were",
        "has",
        "been",
        "there",
        "here",
        "which",
        "who",
        "would",
        "should",
        "could",
        "about",
        "after",
        "before",
        "into",
        "than",
        "then",
        "them",
        "they",
        "their",
        "these",
        "those",
        "more",
        "most",
        "some",
        "any",
        "only",
        "also",
        "just",
        "how",
        "why",
        "where",
        "while",
        "because",
        "being",
        "must",
        "may",
        "might",
        "very",
        "each",
        "every",
        "other",
        "such",
        "own",
        "same",
        "so",
        "too",
        "again",
        "once",
        "out",
        "up",
        "down",
        "over",
        "under",
        "off",
        "on",
        "in",
        "an",
        "my",
        "i",
        "us",
        "him",
        "her",
        "his",
        "she",
        "they're",
        "you're",
        "don't",
        "can't",
        "won't",
        "isn't",
        "it's",
        "we'll",
        "you'll",
        "back",
        "sign",
        "email",
        "password",
        "appointment",
        "appointments",
        "treatment",
        "questionnaire",
        "answer",
        "answers",
        "yes",
        "next",
        "continue",
        "save",
        "submit",
        "cancel",
        "confirm",
        "change",
        "review",
        "step",
        "steps",
        "page",
        "link",
        "home",
        "care",
        "progress",
        "clinic",
        "reminder",
    ]
)

# Words and figures the same in both languages, and codes of instruments and file types.
ALLOWED = frozenset(
    [
        "988",
        "911",
        "phq-9",
        "gad-7",
        "peg",
        "pdf",
        "png",
        "jpeg",
        "jpg",
        "zip",
        "mmhg",
        "cpap",
        "ics",
        "est",
        "edt",
        "pst",
        "pdt",
        "utc",
        "am",
        "pm",
        "español",
        "english",
        "kg",
        "lb",
        "cm",
        "ft",
        "in",
        "mb",
        "sms",
        "stop",
        "help",
        "c",
        "r",
    ]
)

TOKEN = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ'’-]+|\d+")


class _Text(HTMLParser):
    """Visible text nodes and the attributes people hear or see, outside lang="en"."""

    SKIP = {"script", "style", "template"}
    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "col"}
    SPOKEN = ("aria-label", "title", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, inside English or skipped)

    def _hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = (
            self._hidden()
            or tag in self.SKIP
            or (values.get("lang") == "en" and tag != "html")
            or "data-patient-typed" in values
        )
        if not hidden:
            self.nodes.extend(str(values[name]) for name in self.SPOKEN if values.get(name))
            if (
                tag == "input"
                and values.get("type") in ("submit", "button")
                and values.get("value")
            ):
                self.nodes.append(str(values["value"]))
        if tag not in self.VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.nodes.append(" ".join(data.split()))


def text_nodes(content: str, *, html: bool = True) -> list[str]:
    if not html:
        return [" ".join(line.split()) for line in content.splitlines() if line.strip()]
    parser = _Text()
    parser.feed(content)
    return parser.nodes


# Phrases the same in both languages: instrument names, file types.
SAME_PHRASES = frozenset({"PHQ-9", "GAD-7", "PEG", "Abdomen", "(.ics)", "ID"})


def _words(node: str, allowed_phrases: frozenset[str]) -> list[str]:
    for phrase in sorted(allowed_phrases | SAME_PHRASES, key=len, reverse=True):
        if phrase and phrase in node:
            node = node.replace(phrase, " ")
    node = re.sub(r"https?://\S+|\S+@\S+", " ", node)  # links and addresses
    return [w for w in TOKEN.findall(node) if re.search(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ]", w)]


def english_runs(node: str, allowed_phrases: frozenset[str]) -> list[str]:
    """Runs of two or more common English words in one text node."""
    runs, current = [], []
    for word in _words(node, allowed_phrases):
        if word.casefold() in ENGLISH_WORDS:
            current.append(word)
            continue
        if len(current) >= 2:
            runs.append(" ".join(current))
        current = []
    if len(current) >= 2:
        runs.append(" ".join(current))
    return runs


def untranslated(
    spanish: list[str], english: list[str], allowed_phrases: frozenset[str]
) -> list[str]:
    """Text nodes with words that read the same in the English rendering."""
    same = set(spanish) & set(english)
    left = []
    for node in sorted(same):
        words = [
            w for w in _words(node, allowed_phrases) if len(w) >= 3 and w.casefold() not in ALLOWED
        ]
        if words:
            left.append(node)
    return left


def leftovers(
    spanish: str, english: str, allowed_phrases: frozenset[str], *, html: bool = True
) -> list[str]:
    """Everything in the Spanish rendering that is still English, by both checks."""
    es_nodes, en_nodes = text_nodes(spanish, html=html), text_nodes(english, html=html)
    found = [run for node in es_nodes for run in english_runs(node, allowed_phrases)]
    found += untranslated(es_nodes, en_nodes, allowed_phrases)
    return sorted(set(found))
