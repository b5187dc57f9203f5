"""The errors of payments, in one place: raised by its services, its webhook and its Stripe
boundary (payments/stripe_client.py), turned into French messages or HTTP answers by the
views, the admin and the commands."""

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from products.models import Product


# --- Commander ------------------------------------------------------------------------------


class CheckoutError(Exception):
    """Checkout cannot start; `message` is for the shopper, in French."""

    def __init__(self, message: str, *, unavailable: Iterable["Product"] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.unavailable = list(unavailable)


class CheckoutLimitReached(Exception):
    """The client address already has its share of open checkouts (answered 429)."""

    def __init__(self, *, open_checkouts: int, limit: int) -> None:
        super().__init__(f"{open_checkouts} open checkouts, limit {limit}")
        self.open_checkouts = open_checkouts
        self.limit = limit

    @property
    def hold_minutes(self) -> int:
        """How long an open checkout keeps its pieces, for the shopper's page."""
        return settings.CHECKOUT_HOLD_MINUTES


# --- Orders ---------------------------------------------------------------------------------


class UnknownOrder(Exception):
    """A Stripe object that names no order of this shop."""


class ShipmentRefused(Exception):
    """The shipment, its tracking or its delivery cannot be recorded as asked; `message` is
    for the owner, in French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RefundRefused(Exception):
    """The refund cannot be made as asked (not a sale, more than what is left); `message` is
    for the owner, in French. Nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IssuedDocumentChanged(Exception):
    """An attempt to change or delete an issued invoice or credit note (CGI art. 242 nonies A:
    numbered once, kept as issued). PostgreSQL refuses it too (a trigger on their tables)."""


class WithdrawalRefused(Exception):
    """A withdrawal that cannot be recorded (SPEC §12); nothing was recorded or sent.

    `reason` is one of the constants below. `NO_MATCH` is the same for an unknown reference
    and for a known one with another e-mail: the page must not tell them apart. The others
    name an order whose reference and e-mail matched: `closes_on` is the last day of the
    period for `CLOSED`."""

    NO_MATCH = "no-match"
    NOT_PAID = "not-paid"
    REFUNDED = "refunded"
    CLOSED = "closed"

    def __init__(self, reason: str, *, reference: str = "", closes_on: date | None = None):
        super().__init__(f"withdrawal refused: {reason}")
        self.reason = reason
        self.reference = reference
        self.closes_on = closes_on


# --- Stripe ---------------------------------------------------------------------------------


class StripeUnavailable(Exception):
    """Stripe could not be reached or refused the call; nothing is known to have happened."""


class StripeRejected(StripeUnavailable):
    """Stripe answered and refused the request (a 4xx): sending it again will not help."""


class InvalidSignature(Exception):
    """A webhook body whose `Stripe-Signature` does not verify."""


class WebhookRejected(Exception):
    """A body or header that is not a verified Stripe event; the message says why."""
