"""Every lock the shop takes, in the one order they are taken (SPEC §7, docs/decisions/0001):

1. the client address's advisory lock (Commander's first transaction only, `lock_client`);
2. the webhook's event row (`lock_event`: the delivery's transaction starts with it);
3. products by ascending id (`products.stock.lock_products`, or `lock_paid_order`);
4. orders by ascending id (`lock_order`, `lock_order_alone`, `lock_paid_order`);
5. the yearly counter of invoices or of credit notes (`insert_numbered`), LAST: the sale's
   or the refund's last write, so that the sales waiting for the next invoice number wait
   only for what follows it in the transaction before its commit (the event's row, a few
   microseconds of work, then the commit itself).

Apart from these, outbox messages (`lock_waiting_messages`) are locked alone, in a short
transaction of their own that takes no other lock: the e-mail senders' claim
(payments/services/mail.py).

A transition reads without locks to learn the ids, locks here, then re-checks under the lock
what it read. Nothing else in the shop writes `select_for_update` or takes an advisory lock:
a new service that needs a lock asks for it here (products/stock.py keeps the products' own
lock, which this module uses).

No call to Stripe is made while a lock is held: calls that follow a decision (expire a
session, refund) and e-mails run after commit (`after_commit`), the Stripe ones flagged on
the order until they succeed, so `reconcile` can retry them.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from payments.document_content import format_number
from payments.exceptions import UnknownOrder
from payments.models import DocumentCounter, Order, OrderItem, StripeEvent
from payments.selectors import find_order
from products import stock
from products.models import Product

# First key of pg_advisory_xact_lock(int, int): the client lock's namespace ("B07" for Boutique).
ADVISORY_LOCK_NAMESPACE = 0xB07


def lock_client(client_hash: str) -> None:
    """Serialise this client's checkouts until the transaction ends (PostgreSQL; on SQLite,
    write transactions already run one at a time). Two clients whose hashes share their
    first 32 bits merely wait for each other. Taken first, and only by Commander, so it
    cannot close a cycle."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(bytes.fromhex(client_hash[:8]), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, key])


