"""Order life cycle (SPEC §7): checkout, payment, release, refund.

Lock order, everywhere: products by ascending id, then orders by ascending id. Commander's
first transaction takes the client's lock before them (payments.limits).
Each transition reads without locks to learn the ids, locks, then re-checks
under the lock. No call to Stripe is made while a lock is held: calls that
follow a decision (expire a session, refund) run after commit, flagged on the
order until they succeed, so `reconcile` can retry them.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from payments import limits, notifications, stripe_client
from payments.models import Order, OrderItem
from products import stock
from products.models import Product, StockStatus

logger = logging.getLogger(__name__)

# The hold outlives the Checkout Session, so a payment made in the session's
# last second still finds its pieces held (SPEC §7).
SESSION_EXTRA = timedelta(minutes=1)
HOLD_EXTRA = timedelta(minutes=3)
# A delayed payment method (SEPA...) can take days to settle; its hold waits for it.
DELAYED_PAYMENT_HOLD = timedelta(days=14)
CANCEL_SALT = "payments.cancel"
# How long the second click of a double click waits for the session the first one is
# creating (Stripe's answer); an order older than this without a session is given up.
SESSION_CREATION_WAIT = timedelta(seconds=30)


class CheckoutError(Exception):
    """Checkout cannot start; `message` is for the shopper, in French."""

    def __init__(self, message: str, *, unavailable: Iterable[Product] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.unavailable = list(unavailable)


class UnknownOrder(Exception):
    """A Stripe object that names no order of this shop."""


@dataclass(frozen=True)
class Payment:
    """What Stripe says was paid, from a Checkout Session or a PaymentIntent."""

    reference: str
    session_id: str
    payment_intent: str
    amount: int
    currency: str
    email: str = ""
    shipping: dict[str, Any] | None = None

    @classmethod
    def from_session(cls, session: dict[str, Any]) -> "Payment":
        details = session.get("customer_details") or {}
        collected = session.get("collected_information") or {}
        return cls(
            reference=order_reference_of(session),
            session_id=session.get("id") or "",
            payment_intent=_id_of(session.get("payment_intent")),
            amount=int(session.get("amount_total") or 0),
            currency=(session.get("currency") or "").lower(),
            email=details.get("email") or session.get("customer_email") or "",
            shipping=collected.get("shipping_details") or session.get("shipping_details"),
        )

    @classmethod
    def from_payment_intent(cls, intent: dict[str, Any]) -> "Payment":
        return cls(
            reference=order_reference_of(intent),
            session_id="",
            payment_intent=intent.get("id") or "",
            amount=int(intent.get("amount_received") or intent.get("amount") or 0),
            currency=(intent.get("currency") or "").lower(),
            email=intent.get("receipt_email") or "",
            shipping=intent.get("shipping"),
        )


def order_reference_of(stripe_object: dict[str, Any]) -> str:
    metadata = stripe_object.get("metadata") or {}
    return str(metadata.get("order_id") or stripe_object.get("client_reference_id") or "")


def _id_of(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def _db_now_plus(delta: timedelta) -> ExpressionWrapper:
    """`now + delta` on the database's clock, the clock that statuses are read with."""
    return ExpressionWrapper(Now() + delta, output_field=DateTimeField())


# --- Checkout -------------------------------------------------------------------------------


