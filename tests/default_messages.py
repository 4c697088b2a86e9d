"""Django's own message texts, found by reading Django, so a test can tell when one reaches a
page: the intake and review speak to people in their own words
(docs/product-rules.md#intake)."""

from __future__ import annotations

import functools
import html
import inspect
import re

from django import forms
from django.core import validators
from django.forms import formsets


def _static_part(message: object) -> str:
    """The text of a message before its first placeholder: what always shows."""
    return re.split(r"%\(|%[sd]|\{", str(message))[0].strip()


@functools.cache
def django_default_messages() -> tuple[str, ...]:
    found: set[str] = set()
    for module in (forms.fields, forms.models):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            for klass in cls.__mro__:
                for message in getattr(klass, "default_error_messages", {}).values():
                    found.add(_static_part(message))
    for _name, cls in inspect.getmembers(validators, inspect.isclass):
        message = getattr(cls, "message", None)
        if message:
            found.add(_static_part(message))
    for message in formsets.BaseFormSet.default_error_messages.values():
        found.add(_static_part(message))
    found |= {"Enter a valid", "Ensure this value", "Ensure that there are no more than"}
    return tuple(sorted(text for text in found if len(text) >= 12))


def assert_in_peoples_words(page: str, where: str = "") -> None:
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    text = " ".join(text.split())
    reached = [message for message in django_default_messages() if message in text]
    assert not reached, f"Django's default wording on the page {where}: {reached}"
