"""Stripe's webhook (SPEC §8): verify, record once, act once, and never lose a payment.

A delivery goes through three gates, then one transaction:

1. Size: a body over 1 MiB is refused (413) before it is read.
2. Signature: `Stripe-Signature` must verify over the raw body (stripe_client).
3. Shape: the verified body must be a Stripe event (a JSON object with a string `id`, a
   string `type` and an object `data.object`) that the database can store.

Anything refused there is logged as a warning and answered 400: nothing is stored.

Then, in ONE transaction: the `StripeEvent` row is inserted once (or found) and locked, an
event already handled is a no-op (200), otherwise the event goes to its service and the row
records the outcome. The event counts as handled only when that transaction commits. If
anything fails, everything rolls back and a second short transaction records the failure
(`failed`, the error, one more attempt): the response is 500, Stripe retries, and the retry
handles the event again (see docs/decisions/0003-webhook-event-log.md).

Lock order: the event row first, then products by id, then orders by id (SPEC §7,
payments/services/locking.py, which takes every one of them). What an event and its object
must look like is payments/stripe_shapes.py's.
"""

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from payments import notifications, services, stripe_client
from payments.exceptions import InvalidSignature, UnknownOrder, WebhookRejected
from payments.models import Order, StripeEvent
from payments.services.locking import lock_event
from payments.stripe_shapes import (
    envelope_problem,
    object_problem,
    order_reference_of,
    reports_payment,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
HANDLED = (StripeEvent.Outcome.PROCESSED, StripeEvent.Outcome.IGNORED)
MAX_ERROR_CHARS = 10_000

Handler = Callable[[dict[str, Any]], tuple[Order, str]]

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": services.apply_checkout_session,
    "checkout.session.async_payment_succeeded": services.apply_checkout_session,
    "checkout.session.expired": services.apply_checkout_session,
    "checkout.session.async_payment_failed": services.apply_async_payment_failed,
    "payment_intent.succeeded": services.apply_payment_intent_succeeded,
}


@dataclass(frozen=True)
class Result:
    """What a delivery came to. `outcome` is one of: processed, ignored, duplicate, failed
    (verified events), rejected, too_large (refused input)."""

    status: int
    outcome: str
    detail: str = ""
    event_id: str = ""
    order: str = ""


# --- Entry points ---------------------------------------------------------------------------


def refuse_oversized(content_length: str | None) -> Result | None:
    """Check the declared `Content-Length` before the body is read: a Result to send back
    (413 when over 1 MiB, 400 when not a number), or None to go on."""
    if not content_length:
        return None
    try:
        length = int(content_length)
    except ValueError:
        length = -1
    if length < 0:
        return rejected("bad Content-Length header")
    if length > MAX_BODY_BYTES:
        return _too_large(length)
    return None


def handle(body: bytes, signature: str | None) -> Result:
    """Handle one delivery of the webhook: the raw body and its `Stripe-Signature`."""
    started = time.monotonic()
    if len(body) > MAX_BODY_BYTES:
        return _too_large(len(body))
    try:
        event = parse_event(body, signature)
    except WebhookRejected as refusal:
        return rejected(str(refusal))
    return _process(event, started=started, rerun_ignored=False)


def reprocess_event(event_pk: int) -> Result:
    """Run a stored event through the same path again (admin action, reconcile).

    An event already processed is left alone; a failed one, one that never finished or one
    that was ignored (an order that could not be found, say) is handled again. The services
    are idempotent, so this never sells, releases or refunds twice. Call it outside any
    transaction, one event at a time: the event row must stay the first lock taken.
    """
    row = StripeEvent.objects.get(pk=event_pk)
    return _process(row.payload, started=time.monotonic(), rerun_ignored=True)


# --- Gates: signature and shape -------------------------------------------------------------


def parse_event(body: bytes, signature: str | None) -> dict[str, Any]:
    """The verified event, or WebhookRejected. Never raises anything else."""
    if not signature:
        raise WebhookRejected("no Stripe-Signature header")
    if not signature.isascii() or not signature.isprintable():
        # stripe's check would fail with a TypeError on non-ASCII signatures.
        raise WebhookRejected("garbage Stripe-Signature header")
    try:
        event = stripe_client.verify_webhook(body, signature)
    except InvalidSignature as error:
        raise WebhookRejected(f"signature: {error}") from error
    except (ValueError, RecursionError) as error:
        raise WebhookRejected("signed body is not JSON") from error
    problem = envelope_problem(event)
    if problem:
        raise WebhookRejected(f"not a Stripe event: {problem}")
    return event


# --- Recording and handling -----------------------------------------------------------------


