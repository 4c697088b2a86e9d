"""Each location's pages version, and page parts cached under it.

The front desk's day and week grids, the review queue, the intake summary and the outcomes
dashboard are read far more often than what they show changes, and at a busy location each costs
tens of milliseconds to build. Every location has a version number in Redis, shared by every
process; whatever changes what those pages show bumps it (`connect` lists them: sessions, chairs,
shifts, opening hours, closures, locations, submitted intakes, urgent flags, a person's name or
email, a patient's phone, a clinician's locations, protocol templates). A built part is cached
under the version it was built from, so it is used only while nothing it shows has changed.
Version 0 stands for the whole network (the queue of all locations) and moves with every
location's.

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


# A scope is a location's id, NETWORK (0) for all of them, or a name for something shown at
# every location that changes on its own (the protocols behind the decision forms).
Scope = int | str
NETWORK = 0
PROTOCOLS = "protocols"


def _key(scope: Scope) -> str:
    return f"pages-version:{scope}"


def version(scope: Scope) -> int | None:
    """The scope's current version, or None when Redis is unreachable."""
    found = versions([scope])
    return found[0] if found else None


def versions(scopes: list[Scope]) -> list[int] | None:
    """The scopes' current versions in one round trip, or None when Redis is unreachable."""
    keys = [_key(scope) for scope in scopes]
    try:
        found = cache.get_many(keys)
        for key in keys:
            if key not in found:
                cache.add(key, time.time_ns(), timeout=None)
                found[key] = cache.get(key)
    except RedisError:
        logger.warning("pages version unavailable; building pages uncached")
        return None
    return [found[key] for key in keys]


def _bump(scopes: frozenset[Scope]) -> None:
    """Move every scope's version in one round trip. A missing version (Redis emptied) is first
    set from the clock, so a fresh start never repeats a value used before."""
    keys = [cache.make_and_validate_key(_key(scope)) for scope in scopes]
    try:
        # Django's Redis cache has no pipelines: its client is used directly, with its keys
        # (integers are stored as plain numbers, which INCR needs and cache.get reads back).
        client = cache._cache.get_client(keys[0], write=True)  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        now = time.time_ns()
        for key in keys:
            pipe.set(key, now, nx=True)
            pipe.incr(key)
        pipe.execute()
    except RedisError:
        # Readers cannot reach Redis either, so they build uncached; the pages cache's time-out
        # bounds anything older.
        logger.warning("pages version not bumped; Redis unreachable")


def changed(location_ids: Iterable[int | None], *also: Scope) -> None:
    """Record that what these locations' pages show (and the other scopes) has changed."""
    scopes = frozenset(pk for pk in location_ids if pk is not None) | {NETWORK, *also}
    _bump(scopes)
    transaction.on_commit(lambda: _bump(scopes))


def changed_everywhere(*also: Scope) -> None:
    """For changes every location may show (a person's name)."""
    from locations.models import Location

    changed(Location.objects.values_list("pk", flat=True), *also)


def cached(scope: Scope | tuple[Scope, ...], part: str, build: Callable[[], T]) -> T:
    """`build()`'s result for the current version of the scope (a location, NETWORK for all of
    them; several scopes when the part shows what each covers), built at most once per version
    in each process. `part` names what is built, for what and whom."""
    scopes = list(scope) if isinstance(scope, tuple) else [scope]
    current = versions(scopes)
    if current is None:
        return build()
    return kept(
        ":".join([part, *(f"{s}={v}" for s, v in zip(scopes, current, strict=True))]), build
    )


def kept(part: str, build: Callable[[], T]) -> T:
    """`build()`'s result kept under `part` in this process's memory for the pages cache's
    time-out, without a version: for what never changes once built (a submitted intake version),
    and for `cached`, whose keys carry the versions."""
    store = caches[PAGES]
    found = store.get(part)
    if found is None:
        found = build()
        store.set(part, found)
    return found


def _part_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    changed([instance.location_id])


def _location_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    changed_everywhere()  # every location's pages list the others (dashboard, queue filter)


def _intake_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    if instance.status != "draft":  # drafts are on no page cached here
        changed([instance.location_id])


def _person_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    shown = {"first_name", "last_name", "email"}
    if kwargs.get("created") or (fields is not None and not shown & set(fields)):
        return  # a new person is on no page yet; logins and password changes show nowhere
    changed_everywhere()


def _protocol_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    changed_everywhere(PROTOCOLS)


def _memberships_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("action", "").startswith("post_"):  # whose urgent notices a clinician sees
        changed_everywhere()


def _profile_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    if not kwargs.get("created"):  # the front desk's queue shows the phone number
        changed_everywhere()


def connect() -> None:
    """Listen to every model the cached pages show (called from LocationsConfig.ready; models
    named, not imported, so this base app depends on none of them). Bulk updates and inserts of
    sessions are covered by SessionQuerySet."""
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_delete, post_save

    def listen(label: str, receiver: Callable[..., None], deletes: bool = True) -> None:
        model = apps.get_model(label)
        post_save.connect(receiver, sender=model, dispatch_uid=f"snapshots-{label}")
        if deletes:
            post_delete.connect(receiver, sender=model, dispatch_uid=f"snapshots-d-{label}")

    for label in (
        "scheduling.Session",
        "locations.Chair",
        "locations.Closure",
        "locations.NurseShift",
        "locations.OpeningHours",
        "intake.UrgentFlag",
    ):
        listen(label, _part_changed)
    listen("locations.Location", _location_saved, deletes=False)
    listen("intake.Intake", _intake_saved)
    listen("accounts.User", _person_saved, deletes=False)
    listen("accounts.PatientProfile", _profile_saved, deletes=False)
    listen("review.ProtocolTemplate", _protocol_saved)
    m2m_changed.connect(
        _memberships_changed,
        sender=apps.get_model("accounts.User").locations.through,
        dispatch_uid="snapshots-memberships",
    )
