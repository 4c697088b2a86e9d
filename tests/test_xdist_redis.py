"""Each pytest-xdist process gets a Redis database of its own (tests/xdist_redis.py), so a real
Celery worker started by one process's test never takes another process's tasks."""

from __future__ import annotations

import pytest

from tests.xdist_redis import _worker_redis_url


def test_each_process_gets_its_own_database_on_the_same_server():
    urls = [_worker_redis_url("redis://127.0.0.1:6390/0", f"gw{n}") for n in range(3)]

    assert urls == [
        "redis://127.0.0.1:6390/1",
        "redis://127.0.0.1:6390/2",
        "redis://127.0.0.1:6390/3",
    ]


def test_a_unix_socket_url_gets_its_database_as_a_parameter():
    url = _worker_redis_url("unix:///run/redis.sock?db=0&timeout=5", "gw1")

    assert url == "unix:///run/redis.sock?timeout=5&db=2"


def test_a_process_past_the_servers_sixteen_databases_is_refused_with_a_clear_message():
    with pytest.raises(RuntimeError, match="at most 15 processes"):
        _worker_redis_url("redis://127.0.0.1:6390/0", "gw15")
