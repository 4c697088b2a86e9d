"""The multi-node proof, small (docs/operations.md#the-multi-node-proof): two web nodes behind
nginx, two workers on separate queues and beat; a web node and the messages worker are
SIGKILLed halfway through the reminders."""

from __future__ import annotations

import pytest

from bench.multinode import run
from tests.conftest import _test_database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_killing_a_web_node_and_a_worker_loses_no_reminder_and_no_session(
    settings, tmp_path, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", _test_database_url())
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")
    tmp_path.chmod(0o755)

    figures = run(tmp_path, reminders=200, patients=2, secret_key=settings.SECRET_KEY, timeout=240)

    assert figures["signed_in"] == 2
    assert figures["bookings"] == 2
    # Only the requests in flight at the kill may have failed.
    assert figures["server_errors"] <= figures["in_flight_at_kill"]
    assert figures["connection_errors"] == []
    assert figures["reminders_lost"] == 0
    assert figures["reminders_doubled"] <= figures["reminders_sending_at_kill"]
    assert figures["sessions_kept"] == 2
    assert figures["sessions_lost"] == 0
