"""Stock transitions. Every change of `in_stock`, `held_by` or `held_until` goes through here.

Lock order, everywhere (SPEC §7): products by ascending id, then orders by
ascending id (stated whole in payments/services/locking.py). Callers read without locks
to learn the ids, lock with `lock_products`, then re-check what they read.

The catalogue imports nothing of orders: which sold pieces a paid order still owns, the
orders' side says, through a callback (`owned=`) or the `PieceOwners` it registers at
start-up (payments/apps.py) for the catalogue's admin.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models.expressions import Combinable
from django.utils import timezone

from products.models import Product


def lock_products(product_ids: Iterable[int]) -> list[Product]:
    """Lock these products, in ascending id order, and return them with their status.

    Must run inside a transaction. Ids that do not exist are left out.
    """
    return list(
        Product.objects.with_status()
        .filter(pk__in=set(product_ids))
        .order_by("pk")
        .select_for_update(of=("self",))
    )


def hold_products(
    products: Iterable[Product], *, order_id: int, until: datetime | Combinable
) -> None:
    """Reserve locked products for an order until `until` (a datetime or a database
    expression such as `Now() + delta`, the clock statuses are read with)."""
    Product.objects.filter(pk__in=[p.pk for p in products]).update(
        held_by_id=order_id, held_until=until
    )


def extend_hold(products: Iterable[Product], *, order_id: int, until: datetime | Combinable) -> int:
    """Move the end of an order's holds on locked products (a delayed payment keeps them)."""
    held = [p.pk for p in products if p.held_by_id == order_id]
    return Product.objects.filter(pk__in=held, held_by_id=order_id).update(held_until=until)


def release_holds(products: Iterable[Product], *, order_id: int) -> int:
    """Give back the locked products that this order holds. Returns how many."""
    held = [p.pk for p in products if p.held_by_id == order_id]
    if not held:
        return 0
    return Product.objects.filter(pk__in=held, held_by_id=order_id).update(
        held_by=None, held_until=None
    )


def mark_sold(product_ids: Iterable[int]) -> int:
    """Take locked products out of stock; any hold on them ends.

    `updated_at` moves (update() skips auto_now): the page now says « Vendu », and the
    sitemap's lastmod tells crawlers so. Holds leave it alone: a hold lapses by itself
    within half an hour, before a crawler would come back for it."""
    return Product.objects.filter(pk__in=list(product_ids)).update(
        in_stock=False, held_by=None, held_until=None, updated_at=timezone.now()
    )


Owned = Callable[[list[int]], set[int]]


@transaction.atomic
def put_back_on_sale(
    product_ids: Iterable[int], *, owned: Owned
) -> tuple[list[Product], list[Product]]:
    """Owner action: put sold pieces back on sale, except those someone owns.

    `owned(ids)` is asked under the lock which of these pieces must stay sold: the
    orders' side knows which pieces a paid order owns. Returns (put back, refused).
    """
    products = lock_products(product_ids)
    kept = owned([p.pk for p in products])
    allowed = [p.pk for p in products if p.pk not in kept]
    Product.objects.filter(pk__in=allowed).update(
        in_stock=True, held_by=None, held_until=None, updated_at=timezone.now()
    )
    return (
        [p for p in products if p.pk not in kept],
        [p for p in products if p.pk in kept],
    )


@transaction.atomic
def withdraw_from_sale(product_ids: Iterable[int]) -> int:
    """Owner action: mark pieces sold outside the shop (a sale in person, a gift)."""
    products = lock_products(product_ids)
    return mark_sold(p.pk for p in products)


@dataclass(frozen=True)
class PieceOwners:
    """What the side that sells pieces says of them, for the catalogue's admin: `owned(ids)`,
    the pieces among these that a paid order owns (they must stay sold), and its own
    `put_back_on_sale(product_ids=...)`, which also lets the past sales of the pieces put
    back go. payments registers its own at start-up (payments/apps.py)."""

    owned: Owned
    put_back_on_sale: Callable[..., tuple[list[Product], list[Product]]]


def _nobody_owns(product_ids: list[int]) -> set[int]:
    return set()


def _put_back_owned_by_nobody(*, product_ids: Iterable[int]) -> tuple[list[Product], list[Product]]:
    return put_back_on_sale(product_ids, owned=_nobody_owns)


_piece_owners = [PieceOwners(owned=_nobody_owns, put_back_on_sale=_put_back_owned_by_nobody)]


def register_piece_owners(owners: PieceOwners) -> None:
    """Say who owns sold pieces (called once, by the app that sells them, at start-up)."""
    _piece_owners[0] = owners


def piece_owners() -> PieceOwners:
    """Who owns sold pieces: the registered side, or nobody when none is."""
    return _piece_owners[0]
