"""What sending an order costs, decided at Commander (SPEC §4, §7) and shown by the cart.

Pure: it reads settings and nothing else, so that a page showing a total (the cart) loads
neither the services nor the Stripe SDK.
"""

from decimal import Decimal

from django.conf import settings

ZERO = Decimal("0.00")
FREE_SHIPPING_LABEL = "Livraison offerte"
SHIPPING_LABEL = "Livraison"


def shipping_cost_for(items_total: Decimal) -> Decimal:
    """`SHIPPING_FLAT_EUR`, or nothing when the pieces reach `SHIPPING_FREE_ABOVE_EUR`
    (0 disables that threshold; a flat rate of 0 makes shipping always free)."""
    flat = settings.SHIPPING_FLAT_EUR
    free_above = settings.SHIPPING_FREE_ABOVE_EUR
    if flat <= 0 or (free_above > 0 and items_total >= free_above):
        return ZERO
    return flat


def shipping_label(cost: Decimal) -> str:
    """The shipping option's name, as Checkout and the shop's pages show it."""
    return SHIPPING_LABEL if cost > 0 else FREE_SHIPPING_LABEL
