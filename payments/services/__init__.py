"""Order life cycle (SPEC §7), one module per stage, each readable on its own:

- `locking`: the lock order every transition follows, and the after-commit hook;
- `checkout`: Commander holds the cart's pieces and opens a Checkout Session;
- `release`: an unpaid order ends (cancelled, expired, failed) and gives its pieces back;
- `payment`: a payment sells the pieces, once, whatever the event and its order;
- `refunds`: a paid order is refunded (a conflict, a wrong amount, the owner's decision);
- `stripe_calls`: the calls to Stripe decided in a transaction, made after its commit;
- `stripe_objects`: what a Checkout Session or a PaymentIntent from Stripe says is applied;
- `shipping`: what shipping costs, and the shipment of a paid order.

Callers use the names below: `services.start_checkout(...)`.
"""

from payments.services.checkout import CheckoutError, start_checkout, unsign_cancel_reference
from payments.services.payment import (
    Payment,
    UnknownOrder,
    find_order,
    mark_order_paid,
    mark_order_processing,
    order_reference_of,
)
from payments.services.refunds import put_back_on_sale, refund_paid_order, sold_to_paid_order
from payments.services.release import cancel_order, release_leftover_holds, release_order
from payments.services.shipping import (
    ShipmentRefused,
    ship_order,
    shipping_cost_for,
    update_tracking,
)
from payments.services.stripe_calls import (
    expire_session_now,
    refund_now,
    send_pending_stripe_calls,
)
from payments.services.stripe_objects import (
    apply_async_payment_failed,
    apply_checkout_session,
    apply_payment_intent_succeeded,
    expire_lost_session,
    sync_checkout_session,
)

__all__ = [
    "CheckoutError",
    "Payment",
    "ShipmentRefused",
    "UnknownOrder",
    "apply_async_payment_failed",
    "apply_checkout_session",
    "apply_payment_intent_succeeded",
    "cancel_order",
    "expire_lost_session",
    "expire_session_now",
    "find_order",
    "mark_order_paid",
    "mark_order_processing",
    "order_reference_of",
    "put_back_on_sale",
    "refund_now",
    "refund_paid_order",
    "release_leftover_holds",
    "release_order",
    "send_pending_stripe_calls",
    "ship_order",
    "shipping_cost_for",
    "start_checkout",
    "sold_to_paid_order",
    "sync_checkout_session",
    "unsign_cancel_reference",
    "update_tracking",
]
