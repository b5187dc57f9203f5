from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest

from cart.cart import SHOPPER_KEY, Cart
from payments.models import Order, OrderItem
from payments.pricing import shipping_cost_for
from products.models import Product, StockStatus


@dataclass(frozen=True)
class CartLine:
    product: Product
    held_by_me: bool

    @property
    def blocked(self) -> bool:
        """Sold, or being paid for by someone else: it cannot be ordered now."""
        status = self.product.status
        return status == StockStatus.SOLD or (
            status == StockStatus.RESERVED and not self.held_by_me
        )


@dataclass(frozen=True)
class CartSummary:
    lines: list[CartLine]

    @property
    def total(self) -> Decimal:
        return sum((line.product.price for line in self.lines), Decimal("0.00"))

    @property
    def shipping(self) -> Decimal:
        """What shipping will cost, decided as Commander decides it."""
        return shipping_cost_for(self.total)

    @property
    def grand_total(self) -> Decimal:
        return self.total + self.shipping

    @property
    def free_shipping_from(self) -> Decimal | None:
        """The total of pieces from which shipping is free, while it is not yet."""
        threshold = settings.SHIPPING_FREE_ABOVE_EUR
        return threshold if self.shipping and threshold > 0 else None

    @property
    def blocked(self) -> bool:
        return any(line.blocked for line in self.lines)

    def __len__(self) -> int:
        return len(self.lines)


def cart_summary(request: HttpRequest) -> CartSummary:
    """The cart's pieces with their current status, in the order they were added.

    Pieces that no longer exist, that this shopper has bought, or that they are paying by a
    delayed method (a SEPA debit waiting for the bank holds them), leave the cart.
    """
    cart = Cart(request.session)
    shopper = request.session.get(SHOPPER_KEY)
    products = {
        p.pk: p
        for p in Product.objects.with_status()
        .filter(pk__in=cart.product_ids)
        .annotate(holder=F("held_by__shopper_id"), holder_status=F("held_by__status"))
    }
    paying = [
        pk
        for pk, p in products.items()
        if shopper and p.holder == shopper and p.holder_status == Order.Status.PROCESSING
    ]
    for pk in paying:
        del products[pk]
    sold_ids = [pk for pk, p in products.items() if p.status == StockStatus.SOLD]
    if sold_ids and shopper:
        bought = OrderItem.objects.filter(
            product_id__in=sold_ids, sold=True, order__shopper_id=shopper
        ).values_list("product_id", flat=True)
        for pk in bought:
            del products[pk]
    cart.keep_only(set(products))
    lines = [
        CartLine(
            product=products[pk],
            held_by_me=bool(shopper) and products[pk].holder == shopper,
        )
        for pk in cart.product_ids
    ]
    return CartSummary(lines=lines)