def start_checkout(
    *, product_ids: list[int], shopper_id: str, client_address: str | None = None
) -> Order:
    """Hold the cart's pieces for a new order and open its Stripe Checkout Session.

    The same shopper (same session) with the same cart and a session still open, or
    being created by their other click, gets that order back; with a different cart,
    their previous open order is cancelled first; only then are the client address's
    open checkouts counted (SPEC §6). Raises CheckoutError when the cart is over
    CHECKOUT_MAX_PIECES, a piece is not available or Stripe fails, and
    limits.CheckoutLimitReached when the client address has its share of open checkouts.
    """
    if not product_ids:
        raise CheckoutError("Votre panier est vide.")
    if refusal := limits.too_many_pieces(product_ids):
        raise CheckoutError(refusal)
    previous = _reusable_order(shopper_id=shopper_id, product_ids=product_ids)
    if previous is not None:
        return previous
    for stale in Order.objects.filter(shopper_id=shopper_id, status=Order.Status.PENDING):
        if not (_session_being_created(stale) and _holds_exactly(stale, product_ids)):
            cancel_order(order_id=stale.pk)

    client = limits.Client.from_address(client_address) if client_address else None
    try:
        order = _create_order_and_hold(
            product_ids=product_ids, shopper_id=shopper_id, client=client
        )
    except (CheckoutError, limits.CheckoutLimitReached):
        # A double click: the other request of this shopper may have won the pieces.
        previous = _reusable_order(shopper_id=shopper_id, product_ids=product_ids)
        if previous is not None:
            return previous
        raise
    expires_at = int(time.time()) + int((_hold_minutes() + SESSION_EXTRA).total_seconds())
    try:
        session = stripe_client.create_checkout_session(
            _session_params(order, expires_at=expires_at),
            idempotency_key=f"order-{order.reference}-checkout",
        )
    except stripe_client.StripeUnavailable as error:
        _fail_order(order_id=order.pk, error=str(error))
        raise CheckoutError(
            "Le paiement est momentanément indisponible. Aucune somme n'a été débitée ; "
            "vos pièces restent dans votre panier, réessayez dans un instant."
        ) from error
    order = _record_session(order.pk, session, expires_at=expires_at)
    if order.status != Order.Status.PENDING:
        raise CheckoutError(
            "Votre panier a changé pendant la préparation du paiement : vérifiez-le, puis "
            "cliquez à nouveau sur « Commander »."
        )
    logger.info("Checkout started", extra={"order": order.reference, "session": session.id})
    return order


