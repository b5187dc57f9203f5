"""Idempotency keys as Stripe keeps them: the first result of a POST is saved under its
`Idempotency-Key`; the same key with the same request replays it, with another request
it is an `idempotency_error`. Errors are not saved (their transaction rolls back).

The key row is inserted in the transaction that does the work, so a concurrent twin
waits on the unique index (PostgreSQL) or the write lock (SQLite), then replays.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.offline.errors import StripeApiError, invalid
from payments.offline.events import Result
from payments.offline.models import Event, IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)


@dataclass
class Answer:
    """What an API call answers: a fresh result, or the one saved under its idempotency key
    (`replayed`)."""

    body: dict[str, Any]
    status: int = 200
    events: list[Event] = field(default_factory=list)
    replayed: bool = False


def run_idempotent(
    *,
    key: str | None,
    method: str,
    path: str,
    params: dict[str, Any],
    handler: Callable[[], Result],
) -> Answer:
    """Run `handler` in a transaction, once per idempotency key."""
    if not key:
        with transaction.atomic():
            result = handler()
        return Answer(result.body, events=result.events)
    if len(key) > 255:
        raise invalid("Idempotency keys are at most 255 characters long.", param="Idempotency-Key")
    saved = IdempotencyKey.objects.filter(key=key).first()
    if saved is not None:
        return _replay(saved, method=method, path=path, params=params)
    IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEY_LIFETIME).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(key=key, method=method, path=path, params=params)
            result = handler()
            record.status_code = 200
            record.response = result.body
            record.save(update_fields=["status_code", "response"])
    except IntegrityError:
        saved = IdempotencyKey.objects.filter(key=key).first()
        if saved is None:
            raise
        return _replay(saved, method=method, path=path, params=params)
    return Answer(result.body, events=result.events)


def _replay(saved: IdempotencyKey, *, method: str, path: str, params: dict[str, Any]) -> Answer:
    if (saved.method, saved.path, saved.params) != (method, path, params):
        raise StripeApiError(
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{saved.key}' if you meant to execute "
            "a different request.",
            type="idempotency_error",
        )
    return Answer(saved.response, status=saved.status_code, replayed=True)
