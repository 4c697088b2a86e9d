"""The hooks scheduling calls for what follows a change: the messages it plans, and the money.

A booking, move, cancellation, confirmation or offer writes the patient's messages to the
outbox in its own transaction (docs/architecture.md#signal-wiring). Planning and composing them
is the messaging app's, which sits above scheduling: messaging registers its planner here at
start-up (`MessagingConfig.ready`), and the services call it by name, in the same transaction,
as they called it before. A call before any registration is a configuration error, never a
silent skip: a booking without its reminders is worse than no booking.

Billing, above scheduling too, registers the second hook (`BillingConfig.ready`): a booking
keeps the policy it accepted, a late cancellation or a no-show is charged its fee after the
grace period, a completed session is paid (docs/payments.md#how-money-flows). Charting, which
completes a session, calls it through here as well.
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


# --- What follows a change of a series' scope (its paperwork) -------------------------------------


class SeriesObserver(Protocol):
    """Told, in the change's transaction, that a series was booked or that its sessions were
    added, moved or cancelled: the paperwork app issues or reissues its Good Faith Estimate
    (docs/paperwork.md#when-an-estimate-is-issued)."""

    def on_series_changed(self, series: Series) -> object: ...


_series_observers: list[SeriesObserver] = []


def register_series_observer(observer: SeriesObserver) -> None:
    """Called from an app's `ready`; registering the same observer again is a no-op."""
    if observer not in _series_observers:
        _series_observers.append(observer)


def series_changed(*series: Series) -> None:
    """Tell every observer about each distinct series (none registered: nothing follows)."""
    seen: set[int] = set()
    for one in series:
        if one.pk in seen:
            continue
        seen.add(one.pk)
        for observer in _series_observers:
            observer.on_series_changed(one)


class BillingHook(Protocol):
    """What follows a change for the money, in the change's transaction (rows only: the card is
    charged later by the payments worker)."""

    def on_series_booked(self, series: Series) -> None: ...

    def on_sessions_cancelled(self, sessions: list[Session]) -> None: ...

    def on_no_show(self, session: Session) -> None: ...

    def on_session_completed(self, session: Session) -> None: ...

    def on_visit_booked(self, visit: Visit) -> None: ...

    def on_visit_cancelled(self, visit: Visit) -> None: ...

    def on_visit_outcome(self, visit: Visit) -> None:
        """The visit was held (charged) or missed (its fee)."""
        ...

    def payment_first(self, location_id: int, patient: Any) -> bool:
        """Whether an online booking at the location waits for a deposit or a package."""
        ...

    def confirmation_blocker(self, series: Series) -> str:
        """Why the desk may not confirm this online series yet (its deposit unpaid), or ""."""
        ...

    def booking_terms(self, location_id: int, patient: Any) -> str:
        """The price and cancellation policy a booking at the location accepts, in the
        patient's language: shown before "Book", and kept with the booking."""
        ...


_billing: BillingHook | None = None


def register_billing_hook(hook: BillingHook) -> None:
    """Called once from BillingConfig.ready; the last registration wins."""
    global _billing
    _billing = hook


def billing() -> BillingHook:
    """The registered billing hook; ImproperlyConfigured when billing is not installed."""
    if _billing is None:
        raise ImproperlyConfigured(
            "No billing hook is registered: add the billing app to INSTALLED_APPS."
        )
    return _billing