def _record_session(
    order_id: int, session: stripe_client.CheckoutSession, *, expires_at: int
) -> Order:
    """Keep the new session on its order. An order cancelled while Stripe was creating it
    (a new cart from another tab) holds nothing any more: its session is expired after
    commit, like any cancelled order's, instead of staying open and payable."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        order.stripe_session_id = session.id
        if order.status == Order.Status.PENDING:
            order.checkout_url = session.url
            order.checkout_expires_at = datetime.fromtimestamp(expires_at, tz=UTC)
        else:
            order.session_expiry_pending = True
            _after_commit(expire_session_now, order.pk)
        order.save(
            update_fields=[
                "stripe_session_id",
                "checkout_url",
                "checkout_expires_at",
                "session_expiry_pending",
                "updated_at",
            ]
        )
    return order


def _hold_minutes() -> timedelta:
    return timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES)


def _reusable_order(*, shopper_id: str, product_ids: list[int]) -> Order | None:
    """The shopper's open order, if it covers exactly this cart and its session is still open.

    If that order's session is still being created (the first click of a double click is
    at Stripe), wait for it, so that both clicks lead to the one session."""
    deadline = time.monotonic() + SESSION_CREATION_WAIT.total_seconds()
    while True:
        margin = timezone.now() + timedelta(minutes=1)
        waiting = False
        for order in Order.objects.filter(shopper_id=shopper_id, status=Order.Status.PENDING):
            if not _holds_exactly(order, product_ids):
                continue
            if order.checkout_url and order.checkout_expires_at > margin:
                return order
            waiting = waiting or _session_being_created(order)
        if not waiting or time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def _holds_exactly(order: Order, product_ids: list[int]) -> bool:
    """Whether the order is for exactly these pieces and still holds every one."""
    items = set(order.items.values_list("product_id", flat=True))
    still_held = (
        Product.objects.with_status()
        .filter(held_by=order, stock_status=StockStatus.RESERVED)
        .count()
    )
    return items == set(product_ids) and still_held == len(items)


def _session_being_created(order: Order) -> bool:
    """A pending order without its session yet, young enough for Stripe to be answering."""
    return not order.checkout_url and order.created_at > timezone.now() - SESSION_CREATION_WAIT


@transaction.atomic
def _create_order_and_hold(
    *, product_ids: list[int], shopper_id: str, client: limits.Client | None = None
) -> Order:
    if client is not None:
        limits.check_open_checkouts(client)  # takes the client's lock, before the products'
    products = stock.lock_products(product_ids)
    missing = set(product_ids) - {p.pk for p in products}
    unavailable = [p for p in products if p.status != StockStatus.AVAILABLE]
    if missing or unavailable:
        raise CheckoutError(_unavailable_message(unavailable, missing), unavailable=unavailable)
    order = Order.objects.create(
        total=sum((p.price for p in products), Decimal("0.00")),
        currency=settings.SHOP_CURRENCY,
        shopper_id=shopper_id,
        client_hash=client.hash if client is not None else "",
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, product=p, name=p.name, price=p.price) for p in products
    )
    stock.hold_products(
        products, order_id=order.pk, until=_db_now_plus(_hold_minutes() + HOLD_EXTRA)
    )
    return order


def _unavailable_message(unavailable: list[Product], missing: set[int]) -> str:
    sold = [p.name for p in unavailable if p.status == StockStatus.SOLD]
    reserved = [p.name for p in unavailable if p.status == StockStatus.RESERVED]
    parts = []
    if sold:
        verb = "vient d'être vendue" if len(sold) == 1 else "viennent d'être vendues"
        parts.append(f"{_names(sold)} {verb}")
    if reserved:
        verb = "est" if len(reserved) == 1 else "sont"
        parts.append(f"{_names(reserved)} {verb} en cours d'achat par un autre client")
    if missing:
        parts.append("une pièce de votre panier n'est plus au catalogue")
    removed = (
        "Elle a été retirée" if len(unavailable) + len(missing) == 1 else "Elles ont été retirées"
    )
    return f"Désolé : {' ; '.join(parts)}. {removed} de votre panier."


def _names(names: list[str]) -> str:
    return ", ".join(f"« {name} »" for name in names)


def _session_params(order: Order, *, expires_at: int) -> dict[str, Any]:
    metadata = {"order_id": order.reference}
    signed = signing.dumps(order.reference, salt=CANCEL_SALT)
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": int(item.price * 100),
                    "product_data": {"name": item.name},
                },
            }
            for item in order.items.all()
        ],
        "success_url": settings.APP_URL
        + reverse("payments:thanks")
        + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": f"{settings.APP_URL}{reverse('payments:cancelled')}?commande={signed}",
        "client_reference_id": order.reference,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "expires_at": expires_at,
        "locale": "fr",
    }


def unsign_cancel_reference(value: str) -> str | None:
    try:
        return signing.loads(value, salt=CANCEL_SALT, max_age=timedelta(days=2))
    except signing.BadSignature:
        return None


# --- Locking helpers ------------------------------------------------------------------------


def _lock_order(order_id: int, *, with_holders: bool = False) -> tuple[Order, list[Product], dict]:
    """Inside a transaction: lock the order's pieces, then the order (and, if asked, the
    other orders holding those pieces), in the shop's lock order. Returns the locked order,
    its locked products and {order id: locked order} for every order locked."""
    product_ids = OrderItem.objects.filter(order_id=order_id).values_list("product_id", flat=True)
    products = stock.lock_products(product_ids)
    order_ids = {order_id}
    if with_holders:
        order_ids |= {p.held_by_id for p in products if p.held_by_id is not None}
    orders = {
        o.pk: o for o in Order.objects.filter(pk__in=order_ids).order_by("pk").select_for_update()
    }
    return orders[order_id], products, orders


def _fail_order(*, order_id: int, error: str) -> None:
    with transaction.atomic():
        order, products, _ = _lock_order(order_id)
        if order.status != Order.Status.PENDING:
            return
        stock.release_holds(products, order_id=order.pk)
        order.status = Order.Status.FAILED
        order.last_error = error[:2000]
        order.save(update_fields=["status", "last_error", "updated_at"])
    logger.warning("Checkout failed at Stripe, holds released", extra={"order": order.reference})


def cancel_order(*, order_id: int) -> Order:
    """The shopper gave up (cancel page, or a new cart): release the holds and expire the
    session. Only a pending order is cancelled; others are returned unchanged: a
    `processing` one has a delayed payment under way, its hold waits for the bank."""
    with transaction.atomic():
        order, products, _ = _lock_order(order_id)
        if order.status != Order.Status.PENDING:
            return order
        stock.release_holds(products, order_id=order.pk)
        order.status = Order.Status.CANCELLED
        order.session_expiry_pending = bool(order.stripe_session_id)
        order.save(update_fields=["status", "session_expiry_pending", "updated_at"])
        _after_commit(expire_session_now, order.pk)
    logger.info("Order cancelled, holds released", extra={"order": order.reference})
    return order


def release_leftover_holds(order_id: int) -> None:
    """Release whatever pieces a closed (no longer open) order still holds."""
    with transaction.atomic():
        order, products, _ = _lock_order(order_id)
        if order.status not in Order.OPEN_STATUSES:
            stock.release_holds(products, order_id=order.pk)


def release_order(*, order_id: int, status: str) -> str:
    """End an open order (`expired`, `failed`) and give its pieces back. An expiry ends only
    a pending order: a `processing` one has completed its session and waits for the bank's
    answer. Any other order keeps its status: an `expired` after `paid`, or after the
    shopper cancelled, changes nothing."""
    ends = Order.OPEN_STATUSES if status == Order.Status.FAILED else (Order.Status.PENDING,)
    with transaction.atomic():
        order, products, _ = _lock_order(order_id)
        if order.status not in ends:
            return f"unchanged ({order.status})"
        stock.release_holds(products, order_id=order.pk)
        order.status = status
        order.session_expiry_pending = False
        order.save(update_fields=["status", "session_expiry_pending", "updated_at"])
    return f"released ({status})"


def mark_order_processing(*, order_id: int) -> str:
    """A delayed method (SEPA...) completed the session unpaid: keep the hold until it settles."""
    with transaction.atomic():
        order, products, _ = _lock_order(order_id)
        if order.status != Order.Status.PENDING:
            return f"unchanged ({order.status})"
        stock.extend_hold(products, order_id=order.pk, until=_db_now_plus(DELAYED_PAYMENT_HOLD))
        order.status = Order.Status.PROCESSING
        order.save(update_fields=["status", "updated_at"])
    return "processing"


# --- Payment --------------------------------------------------------------------------------


def find_order(*, reference: str = "", session_id: str = "") -> Order:
    order = None
    if reference:
        order = Order.objects.filter(reference=reference).first()
    if order is None and session_id:
        order = Order.objects.filter(stripe_session_id=session_id).first()
    if order is None:
        raise UnknownOrder(reference or session_id or "no order reference")
    return order


def mark_order_paid(payment: Payment) -> tuple[Order, str]:
    """Record a payment: sell the order's pieces, once, whatever the event and its order.

    A payment beats an unpaid hold: pieces held by another open order are taken from
    it (its session is expired after commit). A piece already sold, or an amount that
    does not match the order, makes it a conflict refunded in full after commit.
    Returns the order and what was done.
    """
    order = find_order(reference=payment.reference, session_id=payment.session_id)
    with transaction.atomic():
        order, products, orders = _lock_order(order.pk, with_holders=True)
        if order.status in (Order.Status.PAID, Order.Status.REFUNDED):
            _complete_payment_details(order, payment)
            return order, f"already {order.status}"
        _record_payment(order, payment)
        if (payment.amount, payment.currency) != (order.total_cents, order.currency):
            outcome = _refund_in_transaction(order, products, Order.RefundReason.AMOUNT_MISMATCH)
        elif any(not p.in_stock for p in products):
            outcome = _refund_in_transaction(order, products, Order.RefundReason.CONFLICT)
        else:
            outcome = _sell(order, products, orders)
    logger.info("Payment recorded: %s", outcome, extra={"order": order.reference})
    return order, outcome


def _record_payment(order: Order, payment: Payment) -> None:
    order.stripe_payment_intent_id = payment.payment_intent or order.stripe_payment_intent_id
    order.amount_received = Decimal(payment.amount) / 100
    order.currency_received = payment.currency
    order.customer_email = payment.email or order.customer_email
    order.shipping_address = payment.shipping or order.shipping_address
    if payment.session_id and not order.stripe_session_id:
        order.stripe_session_id = payment.session_id


def _complete_payment_details(order: Order, payment: Payment) -> None:
    """A later event for a paid (or refunded) order keeps what the first one lacked: a
    PaymentIntent carries no shipping address and often no e-mail, the session does. The
    buyer's message, which had nowhere to go, goes once the e-mail is known."""
    changed = []
    if payment.email and not order.customer_email:
        order.customer_email = payment.email
        changed.append("customer_email")
    if payment.shipping and not order.shipping_address:
        order.shipping_address = payment.shipping
        changed.append("shipping_address")
    if payment.payment_intent and not order.stripe_payment_intent_id:
        order.stripe_payment_intent_id = payment.payment_intent
        changed.append("stripe_payment_intent_id")
        if order.status == Order.Status.REFUNDED and not order.stripe_refund_id:
            # The refund was decided before the payment's id was known: send it now.
            order.refund_pending = True
            changed.append("refund_pending")
            _after_commit(refund_now, order.pk)
    if not changed:
        return
    order.save(update_fields=[*changed, "updated_at"])
    if "customer_email" in changed:
        notify = (
            notifications.order_paid
            if order.status == Order.Status.PAID
            else notifications.order_refunded
        )
        transaction.on_commit(lambda: notify(order.pk, to_owner=False), robust=True)


