"""Signals of the appointments' changes, for the apps that must know without scheduling knowing
them (docs/architecture.md#signal-wiring): the Good Faith Estimates, for example.

Each is sent once the change is committed (`transaction.on_commit`), with `sender` the model
class, `instance` the visit (or booster session) and `kind` what happened; a receiver that
fails does not undo the booking (`send_robust`), and it reads the rows again by their key.
"""

from __future__ import annotations

from typing import Any

import django.dispatch
from django.db import transaction

# A visit booked, moved or cancelled: `instance` is the Visit.
visit_booked = django.dispatch.Signal()
visit_moved = django.dispatch.Signal()
visit_cancelled = django.dispatch.Signal()
# A booster infusion booked, moved or cancelled: `instance` is the Session.
booster_booked = django.dispatch.Signal()
booster_moved = django.dispatch.Signal()
booster_cancelled = django.dispatch.Signal()


def send_after_commit(signal: django.dispatch.Signal, instance: Any) -> None:
    """Send `signal` about `instance` once the current transaction commits (at once outside
    one)."""
    transaction.on_commit(lambda: signal.send_robust(sender=type(instance), instance=instance))
