"""Django's Redis cache, with one redis-py client per connection pool instead of one per call.

Django builds a new `redis.Redis` for every cache operation, and building one (its tables of
response callbacks) costs about as much Python time as the round trip to a local Redis; a signed-in
page makes two such calls (its session, the pages' versions). One client per pool is enough: a
client is safe to share between threads, each command borrowing a connection from the pool.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis


class SharedClient(redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClient
