"""A session's messages on the desk's series page: what is still to go or went, with the
cancelled and not-sent ones folded behind a count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from notifications.models import Message, MessageStatus
from scheduling import services
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 14, tzinfo=dt.UTC)


def test_messages_cancelled_by_two_moves_fold_behind_their_count(login):
    with time_machine.travel(NOW, tick=False):
        location = make_location(shifts_from=NOW.date())
        plan = approved_plan("moved@example.org", location, infusions=1)
        session = services.book_series(
            plan,
            location,
            [services.Choice(dt.date(2026, 11, 11), dt.time(10))],
            booked_by=UserFactory.create(role=Role.FRONT_DESK),
        ).sessions.get()
        services.move_sessions(session, services.Choice(dt.date(2026, 11, 12), dt.time(10)))
        session.refresh_from_db()
        services.move_sessions(session, services.Choice(dt.date(2026, 11, 13), dt.time(11)))
        desk = login(UserFactory.create(role=Role.FRONT_DESK))
        html = desk.get(reverse("scheduling:series", args=[session.series.public_id])).content
    html = html.decode()

    messages = Message.objects.filter(group=f"session:{session.pk}")
    folded = messages.filter(status__in=[MessageStatus.CANCELLED, MessageStatus.SKIPPED]).count()
    live = messages.count() - folded
    assert folded > 0 and live > 0
    assert f"<summary>Messages ({live})</summary>" in html
    folded_box = re.search(
        r'<details data-testid="folded-messages"><summary>(\d+) cancelled or not sent</summary>'
        r"(.*?)</details>",
        html,
        re.S,
    )
    assert folded_box is not None
    assert int(folded_box.group(1)) == folded
    assert folded_box.group(2).count("<li>") == folded
    assert folded_box.group(2).count("<strong>Cancelled</strong>") > 0
    visible = html.split('data-testid="folded-messages"')[0]
    visible = visible[visible.index('data-testid="session-messages"') :]
    assert visible.count("<li>") == live
    assert "<strong>Cancelled</strong>" not in visible