def _sell(order: Order, products: list[Product], orders: dict[int, Order]) -> str:
    for other in orders.values():
        if other.pk != order.pk and other.status in Order.OPEN_STATUSES:
            _take_holds_from(other, products)
    stock.mark_sold(p.pk for p in products)
    OrderItem.objects.filter(order=order).update(sold=True)
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.save()
    _after_commit(notifications.order_paid, order.pk)
    return "paid"


def _take_holds_from(other: Order, products: list[Product]) -> None:
    """Another shopper's unpaid checkout loses its pieces to a payment.

    Only the pieces locked here change hands now; the other order's remaining
    holds are released right after commit, in a transaction of their own that
    keeps the lock order."""
    stock.release_holds(products, order_id=other.pk)
    other.status = Order.Status.CANCELLED
    other.session_expiry_pending = bool(other.stripe_session_id)
    other.save(update_fields=["status", "session_expiry_pending", "updated_at"])
    _after_commit(expire_session_now, other.pk)
    _after_commit(release_leftover_holds, other.pk)
    logger.warning(
        "A payment took this order's held pieces; its session is expired",
        extra={"order": other.reference},
    )


def _refund_in_transaction(order: Order, products: list[Product], reason: str) -> str:
    stock.release_holds(products, order_id=order.pk)
    order.status = Order.Status.REFUNDED
    order.refund_reason = reason
    order.refund_pending = bool(order.stripe_payment_intent_id)
    order.save()
    _after_commit(refund_now, order.pk)
    _after_commit(notifications.order_refunded, order.pk)
    logger.error("Paid order refunded automatically (%s)", reason, extra={"order": order.reference})
    return f"refunded ({reason})"


