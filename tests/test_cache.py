"""The Redis cache keeps one client per connection pool and stays correct across threads."""

from __future__ import annotations

import threading

from django.core.cache import caches


def test_one_client_serves_every_call_and_every_thread():
    backend = caches["default"]
    client = backend._cache.get_client()
    assert backend._cache.get_client("any-key", write=True) is client

    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                backend.set(f"test-cache-{n}-{i}", (n, i), 30)
                assert backend.get(f"test-cache-{n}-{i}") == (n, i)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert backend.get_many([f"test-cache-{n}-49" for n in range(8)]) == {
        f"test-cache-{n}-49": (n, 49) for n in range(8)
    }
    assert backend._cache.get_client() is client
