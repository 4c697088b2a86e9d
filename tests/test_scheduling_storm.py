"""A storm of the front desk's changes over HTTP on gunicorn: moves, cancellations, waitlist
requests and accepted offers from 12 threads for 60 seconds (docs/architecture.md#the-lock-order).
The answer is never a server error, and every rule the database and the services keep still holds
afterwards."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.db import connection, connections

from accounts.models import Role
from scheduling import services
from scheduling.models import Hold, Session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location
from tests.servers import start_gunicorn
from tests.test_scheduling_concurrency import INVARIANTS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

THREADS = 12
SECONDS = 60
CSRF = "s" * 32  # a CSRF secret sent as cookie and header, as a browser's form would


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post(base: str, cookie: str, path: str, fields: dict[str, str]) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        base + path,
        data=urlencode(fields).encode(),
        headers={
            "Cookie": f"sessionid={cookie}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_twelve_desks_changing_the_schedule_for_a_minute_get_no_server_error(tmp_path, login):
    first = dt.date.today() + dt.timedelta(days=3)
    while first.weekday() != 0:
        first += dt.timedelta(days=1)
    clinic = make_location("storm", chairs=4, nurses=3, capacity=2, shifts_from=first)
    desk = UserFactory.create(role=Role.FRONT_DESK)
    desk.locations.add(clinic)
    booker = UserFactory.create(role=Role.FRONT_DESK)
    for n in range(16):
        plan = approved_plan(f"storm{n}@example.org", clinic, infusions=4, min_days_between=2)
        offsets = [0, 2, 4, 7] if n % 2 == 0 else [1, 3, 7, 9]  # weekdays only
        days = [first + dt.timedelta(days=offset) for offset in offsets]
        times = [dt.time(8 + (n % 8), 0)] * 4
        services.book_series(
            plan,
            clinic,
            [services.Choice(d, t) for d, t in zip(days, times, strict=True)],
            booked_by=booker,
        )
    sessions = [str(s) for s in Session.objects.values_list("public_id", flat=True)]
    cookie = login(desk).cookies["sessionid"].value
    base, stop, kill = start_gunicorn(tmp_path, workers=2, log_level="info")
    statuses: Counter[int] = Counter()
    actions: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def desk_work(index: int) -> None:
        try:
            work(random.Random(index))
        finally:
            connections.close_all()

    def work(local: random.Random) -> None:
        while time.monotonic() < deadline:
            session = local.choice(sessions)
            roll = local.random()
            day = first + dt.timedelta(days=local.randrange(0, 12))
            if roll < 0.5:
                action, path = "move", f"/desk/sessions/{session}/move/"
                fields = {
                    "date": day.isoformat(),
                    "time": f"{local.randrange(8, 16):02d}:{local.choice(['00', '15', '30'])}",
                    **({"and_following": "on"} if local.random() < 0.3 else {}),
                }
            elif roll < 0.65:
                action, path = "cancel", f"/desk/sessions/{session}/cancel/"
                fields = {"reason": "storm", **({"and_following": "on"} if roll < 0.55 else {})}
            elif roll < 0.85:
                action, path = "waitlist", f"/desk/sessions/{session}/waitlist/"
                fields = {
                    "earliest_date": first.isoformat(),
                    "latest_date": (first + dt.timedelta(days=12)).isoformat(),
                    "window_starts": "08:00",
                    "window_ends": "17:00",
                }
            else:
                holds = list(Hold.objects.live().values_list("pk", flat=True)[:5])
                if not holds:
                    continue
                action, path, fields = "accept", f"/desk/offers/{local.choice(holds)}/accept/", {}
            status = _post(base, cookie, path, fields)
            with lock:
                statuses[status] += 1
                actions[action] += 1

    threads = [threading.Thread(target=desk_work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 120)
    logs = stop()
    kill()

    assert sum(statuses.values()) > 100, statuses
    assert {status for status in statuses if status >= 500} == set(), (statuses, logs["error"])
    assert "Traceback" not in logs["error"] + logs["output"]
    assert actions["move"] and actions["cancel"] and actions["waitlist"], actions
    active = ("booked", "confirmed", "checked_in", "in_chair", "completed")
    with connection.cursor() as cursor:
        for name, sql in INVARIANTS.items():
            cursor.execute(sql, {"active": active})
            assert cursor.fetchone()[0] == 0, name
        # A live hold never sits on top of an active session of its chair.
        cursor.execute(
            """SELECT count(*) FROM scheduling_hold h JOIN scheduling_session s
                 ON s.chair_id = h.chair_id AND s.status IN %(active)s
                AND tstzrange(s.starts_at, s.ends_at) && tstzrange(h.starts_at, h.ends_at)
              WHERE h.released_at IS NULL AND h.expires_at > now()""",
            {"active": active},
        )
        assert cursor.fetchone()[0] == 0, "hold over a session"