def refund_paid_order(*, order_id: int, put_back_on_sale: bool) -> str:
    """Owner action: refund a paid order in full, and if asked, put its pieces back on sale."""
    with transaction.atomic():
        order, products, _ = _lock_order(order_id)
        if order.status != Order.Status.PAID:
            return f"unchanged ({order.status})"
        if put_back_on_sale:
            OrderItem.objects.filter(order=order).update(sold=False)
            stock.put_back_on_sale(p.pk for p in products)
        order.status = Order.Status.REFUNDED
        order.refund_reason = Order.RefundReason.ADMIN
        order.refund_pending = bool(order.stripe_payment_intent_id)
        order.save()
        _after_commit(refund_now, order.pk)
    return "refunded (admin)"


# --- Stripe calls after commit --------------------------------------------------------------


def _after_commit(fn, order_id: int) -> None:
    transaction.on_commit(lambda: fn(order_id), robust=True)


def refund_now(order_id: int) -> bool:
    """Send a decided refund to Stripe (idempotent). True once Stripe has it."""
    order = Order.objects.get(pk=order_id)
    if not order.refund_pending:
        return True
    try:
        refund_id = _refund_once(order)
    except stripe_client.StripeUnavailable as error:
        _note_error(order, f"refund: {error}")
        logger.error("Refund not sent, reconcile will retry", extra={"order": order.reference})
        return False
    Order.objects.filter(pk=order_id).update(
        refund_pending=False,
        stripe_refund_id=refund_id,
        refunded_at=timezone.now(),
        last_error="",
        updated_at=timezone.now(),
    )
    logger.info("Refund sent: %s", refund_id, extra={"order": order.reference})
    return True