def _process(event: dict[str, Any], *, started: float, rerun_ignored: bool) -> Result:
    event_id, event_type = event["id"], event["type"]
    obj = event["data"]["object"]
    try:
        with transaction.atomic():
            row = lock_event(event)
            if row.outcome == StripeEvent.Outcome.PROCESSED or (
                row.outcome == StripeEvent.Outcome.IGNORED and not rerun_ignored
            ):
                result = Result(
                    200, "duplicate", f"already {row.outcome}", event_id, _reference(row.order)
                )
            else:
                result = _handle_locked(row, event_type, obj)
    except Exception as error:
        logger.exception(
            "Stripe event %s failed; rolled back, Stripe will retry",
            event_id,
            extra={"event_id": event_id, "event_type": event_type},
        )
        attempts = _record_failure(event, error)
        detail = f"{type(error).__name__} (attempt {attempts})"
        result = Result(500, "failed", detail, event_id, _named_reference(obj))
    _log_summary(result, event_type=event_type, started=started)
    return result


def _handle_locked(row: StripeEvent, event_type: str, obj: dict[str, Any]) -> Result:
    row.attempts += 1
    row.error = ""
    handler = HANDLERS.get(event_type)
    problem = object_problem(event_type, obj) if handler else ""
    order: Order | None = None
    if handler is None:
        outcome, detail = StripeEvent.Outcome.IGNORED, "event type not handled"
    elif problem:
        outcome, detail = StripeEvent.Outcome.IGNORED, f"malformed object: {problem}"
        logger.error(
            "Stripe event %s ignored: %s",
            row.stripe_id,
            detail,
            extra={"event_id": row.stripe_id, "event_type": event_type},
        )
    else:
        try:
            # No savepoint: the services raise UnknownOrder before they write anything, and
            # any other exception rolls the whole delivery back (`_process`).
            order, detail = handler(obj)
            outcome = StripeEvent.Outcome.PROCESSED
        except UnknownOrder as error:
            outcome, detail = StripeEvent.Outcome.IGNORED, f"unknown order: {error}"
            _report_unknown_order(row, event_type, obj)
    row.outcome = outcome
    row.detail = detail[:255]
    row.order = order
    row.processed_at = timezone.now()
    # Not the payload: written once, at insert.
    row.save(update_fields=["attempts", "error", "outcome", "detail", "order", "processed_at"])
    return Result(200, outcome, detail, row.stripe_id, _reference(order) or _named_reference(obj))


def _record_failure(event: dict[str, Any], error: Exception) -> int:
    """After the rollback, in a transaction of its own: mark the event failed so that the
    retry handles it again. Returns the attempts count (0 if even this failed)."""
    text = "".join(traceback.format_exception(error))[-MAX_ERROR_CHARS:]
    try:
        with transaction.atomic():
            row = lock_event(event)
            if row.outcome in HANDLED:
                return row.attempts  # a concurrent delivery got through meanwhile
            row.attempts += 1
            row.outcome = StripeEvent.Outcome.FAILED
            row.error = text
            row.processed_at = None
            row.save(update_fields=["attempts", "outcome", "error", "processed_at"])
            return row.attempts
    except Exception:
        logger.exception(
            "Could not record the failure of Stripe event %s",
            event["id"],
            extra={"event_id": event["id"], "event_type": event["type"]},
        )
        return 0


# --- Reporting ------------------------------------------------------------------------------


def _report_unknown_order(row: StripeEvent, event_type: str, obj: dict[str, Any]) -> None:
    """An event naming no order of the shop. Money received for nothing must reach the
    owner: an error in the log and, once recorded, an e-mail."""
    extra = {
        "event_id": row.stripe_id,
        "event_type": event_type,
        "order": _named_reference(obj),
    }
    if not reports_payment(event_type, obj):
        logger.warning("Stripe event %s names no order of the shop", row.stripe_id, extra=extra)
        return
    logger.error("Payment received for no known order: %s", row.stripe_id, extra=extra)
    notifications.payment_without_order(event_id=row.stripe_id, event_type=event_type, obj=obj)


def _named_reference(obj: dict[str, Any]) -> str:
    try:
        return order_reference_of(obj)[:40]
    except AttributeError:  # metadata that is not an object
        return ""


def _reference(order: Order | None) -> str:
    return order.reference if order is not None else ""


def _log_summary(result: Result, *, event_type: str, started: float) -> None:
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    logger.info(
        "Stripe event %s %s: %s (%s) in %s ms",
        result.event_id,
        event_type,
        result.outcome,
        result.detail,
        duration_ms,
        extra={
            "event_id": result.event_id,
            "event_type": event_type,
            "order": result.order,
            "outcome": result.outcome,
            "duration_ms": duration_ms,
        },
    )


def rejected(reason: str) -> Result:
    logger.warning("Stripe webhook refused: %s", reason, extra={"outcome": "rejected"})
    return Result(400, "rejected", reason)


def _too_large(length: int) -> Result:
    logger.warning(
        "Stripe webhook refused: body of %s bytes", length, extra={"outcome": "too_large"}
    )
    return Result(413, "too_large", f"body over {MAX_BODY_BYTES} bytes")
