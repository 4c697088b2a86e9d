"""The embedded servers `make run` starts keep what they confirm (clinic/embedded.py)."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from clinic.embedded import EmbeddedPostgres


def _server_settings(directory: Path, profile: str) -> dict[str, str]:
    postgres = EmbeddedPostgres(directory, profile=profile)
    url = postgres.start()
    try:
        socket_dir = url.split("host=", 1)[1]
        connection = psycopg2.connect(dbname="postgres", user="postgres", host=socket_dir)
        try:
            with connection.cursor() as cursor:
                values = {}
                for name in ("fsync", "synchronous_commit", "full_page_writes"):
                    cursor.execute(f"SHOW {name}")
                    row = cursor.fetchone()
                    assert row is not None
                    values[name] = str(row[0])
                return values
        finally:
            connection.close()
    finally:
        postgres.stop()


@pytest.mark.slow
def test_the_run_profile_keeps_every_commit_through_a_crash(tmp_path):
    assert _server_settings(tmp_path / "postgres", "run") == {
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
    }


@pytest.mark.slow
def test_the_test_profile_may_trade_durability_for_speed(tmp_path):
    assert _server_settings(tmp_path / "postgres", "test")["fsync"] == "off"
