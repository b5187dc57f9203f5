"""What sending an order costs: the one rule, from settings only (SPEC §4, §7).

In the base layer (docs/decisions/0010-where-things-live.md): Commander charges it
(payments/pricing.py), the cart page shows it, and the catalogue tells search engines and
the product feed what a piece costs to ship (products/seo.py, products/feed.py), which must
be what Commander would charge.
"""

from decimal import Decimal

from django.conf import settings

ZERO = Decimal("0.00")


def shipping_cost_for(items_total: Decimal) -> Decimal:
    """`SHIPPING_FLAT_EUR`, or nothing when the pieces reach `SHIPPING_FREE_ABOVE_EUR`
    (0 disables that threshold; a flat rate of 0 makes shipping always free)."""
    flat = settings.SHIPPING_FLAT_EUR
    free_above = settings.SHIPPING_FREE_ABOVE_EUR
    if flat <= 0 or (free_above > 0 and items_total >= free_above):
        return ZERO
    return flat
