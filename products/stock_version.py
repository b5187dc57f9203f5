"""The stock version: what cached answers about stock are keyed on (docs/decisions/0007).

A version names one state of the catalogue as shoppers see it: every piece's status, name,
slug, price and photo. It is `<token>.<lapse>`:

- `token` is random, replaced after every committed write of a piece. Random, never a
  counter: a counter restarts after a cache flush and would name again states that bodies
  cached under the old numbers describe.
- `lapse` is the next moment a hold ends, on the database's clock (a hold that lapses
  writes nothing, so no token changes then). When it has passed, the version is another
  one: a body cached before it still says "reserved".

Where it lives: in the shared cache (Redis, `CACHE_URL=redis://...`), so that every process
of every machine sees the same version. With a per-process cache (the default local memory,
or none) each gunicorn worker would keep its own idea of it, so there is no version at all:
`current()` returns None and callers answer from the database, as if nothing were cached.

How it changes: `changed()` registers, for after the commit, a new token. Every write of a
piece through the ORM calls it (ProductQuerySet's update/bulk_create/bulk_update send
`pieces_written`, saves and deletes `post_save`/`post_delete`: products/apps.py connects
them here); products/stock.py writes through those. A write the ORM does not see (SQL by
hand, a data migration with historical models) must call `changed()` itself, or be followed
by `python manage.py shell -c "from products import stock_version; stock_version.changed()"`.

Readers take the version BEFORE they read the database: what they read is then at least as
new as the version they file it under. Filing a newer body under an older version is
harmless (the older version is replaced after the writer's commit); the reverse would keep
an old status under the current version for good. `read_through()` does it in that order,
for the stock API and the cached pages alike.

A cache that fails costs speed, never an answer: the version then reads as None (answered
from the database) and a value that cannot be stored is served all the same, with a warning
in the log. A DatabaseError is never taken for a cache failure: the version's lapse is read
from the database, and a database cache backend's error is the database's; swallowed inside
a transaction, it would leave PostgreSQL's transaction aborted and the next query failing for
a reason no log names. It propagates.
"""

import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, transaction
from django.db.models import Min
from django.db.models.functions import Now

from products.models import Product

logger = logging.getLogger(__name__)

TOKEN_KEY = "stock:token"
# "<token>:<lapse>": the next lapse as last computed, and for which token. An entry for
# another token is computed again (never used): whoever writes it read that token first.
LAPSE_KEY = "stock:lapse"
# A token is replaced at every write, and lives this long at most: a write whose new token
# never reached the cache (the process died right after its commit, Redis did not answer)
# is seen at the latest after this, the poll interval. Its cost: each set of ids polled is
# read from the database once per this period, and its ETag does not change.
TOKEN_SECONDS = 30
# Machines' clocks (NTP) agree with the database's within this: a lapse is looked up again
# from this long before it is due, so that a clock running late never serves a hold past
# its end. A clock off by more than this can show a lapsed hold as reserved until the token
# is replaced (the next write, or TOKEN_SECONDS at most).
CLOCK_MARGIN_SECONDS = 1.0
_NO_LAPSE = "-"

V = TypeVar("V")


def shared() -> bool:
    """Whether the default cache is shared between processes (Redis, Memcached...)."""
    return not isinstance(caches["default"], LocMemCache | DummyCache)


def changed(using: str = DEFAULT_DB_ALIAS) -> None:
    """Pieces changed in the current transaction: a new version once it commits (at once
    outside a transaction). Cheap; call it as often as wanted."""
    if not shared():
        return
    transaction.on_commit(new_token, using=using, robust=True)


def new_token() -> str:
    """Replace the version's token now. Only after a commit: see the module's docstring."""
    token = secrets.token_hex(8)
    cache.set(TOKEN_KEY, token, TOKEN_SECONDS)
    return token


def current() -> str | None:
    """The current version, or None when there is no shared cache to hold it."""
    return read()[0]


def read(*keys: str) -> tuple[str | None, dict]:
    """The current version (None without a shared cache) and the cached values of `keys`,
    in one round trip to the cache when nothing needs computing (a poll's common case)."""
    if not shared():
        return None, {}
    try:
        found = cache.get_many([TOKEN_KEY, LAPSE_KEY, *keys])
        return _resolve(found), found
    except DatabaseError:
        raise
    except Exception:
        # The cache is down: answer from the database, as without a shared cache.
        logger.warning("Cache unavailable: stock read from the database", exc_info=True)
        return None, {}


def read_through(key: str, compute: Callable[[], tuple[V, bool]], *, seconds: int) -> V | None:
    """The value filed under `key` for the current version, else `compute()`'s, filed with
    that version for `seconds` when `compute()` says it may be kept (it returns the value and
    whether to keep it). None when there is no version (no shared cache, or the cache does
    not answer): the caller then answers from the database, as if nothing were cached.

    One round trip when the value is there: the version and the entry are read together. An
    entry of another version is never served; computed again, it replaces the old one."""
    # The version is read before `compute()` reads the database: see the module's docstring.
    version, found = read(key)
    if version is None:
        return None
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]
    value, keep = compute()
    if keep:
        try:
            cache.set(key, (version, value), seconds)
        except DatabaseError:
            raise
        except Exception:
            logger.warning("Cache unavailable: %s not kept", key.split(":")[0], exc_info=True)
    return value


def _resolve(found: dict) -> str:
    """The version from the values read (they are removed from `found`)."""
    token = found.pop(TOKEN_KEY, None)
    lapse_entry = found.pop(LAPSE_KEY, None)
    if token is None:
        # First reader after a flush or once the token expired: a new random one. `add` keeps the
        # one a concurrent reader may have set meanwhile.
        candidate = secrets.token_hex(8)
        if not cache.add(TOKEN_KEY, candidate, TOKEN_SECONDS):
            token = cache.get(TOKEN_KEY)
        token = token or candidate
    return f"{token}.{_next_lapse(token, lapse_entry)}"


def _next_lapse(token: str, entry: str | None) -> str:
    """The end of the next hold, on the database's clock, for this token's state."""
    entry_token, _, lapse = (entry or "").partition(":")
    if entry_token == token and (
        lapse == _NO_LAPSE or time.time() < float(lapse) - CLOCK_MARGIN_SECONDS
    ):
        return lapse
    # Unknown, for another token, or due: ask the database. Read after the token, so that
    # every hold committed before this token was set is seen (a later one brings a new one).
    lapse = _lapse_from_database()
    cache.set(LAPSE_KEY, f"{token}:{lapse}", TOKEN_SECONDS)
    return lapse


def _lapse_from_database() -> str:
    soonest: datetime | None = (
        Product.objects.filter(in_stock=True, held_until__gt=Now())
        .aggregate(soonest=Min("held_until"))
        .get("soonest")
    )
    return _NO_LAPSE if soonest is None else f"{soonest.timestamp():.6f}"
