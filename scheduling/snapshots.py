"""Schedule versions, and what is built from a location's schedule cached under them.

The front desk's day and week grids and the outcomes dashboard are read far more often than a
location's schedule changes, and at a busy location each costs tens of milliseconds to build.
Every location has a version number in Redis, shared by every process; whatever changes what
those pages show (a session, chair, shift, opening hours, closure, the location, a person's name)
bumps it. A built page part is cached under the version it was built from, so it is used only
while nothing it shows has changed.

Ordering makes this safe without locks:
- a reader takes the version *before* it reads the database, so what it caches is never older
  than the version in its key;
- a writer bumps at once (so readers inside its own transaction, and tests, which never commit,
  get a new key) and again after commit (so anything built from the uncommitted-before state
  under the first bump is superseded).

Built parts stay in each process's own memory (the "pages" cache, bounded, a few minutes at
most): they can hold patient names, which stay out of Redis. When Redis cannot be reached, pages
are built fresh every time rather than risk a stale one. A missing version (Redis emptied) starts
again from the current time in nanoseconds, never from a value used before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache, caches
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

PAGES = "pages"


def _key(location_id: int) -> str:
    return f"schedule-version:{location_id}"


def version(location_id: int) -> int | None:
    """The location's current schedule version, or None when Redis is unreachable."""
    key = _key(location_id)
    try:
        found = cache.get(key)
        if found is None:
            cache.add(key, time.time_ns(), timeout=None)
            found = cache.get(key)
    except RedisError:
        logger.warning("schedule version unavailable; building pages uncached")
        return None
    return found


def _bump(location_ids: frozenset[int]) -> None:
    for location_id in location_ids:
        key = _key(location_id)
        try:
            try:
                cache.incr(key)
            except ValueError:  # missing: a fresh start can never repeat an old value
                cache.add(key, time.time_ns(), timeout=None)
        except RedisError:
            # Readers cannot reach Redis either, so they build uncached; the pages cache's
            # time-out bounds anything older.
            logger.warning("schedule version not bumped; Redis unreachable")


def changed(location_ids: Iterable[int | None]) -> None:
    """Record that what these locations' schedule pages show has changed."""
    ids = frozenset(pk for pk in location_ids if pk is not None)
    if not ids:
        return
    _bump(ids)
    transaction.on_commit(lambda: _bump(ids))


def changed_everywhere() -> None:
    """For changes every location may show (a person's name)."""
    from locations.models import Location

    changed(Location.objects.values_list("pk", flat=True))


def cached(location_id: int, part: str, build: Callable[[], T]) -> T:
    """`build()`'s result for this location's current schedule, built at most once per version
    in each process. `part` names what is built and for which day or week."""
    current = version(location_id)
    if current is None:
        return build()
    key = f"{part}:{location_id}:{current}"
    store = caches[PAGES]
    found = store.get(key)
    if found is None:
        found = build()
        store.set(key, found)
    return found


def _part_changed(sender: type, instance: Any, **kwargs: object) -> None:
    changed([instance.location_id])


def _location_saved(sender: type, instance: Any, **kwargs: object) -> None:
    changed([instance.pk])


def _person_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if kwargs.get("created") or (fields is not None and not {"first_name", "last_name"} & fields):
        return  # a new person is on no schedule yet; logins and password changes show nowhere
    changed_everywhere()


def connect() -> None:
    """Listen to every model the schedule pages show (called from SchedulingConfig.ready).
    Bulk updates of sessions are covered by SessionQuerySet.update."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    from locations.models import Chair, Closure, Location, NurseShift, OpeningHours
    from scheduling.models import Session

    for model in (Session, Chair, Closure, NurseShift, OpeningHours):
        post_save.connect(_part_changed, sender=model, dispatch_uid=f"snapshots-{model}")
        post_delete.connect(_part_changed, sender=model, dispatch_uid=f"snapshots-d-{model}")
    post_save.connect(_location_saved, sender=Location, dispatch_uid="snapshots-location")
    post_save.connect(_person_saved, sender=get_user_model(), dispatch_uid="snapshots-person")
