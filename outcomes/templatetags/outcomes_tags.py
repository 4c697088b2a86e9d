from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(share: float | None) -> str:
    """A share of 0-1 as a percentage with one decimal; no figure is a dash, not 0 %."""
    if share is None:
        return "—"
    return f"{share * 100:.1f}%"
