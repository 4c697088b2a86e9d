"""The FHIR ids of locations and chairs (`PlaceKey`), made the first time the API names them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from fhir.models import PlaceKey


@dataclass
class Places:
    """Keys by location id and by chair id, for the resources of one response."""

    locations: dict[int, uuid.UUID] = field(default_factory=dict)
    chairs: dict[int, uuid.UUID] = field(default_factory=dict)


def keys_for(location_ids: Iterable[int], chair_ids: Iterable[int]) -> Places:
    """One query for the keys there are; two more, once, for places the API never named."""
    wanted_locations, wanted_chairs = set(location_ids), set(chair_ids)
    places = Places()
    if not wanted_locations and not wanted_chairs:
        return places
    condition = Q(location_id__in=wanted_locations) | Q(chair_id__in=wanted_chairs)

    def read() -> None:
        for key in PlaceKey.objects.filter(condition):
            if key.location_id is not None:
                places.locations[key.location_id] = key.public_id
            elif key.chair_id is not None:
                places.chairs[key.chair_id] = key.public_id

    read()
    missing = [PlaceKey(location_id=pk) for pk in wanted_locations - places.locations.keys()]
    missing += [PlaceKey(chair_id=pk) for pk in wanted_chairs - places.chairs.keys()]
    if missing:
        # Another request may make the same keys at the same moment: the unique location and
        # chair columns keep one, and reading again returns the one that was kept.
        PlaceKey.objects.bulk_create(missing, ignore_conflicts=True)
        read()
    return places
