"""Nobody can freeze the shop: what one client may hold at once (SPEC §4, §6).

A script opening checkout after checkout from one address would keep every piece
"Réservé" at no cost. So a client address has at most `CHECKOUT_LIMIT_PER_CLIENT` open
checkouts (its `pending` or `processing` orders that still hold a piece) and one checkout
at most `CHECKOUT_MAX_PIECES` pieces.

The count is read from the database, so it holds across processes and machines. An order
records a keyed hash of its client's address (HMAC with SECRET_KEY, `Order.client_hash`),
never the address; IPv6 clients are counted by their /64 (shop.client.limit_key).

Concurrency: Commander's transaction 1 first takes a lock on the client's hash (a
transaction-scoped PostgreSQL advisory lock, `payments.services.locking.lock_client`), then
counts here, then locks the products. Two checkouts from one client therefore count one
after the other, each seeing the other's committed order. **Lock order:** the client's
lock, then products by ascending id, then orders by ascending id. Only Commander takes the
client's lock, and takes it first, so it cannot close a cycle. On SQLite, write
transactions already run one at a time (IMMEDIATE).
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Now
from django.utils.crypto import salted_hmac

from payments.exceptions import CheckoutLimitReached
from payments.models import Order
from products.models import Product
from shop.client import limit_key, truncated

logger = logging.getLogger(__name__)

CLIENT_HASH_SALT = "payments.limits.client"


@dataclass(frozen=True)
class Client:
    """Who is checking out, as the limits see it: the hash stored on the order, and the
    truncated address that logs may keep."""

    hash: str
    truncated: str

    @classmethod
    def from_address(cls, address: str) -> "Client":
        digest = salted_hmac(CLIENT_HASH_SALT, limit_key(address), algorithm="sha256")
        return cls(hash=digest.hexdigest(), truncated=truncated(address))


def too_many_pieces(product_ids: list[int]) -> str | None:
    """The French refusal for a cart over `CHECKOUT_MAX_PIECES`, None within it."""
    excess = len(product_ids) - settings.CHECKOUT_MAX_PIECES
    if excess <= 0:
        return None
    pieces = "une pièce" if excess == 1 else f"{excess} pièces"
    return (
        f"Une commande compte au plus {settings.CHECKOUT_MAX_PIECES} pièces : retirez {pieces} "
        "de votre panier pour commander (vous pourrez passer une seconde commande ensuite)."
    )


def open_checkouts() -> QuerySet[Order]:
    """Orders that are `pending` or `processing` and still hold a piece (database time)."""
    holding = Product.objects.filter(held_by=OuterRef("pk"), held_until__gt=Now())
    return Order.objects.filter(Exists(holding), status__in=Order.OPEN_STATUSES)


def count_open_checkouts(client_hash: str) -> int:
    return open_checkouts().filter(client_hash=client_hash).count()


def open_checkouts_of_same_client() -> Subquery:
    """For an annotation on orders: the open checkouts of each row's client (one query)."""
    same_client = (
        open_checkouts()
        .filter(client_hash=OuterRef("client_hash"))
        .order_by()
        .values("client_hash")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Subquery(same_client, output_field=IntegerField())


def limited() -> bool:
    """Whether open checkouts are counted per client (`CHECKOUT_LIMIT_PER_CLIENT`, 0: no limit)."""
    return settings.CHECKOUT_LIMIT_PER_CLIENT > 0


def check_open_checkouts(client: Client) -> None:
    """In Commander's transaction 1, under the client's lock and before the products are
    locked: refuse a checkout beyond `CHECKOUT_LIMIT_PER_CLIENT` (0: no limit)."""
    limit = settings.CHECKOUT_LIMIT_PER_CLIENT
    if limit <= 0:
        return
    count = count_open_checkouts(client.hash)
    if count >= limit:
        logger.warning(
            "Open checkout limit reached: checkout refused",
            extra={"client": client.truncated, "open_checkouts": count, "limit": limit},
        )
        raise CheckoutLimitReached(open_checkouts=count, limit=limit)
