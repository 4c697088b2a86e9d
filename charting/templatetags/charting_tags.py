from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def later_than(charted: dt.datetime | None, happened: dt.datetime | None) -> bool:
    """Charted a minute or more after it happened: late charting is shown as such."""
    if charted is None or happened is None:
        return False
    return charted - happened >= dt.timedelta(minutes=1)