def _refund_once(order: Order) -> str:
    """Refund the order's payment; a payment Stripe says is already refunded (from the
    dashboard, say) counts as done, with that refund's id."""
    try:
        return stripe_client.refund_payment(
            order.stripe_payment_intent_id,
            idempotency_key=f"order-{order.reference}-refund",
            metadata={"order_id": order.reference, "reason": order.refund_reason},
        )
    except stripe_client.StripeRejected:
        existing = stripe_client.refunded_by(order.stripe_payment_intent_id)
        if existing is None:
            raise
        return existing


def expire_session_now(order_id: int) -> bool:
    """Expire a cancelled order's Checkout Session (idempotent). True once it is closed."""
    order = Order.objects.get(pk=order_id)
    if not order.session_expiry_pending:
        return True
    try:
        stripe_client.expire_checkout_session(
            order.stripe_session_id, idempotency_key=f"order-{order.reference}-expire"
        )
    except stripe_client.StripeRejected as error:
        # The session is no longer open (completed or expired): nothing left to close.
        logger.info("Session already closed: %s", error, extra={"order": order.reference})
    except stripe_client.StripeUnavailable as error:
        _note_error(order, f"expire: {error}")
        return False
    Order.objects.filter(pk=order_id).update(
        session_expiry_pending=False, updated_at=timezone.now()
    )
    return True


def send_pending_stripe_calls(order_id: int) -> bool:
    """Send the refund and the session expiry still flagged on an order, both even if the
    first fails. True once neither is pending."""
    sent = [refund_now(order_id), expire_session_now(order_id)]
    return all(sent)


def _note_error(order: Order, error: str) -> None:
    Order.objects.filter(pk=order.pk).update(last_error=error[:2000], updated_at=timezone.now())


# --- Entry points for Stripe objects (webhook, thank-you page, reconcile) -------------------


def apply_checkout_session(session: dict[str, Any]) -> tuple[Order, str]:
    """Apply what a Checkout Session says: paid, completed unpaid, or expired."""
    if session.get("payment_status") in ("paid", "no_payment_required") and session.get(
        "status"
    ) in ("complete", None):
        return mark_order_paid(Payment.from_session(session))
    order = find_order(reference=order_reference_of(session), session_id=session.get("id") or "")
    if session.get("status") == "expired":
        return order, release_order(order_id=order.pk, status=Order.Status.EXPIRED)
    if session.get("status") == "complete":
        return order, mark_order_processing(order_id=order.pk)
    return order, "unchanged (session open)"


def apply_async_payment_failed(session: dict[str, Any]) -> tuple[Order, str]:
    order = find_order(reference=order_reference_of(session), session_id=session.get("id") or "")
    return order, release_order(order_id=order.pk, status=Order.Status.FAILED)


def apply_payment_intent_succeeded(intent: dict[str, Any]) -> tuple[Order, str]:
    return mark_order_paid(Payment.from_payment_intent(intent))


def expire_lost_session(session: dict[str, Any]) -> tuple[Order, str]:
    """An open session whose order gave up without knowing it: Stripe created it but its
    answer never reached the shop, which failed the order and released its pieces (or the
    shopper moved on). Record it on the order and expire it, so that nobody pays for pieces
    the order no longer holds."""
    order = find_order(reference=order_reference_of(session), session_id=session.get("id") or "")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == Order.Status.PENDING or order.stripe_session_id:
            return order, f"unchanged ({order.status})"
        order.stripe_session_id = session["id"]
        order.session_expiry_pending = True
        order.save(update_fields=["stripe_session_id", "session_expiry_pending", "updated_at"])
        _after_commit(expire_session_now, order.pk)
    return order, "lost session expired"


def sync_checkout_session(order: Order) -> Order:
    """Ask Stripe for the order's session and apply it (thank-you page: show the result
    sooner than the webhook). Stripe being down only means the page says "en cours"."""
    if order.status not in Order.OPEN_STATUSES or not order.stripe_session_id:
        return order
    try:
        session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
    except stripe_client.StripeUnavailable:
        return order
    if session.get("status") == "complete":
        order, _ = apply_checkout_session(session)
    return order
