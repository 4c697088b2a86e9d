"""Keep the start-up heap out of the garbage collector's full passes.

A web worker holds some hundred thousand objects that live as long as it does: Django, the apps,
their models, the URL patterns. CPython's full collection walks all of them each time it runs,
about 55 ms on this machine, and a request that allocates as the planner does (thousands of rows
at a busy clinic) sets one off every few dozen requests: the planner's p95 was 63 ms at a p50 of
19 ms (`python -m bench.planner`), its slow tail made only of those passes. `gc.freeze()` moves
what exists at start-up into a generation the collector never walks, so a full pass looks at the
requests' own objects only (about 1.5 ms). Nothing is cached and nothing kept alive that would
not be: frozen objects are still freed by reference counting; only cycles among them wait for the
process to end, and start-up objects are not thrown away before then.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver


def freeze_startup_heap() -> None:
    """Load what every request needs (the URL patterns and the views they import), then take
    everything alive out of the collector's passes. Called once per process, after setup."""
    get_resolver().url_patterns  # noqa: B018  # imports every app's urls and views
    gc.collect()  # free start-up garbage first rather than freeze it
    gc.freeze()
