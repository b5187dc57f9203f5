"""Commander (SPEC §7): hold the cart's pieces for a new order, then open its Stripe
Checkout Session. Two shoppers can never both reach Stripe for one piece."""

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from payments import limits, stripe_client
from payments.exceptions import CheckoutError, CheckoutLimitReached, StripeUnavailable
from payments.models import Order, OrderItem, cents
from payments.pricing import shipping_cost_for, shipping_label
from payments.services.locking import after_commit, db_now_plus, lock_client, lock_order_alone
from payments.services.release import cancel_order, fail_order
from payments.services.stripe_calls import expire_session_now
from products import stock
from products.models import Product, StockStatus
from shop.words import guillemets

logger = logging.getLogger(__name__)

# The hold outlives the Checkout Session, so a payment made in the session's
# last second still finds its pieces held (SPEC §7).
SESSION_EXTRA = timedelta(minutes=1)
HOLD_EXTRA = timedelta(minutes=3)
CANCEL_SALT = "payments.cancel"
# How long the second click of a double click waits for the session the first one is
# creating (Stripe's answer: stripe_client.BUDGET_SECONDS at most); an order older than this
# without a session is given up. Within gunicorn's 30 s with room for the rest of the request.
SESSION_CREATION_WAIT = timedelta(seconds=stripe_client.BUDGET_SECONDS + 2)


def start_checkout(
    *, product_ids: list[int], shopper_id: str, client_address: str | None = None
) -> Order:
    """Hold the cart's pieces for a new order and open its Stripe Checkout Session.

    The same shopper (same session) with the same cart and a session still open, or
    being created by their other click, gets that order back; with a different cart,
    their previous open order is cancelled first; only then are the client address's
    open checkouts counted (SPEC §6). Raises CheckoutError when the cart is over
    CHECKOUT_MAX_PIECES, a piece is not available or Stripe fails, and
    CheckoutLimitReached when the client address has its share of open checkouts.
    """
    if not product_ids:
        raise CheckoutError("Votre panier est vide.")
    if refusal := limits.too_many_pieces(product_ids):
        raise CheckoutError(refusal)
    previous, pending = _reusable_order(shopper_id=shopper_id, product_ids=product_ids)
    if previous is not None:
        return previous
    for stale in pending:
        if not (_session_being_created(stale) and _holds_exactly(stale, product_ids)):
            cancel_order(order_id=stale.pk)
    _refuse_pieces_held_by_others(product_ids, shopper_id=shopper_id)

    client = limits.Client.from_address(client_address) if client_address else None
    try:
        order, items = _create_order_and_hold(
            product_ids=product_ids, shopper_id=shopper_id, client=client
        )
    except (CheckoutError, CheckoutLimitReached):
        # A double click: the other request of this shopper may have won the pieces.
        previous, _ = _reusable_order(shopper_id=shopper_id, product_ids=product_ids)
        if previous is not None:
            return previous
        raise
    expires_at = int(time.time()) + int((_hold_minutes() + SESSION_EXTRA).total_seconds())
    try:
        session = stripe_client.create_checkout_session(
            session_params(order, expires_at=expires_at, items=items),
            idempotency_key=f"order-{order.reference}-checkout",
        )
    except StripeUnavailable as error:
        fail_order(order_id=order.pk, error=str(error))
        raise CheckoutError(
            "Le paiement est momentanément indisponible. Aucune somme n'a été débitée ; "
            "vos pièces restent dans votre panier, réessayez dans un instant."
        ) from error
    order = _record_session(order, session, expires_at=expires_at)
    if order.status != Order.Status.PENDING:
        raise CheckoutError(
            "Votre panier a changé pendant la préparation du paiement : vérifiez-le, puis "
            "cliquez à nouveau sur « Commander »."
        )
    logger.info("Checkout started", extra={"order": order.reference, "session": session.id})
    return order


def _record_session(
    order: Order, session: stripe_client.CheckoutSession, *, expires_at: int
) -> Order:
    """Keep the new session on its order. An order cancelled while Stripe was creating it
    (a new cart from another tab) holds nothing any more: its session is expired after
    commit, like any cancelled order's, instead of staying open and payable."""
    checkout_expires_at = datetime.fromtimestamp(expires_at, tz=UTC)
    now = timezone.now()
    # The common case in one statement, without a lock: the order is still pending.
    if Order.objects.filter(pk=order.pk, status=Order.Status.PENDING).update(
        stripe_session_id=session.id,
        checkout_url=session.url,
        checkout_expires_at=checkout_expires_at,
        updated_at=now,
    ):
        order.stripe_session_id, order.checkout_url = session.id, session.url
        order.checkout_expires_at, order.updated_at = checkout_expires_at, now
        return order
    # No longer pending (an order never becomes pending again): keep the session's id, and
    # expire the session after commit.
    with transaction.atomic():
        order = lock_order_alone(order.pk)
        order.stripe_session_id = session.id
        order.session_expiry_pending = True
        order.save(update_fields=["stripe_session_id", "session_expiry_pending", "updated_at"])
        after_commit(expire_session_now, order.pk)
    return order


def _hold_minutes() -> timedelta:
    return timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES)