def lock_event(event: dict[str, Any]) -> StripeEvent:
    """Inside a transaction: the event's row, inserted once and locked until the transaction
    ends. A concurrent delivery of the same event waits here (on the unique index or on the
    row lock).

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


def lock_order(order_id: int, *, with_holders: bool = False) -> tuple[Order, list[Product], dict]:
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


def lock_order_alone(order_id: int) -> Order:
    """Inside a transaction: lock only the order row, for changes that touch no piece
    (its session id, its shipment). Taking no product lock keeps the lock order."""
    return Order.objects.select_for_update().get(pk=order_id)


def lock_paid_order(
    *, reference: str, session_id: str
) -> tuple[Order, list[Product], dict[int, Order]] | None:
    """Inside a transaction: the order a payment names (by reference, else by session id),
    locked as `lock_order(..., with_holders=True)` locks it, or None when there is none.

    By reference, two statements: the order's pieces found and locked through their items,
    then the order and the pieces' holders. The lock order is the same (products by id,
    then orders by id); the items of an order never change once it exists."""
    if reference:
        products = _lock_products_of_order(reference)
        holder_ids = sorted({p.held_by_id for p in products if p.held_by_id is not None})
        orders = {o.pk: o for o in _lock_orders(reference, holder_ids)}
        order = next((o for o in orders.values() if o.reference == reference), None)
        if order is not None:
            return order, products, orders
    try:
        order = find_order(session_id=session_id)
    except UnknownOrder:
        return None
    return lock_order(order.pk, with_holders=True)


def _lock_products_of_order(reference: str) -> list[Product]:
    """Lock the pieces of the order with this reference (found through its items, in one
    statement), in ascending id order. Only the products are locked, not the items or the
    order. No `stock_status` annotation: the webhook's hot path reads `in_stock` and
    `held_by_id` only, and a raw statement spares it the ORM's query compilation (a quarter
    of its CPU in the profiles). Each product also carries its line's name and price as
    paid (`item_name`, `item_price`), which the invoice states: no statement more."""
    product, item, order = Product._meta, OrderItem._meta, Order._meta
    lock = " FOR UPDATE OF p" if connection.features.has_select_for_update_of else ""
    return list(
        Product.objects.raw(
            f"SELECT p.*, i.name AS item_name, i.price AS item_price FROM {product.db_table} p "
            f"JOIN {item.db_table} i ON i.product_id = p.id "
            f"JOIN {order.db_table} o ON o.id = i.order_id "
            f"WHERE o.reference = %s ORDER BY p.id{lock}",
            [reference],
        )
    )


def _lock_orders(reference: str, order_ids: list[int]) -> list[Order]:
    """Lock the order with this reference and these orders, in ascending id order (a raw
    statement: no query compilation on the webhook's hot path)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    ids = "".join(" OR id = %s" for _ in order_ids)
    return list(
        Order.objects.raw(
            f"SELECT * FROM {Order._meta.db_table} WHERE reference = %s{ids} ORDER BY id{lock}",
            [reference, *order_ids],
        )
    )


def insert_numbered(model: type, *, kind: str, year: int, values: dict[str, Any]) -> Any:
    """Inside the deciding transaction, as its last write: take the next number of `kind`
    in `year` and insert the document (`model`: Invoice, CreditNote) with it and `values`
    (field name: value). Returns the document.

    The counter's row (`DocumentCounter`) is created or incremented by `INSERT ... ON
    CONFLICT DO UPDATE`, which locks it until the transaction ends: a concurrent issuer of
    the same kind waits, then reads the number this one took, so numbers follow each other
    without a gap or a duplicate, and a rollback gives the number back. On PostgreSQL the
    counter and the document's insert are ONE statement (a data-modifying CTE); elsewhere
    two (SQLite runs one writer at a time anyway)."""
    counter = connection.ops.quote_name(DocumentCounter._meta.db_table)
    take = (
        f"INSERT INTO {counter} (kind, year, last) VALUES (%s, %s, 1) "
        f"ON CONFLICT (kind, year) DO UPDATE SET last = {counter}.last + 1 RETURNING last"
    )
    prefix = format_number(kind, year, 0)[:-5]
    document = model(**values)
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(take, [kind, year])
            (last,) = cursor.fetchone()
        document.number = format_number(kind, year, last)
        document.save(force_insert=True)
        return document
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.name != "number"]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    params = [f.get_db_prep_save(getattr(document, f.attname), connection) for f in fields]
    placeholders = ", ".join("%s" for _ in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH taken AS ({take}) "
            f"INSERT INTO {table} (number, {columns}) "
            "SELECT %s || CASE WHEN taken.last >= 100000 THEN taken.last::text "
            f"ELSE lpad(taken.last::text, 5, '0') END, {placeholders} FROM taken "
            "RETURNING id, number",
            [kind, year, prefix, *params],
        )
        document.pk, document.number = cursor.fetchone()
    document._state.adding = False
    return document


def after_commit(fn: Callable[..., object], order_id: int) -> None:
    """Run `fn(order_id=order_id)` once the current transaction commits; a failure is logged
    by Django (`robust`) and never undoes what committed."""
    transaction.on_commit(lambda: fn(order_id=order_id), robust=True)


def db_now_plus(delta: timedelta) -> ExpressionWrapper:
    """`now + delta` on the database's clock, the clock that statuses are read with."""
    return ExpressionWrapper(Now() + delta, output_field=DateTimeField())


def lock_waiting_messages(waiting: QuerySet, *, limit: int) -> list[Any]:
    """Inside a short transaction of its own: the first `limit` of these outbox messages (by
    id) that no other transaction holds, locked; one held by another sender is skipped, never
    waited for (SKIP LOCKED). Empty when every one is held, or none waits."""
    return list(waiting.order_by("pk").select_for_update(skip_locked=True)[:limit])
