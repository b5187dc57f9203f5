"""Django's Redis cache, keeping one redis-py client per connection pool, and skipping a
Redis that does not answer.

Django's client builds a new `redis.Redis` for every cache call; its constructor copies the
table of response callbacks, which was a tenth of a cached page's time in the profiles
(BENCHMARKS.md). The client is thread-safe and holds no connection of its own (the pool
does, and redis-py's pool starts afresh in a forked worker), so one per pool is enough.

A Redis that is hung (accepts, never answers) or down (refuses) costs a request at most
`REDIS_TIMEOUT` (0.25 s, the settings give it to redis-py as its connect and read timeouts).
After such a failure this process does not call Redis at all for `REDIS_PAUSE_SECONDS`.
Meanwhile every cache call answers at once as an empty cache would: a read finds nothing
(its default), a write keeps nothing, `incr` raises ValueError (a missing key's error). So
every caller goes on without the cache, as it does without a shared one, whatever it is (the
stock version and its read-through, the footer's pages, django-ratelimit, whatever comes
next): no answer's correctness depends on the cache (SPEC §4), and none fails because of it.
One request per process and pause waits, not every request. The failure is logged once a
minute per process, as one line without a traceback (SPEC §13). (django-redis's
IGNORE_EXCEPTIONS does the same for its own backend.)
"""

import functools
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 60.0


class Breaker:
    """One per process: whether Redis is being skipped, and when its failure was last told."""

    def __init__(self) -> None:
        self.skip_until = 0.0
        self.logged_at = float("-inf")
        self.unlogged = 0
        self._lock = threading.Lock()

    def closed(self) -> bool:
        return time.monotonic() >= self.skip_until

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self.skip_until = now + settings.REDIS_PAUSE_SECONDS
            self.unlogged += 1
            if now - self.logged_at < LOG_EVERY_SECONDS:
                return
            count, self.unlogged, self.logged_at = self.unlogged, 0, now
        logger.warning(
            "Redis unavailable (%s: %s): the shop answers without its cache, and tries Redis "
            "again in %s s (%s failure(s) in this process since the last such line)",
            type(error).__name__,
            error,
            settings.REDIS_PAUSE_SECONDS,
            count,
        )


breaker = Breaker()

# The calls of Django's RedisCacheClient that talk to Redis.
_OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


def _as_if_empty(name: str, args: tuple, kwargs: dict) -> Any:
    """What an empty cache answers to this call."""
    if name == "get":
        return args[1] if len(args) > 1 else kwargs.get("default")
    if name == "get_many":
        return {}
    if name == "incr":
        raise ValueError("Redis unavailable: no such key")
    if name == "set_many":
        return []
    return False if name in ("add", "touch", "delete", "has_key", "clear") else None


def _guarded(name: str):
    call = getattr(RedisCacheClient, name)

    @functools.wraps(call)
    def guarded(self, *args, **kwargs):
        if not breaker.closed():
            return _as_if_empty(name, args, kwargs)
        try:
            return call(self, *args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as error:
            breaker.failed(error)
            return _as_if_empty(name, args, kwargs)

    return guarded


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


for _name in _OPERATIONS:
    setattr(ReusingRedisCacheClient, _name, _guarded(_name))


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
