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

Lock order: the event row first, then products by id, then orders by id (SPEC §7). Only this
module takes event row locks.
"""

import json
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from payments import notifications, services, stripe_client
from payments.models import Order, StripeEvent

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
HANDLED = (StripeEvent.Outcome.PROCESSED, StripeEvent.Outcome.IGNORED)
# Largest amount an order can hold (`max_digits=10, decimal_places=2`), in cents.
MAX_AMOUNT_CENTS = 10**10 - 1
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


class Rejected(Exception):
    """A body or header that is not a verified Stripe event; the message says why."""


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
    except Rejected as refusal:
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
    """The verified event, or Rejected. Never raises anything else."""
    if not signature:
        raise Rejected("no Stripe-Signature header")
    if not signature.isascii() or not signature.isprintable():
        # stripe's check would fail with a TypeError on non-ASCII signatures.
        raise Rejected("garbage Stripe-Signature header")
    try:
        event = stripe_client.verify_webhook(body, signature)
    except stripe_client.InvalidSignature as error:
        raise Rejected(f"signature: {error}") from error
    except (ValueError, RecursionError) as error:
        raise Rejected("signed body is not JSON") from error
    problem = envelope_problem(event)
    if problem:
        raise Rejected(f"not a Stripe event: {problem}")
    return event


def envelope_problem(event: Any) -> str:
    """Why a decoded body is not a Stripe event we can store, or "" when it is one."""
    if not isinstance(event, dict):
        return "not a JSON object"
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 255:
        return "no string id"
    if not isinstance(event_type, str) or not 0 < len(event_type) <= 100:
        return "no string type"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "no data.object"
    try:
        # What the database will store: strict JSON, valid UTF-8, and no NUL, which
        # PostgreSQL refuses in text and jsonb.
        stored = json.dumps(event, allow_nan=False, ensure_ascii=False)
        stored.encode("utf-8")
    except (ValueError, RecursionError):
        return "cannot be stored as JSON"
    if "\x00" in stored or "\\u0000" in stored:
        return "contains a NUL character"
    return ""


def object_problem(event_type: str, obj: dict[str, Any]) -> str:
    """Why the object of a handled event type does not have the shape its service reads
    (a Stripe event never looks like this), or "" when it does."""
    strings = ["id", "client_reference_id", "currency", "customer_email"]
    dicts = ["metadata"]
    if event_type.startswith("checkout.session."):
        strings += ["payment_status", "status"]
        dicts += ["customer_details", "collected_information", "shipping_details"]
        amounts = ["amount_total"]
    else:
        strings += ["receipt_email"]
        dicts += ["shipping"]
        amounts = ["amount_received", "amount"]
    for key in strings:
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return f"{key} is not a string"
    for key in dicts:
        if obj.get(key) is not None and not isinstance(obj[key], dict):
            return f"{key} is not an object"
    for key in amounts:
        value = obj.get(key)
        if value is not None and (
            type(value) is not int or not 0 <= value <= MAX_AMOUNT_CENTS  # bool is not an amount
        ):
            return f"{key} is not an amount in cents"
    intent = obj.get("payment_intent")
    if intent is not None and not isinstance(intent, str | dict):
        return "payment_intent is neither an id nor an object"
    if isinstance(intent, dict) and not isinstance(intent.get("id") or "", str):
        return "payment_intent.id is not a string"
    details = obj.get("customer_details")
    details = details if isinstance(details, dict) else {}
    emails = [obj.get("customer_email"), obj.get("receipt_email"), details.get("email")]
    if any(email is not None and not isinstance(email, str) for email in emails):
        return "email is not a string"
    if any(len(value) > 254 for value in emails if isinstance(value, str)):
        return "email too long"
    if any(len(obj.get(key) or "") > 255 for key in ("id", "client_reference_id")):
        return "id too long"
    if isinstance(intent, str | dict) and len(_intent_id(intent)) > 255:
        return "payment_intent id too long"
    return ""


def _intent_id(intent: str | dict[str, Any]) -> str:
    return intent if isinstance(intent, str) else intent.get("id") or ""


# --- Recording and handling -----------------------------------------------------------------


def _process(event: dict[str, Any], *, started: float, rerun_ignored: bool) -> Result:
    event_id, event_type = event["id"], event["type"]
    obj = event["data"]["object"]
    try:
        with transaction.atomic():
            row = _locked_row(event)
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


def _locked_row(event: dict[str, Any]) -> StripeEvent:
    """The event's row, inserted once and locked until the transaction ends. A concurrent
    delivery of the same event waits here (on the unique index or on the row lock).

    One round trip: `INSERT ... ON CONFLICT (stripe_id) DO UPDATE` inserts the row or, when
    it exists, locks it (the no-op update waits for a concurrent holder and takes its row
    lock), and `RETURNING` gives what is stored. The payload is written at insert only."""
    table = connection.ops.quote_name(StripeEvent._meta.db_table)
    fields = StripeEvent._meta
    payload = fields.get_field("payload").get_db_prep_save(event, connection)
    now = fields.get_field("received_at").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "
            "(stripe_id, type, payload, received_at, outcome, detail, error, attempts) "
            "VALUES (%s, %s, %s, %s, %s, '', '', 0) "
            "ON CONFLICT (stripe_id) DO UPDATE SET stripe_id = EXCLUDED.stripe_id "
            "RETURNING id, outcome, attempts, order_id",
            [event["id"], event["type"], payload, now, StripeEvent.Outcome.RECEIVED],
        )
        pk, outcome, attempts, order_id = cursor.fetchone()
    return StripeEvent(
        pk=pk,
        stripe_id=event["id"],
        type=event["type"],
        outcome=outcome,
        attempts=attempts,
        order_id=order_id,
    )


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
        except services.UnknownOrder as error:
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
            row = _locked_row(event)
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


def _is_payment(event_type: str, obj: dict[str, Any]) -> bool:
    if event_type in ("payment_intent.succeeded", "checkout.session.async_payment_succeeded"):
        return True
    return event_type == "checkout.session.completed" and obj.get("payment_status") in (
        "paid",
        "no_payment_required",
    )


def _report_unknown_order(row: StripeEvent, event_type: str, obj: dict[str, Any]) -> None:
    """An event naming no order of the shop. Money received for nothing must reach the
    owner: an error in the log and, once recorded, an e-mail."""
    extra = {
        "event_id": row.stripe_id,
        "event_type": event_type,
        "order": _named_reference(obj),
    }
    if not _is_payment(event_type, obj):
        logger.warning("Stripe event %s names no order of the shop", row.stripe_id, extra=extra)
        return
    logger.error("Payment received for no known order: %s", row.stripe_id, extra=extra)
    notifications.payment_without_order(event_id=row.stripe_id, event_type=event_type, obj=obj)


def _named_reference(obj: dict[str, Any]) -> str:
    try:
        return services.order_reference_of(obj)[:40]
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
