"""The one hook scheduling calls for what follows a change: the messages it plans.

A booking, move, cancellation, confirmation or offer writes the patient's messages to the
outbox in its own transaction (docs/architecture.md#signal-wiring). Planning and composing them
is the messaging app's, which sits above scheduling: messaging registers its planner here at
start-up (`MessagingConfig.ready`), and the services call it by name, in the same transaction,
as they called it before. A call before any registration is a configuration error, never a
silent skip: a booking without its reminders is worse than no booking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from scheduling.models import Series, Session, Visit


class MessagePlanner(Protocol):
    """What scheduling's services tell the messages after a change, in its transaction; each
    returns the number of outbox rows written."""

    def on_series_booked(self, series: Series) -> int: ...

    def on_sessions_added(self, series: Series, sessions: list[Session]) -> int: ...

    def on_sessions_moved(self, sessions: list[Session]) -> int: ...

    def on_sessions_cancelled(self, sessions: list[Session]) -> int: ...

    def on_series_confirmed(self, series: Series) -> int: ...

    def on_series_declined(self, series: Series, sessions: list[Session]) -> int: ...

    def on_slot_offered(self, hold: Any, session: Session) -> int: ...

    def on_visit_booked(self, visit: Visit) -> int: ...

    def on_visit_moved(self, visit: Visit) -> int: ...

    def on_visit_cancelled(self, visit: Visit) -> int: ...


_planner: MessagePlanner | None = None


def register_message_planner(planner: MessagePlanner) -> None:
    """Called once from MessagingConfig.ready; the last registration wins."""
    global _planner
    _planner = planner


def messages() -> MessagePlanner:
    """The registered planner; ImproperlyConfigured when messaging is not installed."""
    if _planner is None:
        raise ImproperlyConfigured(
            "No message planner is registered: add the messaging app to INSTALLED_APPS."
        )
    return _planner
