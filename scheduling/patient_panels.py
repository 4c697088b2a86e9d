"""Sections of the patient page contributed by the apps above scheduling.

The patient page is where each capability shows what it knows about the patient
(docs/roles/front-desk.md#the-patient-page). Scheduling cannot import the apps above it
(billing, paperwork, …), so each registers a panel here from its `AppConfig.ready`: a template
and a function that returns that template's context for one patient and the reader's role, or
None when the role may not see the panel. The page renders the panels in `order`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from accounts.requests import AuthenticatedRequest

PanelContext = Callable[["AuthenticatedRequest", "User"], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: PanelContext
    order: int = 100


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    """Called from an app's `ready`; registering a name again replaces it."""
    _panels[panel.name] = panel


def panels_for(request: AuthenticatedRequest, patient: User) -> list[tuple[Panel, dict[str, Any]]]:
    """The panels this reader may see, with their contexts, in page order."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        context = panel.context(request, patient)
        if context is not None:
            shown.append((panel, context))
    return shown
