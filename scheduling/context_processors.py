from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from accounts.models import Role
from worklist.models import Queue, Task

# The worklist each role works, and its page.
QUEUE_OF_ROLE: dict[str, tuple[str, str]] = {
    Role.FRONT_DESK: (Queue.DESK, "scheduling:desk_tasks"),
    Role.CLINIC_ADMIN: (Queue.DESK, "scheduling:desk_tasks"),
    Role.CLINICIAN: (Queue.CLINICAL, "scheduling:review_tasks"),
}


def worklist(request: HttpRequest) -> dict[str, Any]:
    """ "Tasks" in the menu with the count of open tasks of the role's worklist (one count on a
    partial index, only when a page is rendered)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    found = QUEUE_OF_ROLE.get(str(getattr(user, "role", "")))
    if found is None:
        return {}
    queue, url_name = found
    return {
        "worklist_nav": {
            "url": reverse(url_name),
            "count": lambda: Task.objects.open().in_queue(queue).count(),
        }
    }
