"""Who is told when billing records a charge: the apps above billing that compare a bill with
what the patient was told (docs/architecture.md#signal-wiring).

The paperwork app, which sits above billing, registers its observer at start-up
(`PaperworkConfig.ready`): it adds up what was billed for the series (or the patient) and flags
a bill that reaches the Good Faith Estimate plus $400 (docs/paperwork.md#bills-above-the-estimate).
Observers run in the charge's transaction, write rows only, and never talk to the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from billing.models import Charge


class ChargeObserver(Protocol):
    def on_charge_recorded(self, charge: Charge) -> object: ...


_charge_observers: list[ChargeObserver] = []


def register_charge_observer(observer: ChargeObserver) -> None:
    """Called once from an AppConfig.ready; registering the same observer twice keeps one."""
    if observer not in _charge_observers:
        _charge_observers.append(observer)


def charge_recorded(charge: Charge) -> None:
    """A charge's amount was written to the ledger (an appointment, a fee, a deposit)."""
    for observer in _charge_observers:
        observer.on_charge_recorded(charge)
