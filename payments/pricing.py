"""What sending an order costs, decided at Commander (SPEC §4, §7) and shown by the cart.

Pure: it reads settings and nothing else, so that a page showing a total (the cart) loads
neither the services nor the Stripe SDK.
"""

from decimal import Decimal

# The rule itself lives in the base layer: the catalogue shows it to search engines too.
from shop.shipping import shipping_cost_for

__all__ = ["FREE_SHIPPING_LABEL", "SHIPPING_LABEL", "shipping_cost_for", "shipping_label"]

FREE_SHIPPING_LABEL = "Livraison offerte"
SHIPPING_LABEL = "Livraison"


def shipping_label(cost: Decimal) -> str:
    """The shipping option's name, as Checkout and the shop's pages show it."""
    return SHIPPING_LABEL if cost > 0 else FREE_SHIPPING_LABEL