def _reusable_order(*, shopper_id: str, product_ids: list[int]) -> tuple[Order | None, list[Order]]:
    """The shopper's open order, if it covers exactly this cart and its session is still
    open; and the shopper's pending orders as last read.

    If that order's session is still being created (the first click of a double click is
    at Stripe), wait for it, so that both clicks lead to the one session."""
    deadline = time.monotonic() + SESSION_CREATION_WAIT.total_seconds()
    while True:
        margin = timezone.now() + timedelta(minutes=1)
        waiting = False
        pending = list(Order.objects.filter(shopper_id=shopper_id, status=Order.Status.PENDING))
        for order in pending:
            if not _holds_exactly(order, product_ids):
                continue
            if order.checkout_url and order.checkout_expires_at > margin:
                return order, pending
            waiting = waiting or _session_being_created(order)
        if not waiting or time.monotonic() > deadline:
            return None, pending
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
) -> tuple[Order, list[OrderItem]]:
    """Transaction 1 (SPEC §7): the client's count, the products locked and re-checked,
    the order and its items created, the pieces held."""
    if client is not None and limits.limited():
        lock_client(client.hash)  # waits for this client's other checkouts; before the products
        limits.check_open_checkouts(client)
    products = stock.lock_products(product_ids)
    if refusal := _refusal(products, product_ids):
        raise refusal
    items_total = sum((p.price for p in products), Decimal("0.00"))
    shipping_cost = shipping_cost_for(items_total)
    order = Order.objects.create(
        items_total=items_total,
        shipping_cost=shipping_cost,
        total=items_total + shipping_cost,
        currency=settings.SHOP_CURRENCY,
        shopper_id=shopper_id,
        client_hash=client.hash if client is not None else "",
    )
    items = OrderItem.objects.bulk_create(
        OrderItem(order=order, product=p, name=p.name, price=p.price) for p in products
    )
    stock.hold_products(
        products, order_id=order.pk, until=db_now_plus(_hold_minutes() + HOLD_EXTRA)
    )
    return order, items


def _refuse_pieces_held_by_others(product_ids: list[int], *, shopper_id: str) -> None:
    """Read without locks first (SPEC §7): a piece sold, gone, or held by another shopper's
    order is refused here, before the client's count and the locks. In a drop, most
    buyers of a piece arrive after its first buyer's hold: they cost one query instead of
    a transaction. A piece held by this shopper's own order (the other click of a double
    click) goes on to the locked path, which leads both clicks to one session. What
    passes is checked again under the locks."""
    found = list(
        Product.objects.with_status()
        .filter(pk__in=set(product_ids))
        .annotate(holder=F("held_by__shopper_id"))
        .order_by("pk")
    )
    if any(p.status == StockStatus.RESERVED and p.holder == shopper_id for p in found):
        return
    if refusal := _refusal(found, product_ids):
        raise refusal


def _refusal(products: list[Product], product_ids: list[int]) -> CheckoutError | None:
    """The refusal for a cart whose pieces (as read, in id order) are not all available."""
    missing = set(product_ids) - {p.pk for p in products}
    unavailable = [p for p in products if p.status != StockStatus.AVAILABLE]
    if not (missing or unavailable):
        return None
    return CheckoutError(_unavailable_message(unavailable, missing), unavailable=unavailable)


def _unavailable_message(unavailable: list[Product], missing: set[int]) -> str:
    sold = [p.name for p in unavailable if p.status == StockStatus.SOLD]
    reserved = [p.name for p in unavailable if p.status == StockStatus.RESERVED]
    parts = []
    # « la pièce » carries the agreement: a piece's name has no gender the shop knows.
    if len(sold) == 1:
        parts.append(f"la pièce {_names(sold)} vient d'être vendue")
    elif sold:
        parts.append(f"les pièces {_names(sold)} viennent d'être vendues")
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
    return ", ".join(guillemets(name) for name in names)


def session_params(
    order: Order, *, expires_at: int, items: Iterable[OrderItem] | None = None
) -> dict[str, Any]:
    """The Checkout Session's parameters: the pieces at their database price, the one
    shipping rate decided with the order, and the address and phone to collect. `items`:
    the order's items when the caller has them (read from the database otherwise)."""
    metadata = {"order_id": order.reference}
    signed = signing.dumps(order.reference, salt=CANCEL_SALT)
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": cents(item.price),
                    "product_data": {
                        "name": item.name,
                        "description": f"Pièce unique · {settings.SHOP_NAME}",
                    },
                },
            }
            for item in (order.items.all() if items is None else items)
        ],
        "success_url": settings.APP_URL
        + reverse("payments:thanks")
        + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": f"{settings.APP_URL}{reverse('payments:cancelled')}?commande={signed}",
        "client_reference_id": order.reference,
        "metadata": metadata,
        "payment_intent_data": {
            "metadata": metadata,
            "description": f"{settings.SHOP_NAME} · commande {order.reference}",
        },
        "shipping_address_collection": {"allowed_countries": settings.SHIPPING_COUNTRIES},
        "phone_number_collection": {"enabled": True},
        "shipping_options": [
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": order.shipping_cents, "currency": order.currency},
                    "display_name": shipping_label(order.shipping_cost),
                }
            }
        ],
        "expires_at": expires_at,
        "locale": "fr",
    }


def unsign_cancel_reference(value: str) -> str | None:
    try:
        return signing.loads(value, salt=CANCEL_SALT, max_age=timedelta(days=2))
    except signing.BadSignature:
        return None
