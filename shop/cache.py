"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's client builds a new `redis.Redis` for every cache call; its constructor copies the
table of response callbacks, which was a tenth of a cached page's time in the profiles
(BENCHMARKS.md). The client is thread-safe and holds no connection of its own (the pool
does, and redis-py's pool starts afresh in a forked worker), so one per pool is enough.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
