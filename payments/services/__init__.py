"""Order life cycle (SPEC §7), one module per stage, each readable on its own:

- `locking`: every lock the shop takes, in its one order, and the after-commit hook;
- `checkout`: Commander holds the cart's pieces and opens a Checkout Session;
- `release`: an unpaid order ends (cancelled, expired, failed) and gives its pieces back;
- `payment`: a payment sells the pieces, once, whatever the event and its order;
- `refunds`: a paid order is refunded (a conflict, a wrong amount, the owner's decision,
  in full or in part);
- `documents`: invoices and credit notes, issued in the sale's or the refund's transaction;
- `stripe_calls`: the calls to Stripe decided in a transaction, made after its commit;
- `stripe_objects`: what a Checkout Session or a PaymentIntent from Stripe says is applied;
- `shipping`: the shipment of a paid order, and its delivery;
- `withdrawal`: the buyer's online withdrawal, recorded and acknowledged once;
- `mail`: the senders of the outbox's e-mails (payments/outbox.py queues them).

Services write; reads are in payments/selectors.py, errors in payments/exceptions.py, what
Stripe's objects say in payments/stripe_shapes.py, prices in payments/pricing.py.
Callers use the names below: `services.start_checkout(...)`. Every service takes
keyword-only arguments, but the handlers of Stripe objects (`apply_*`,
`expire_lost_session`), which take the object.
"""

from payments.services.checkout import start_checkout, unsign_cancel_reference
from payments.services.payment import mark_order_paid, mark_order_processing
from payments.services.refunds import (
    RefundDone,
    put_back_on_sale,
    refund_paid_order,
    refund_paid_orders,
    refund_sale,
)
from payments.services.release import cancel_order, release_leftover_holds, release_order
from payments.services.shipping import (
    delivery_refusal,
    mark_delivered,
    mark_orders_delivered,
    ship_order,
    update_tracking,
)
from payments.services.stripe_calls import (
    expire_session_now,
    refund_now,
    retry_pending_stripe_calls,
    send_pending_stripe_calls,
)
from payments.services.stripe_objects import (
    apply_async_payment_failed,
    apply_checkout_session,
    apply_payment_intent_succeeded,
    expire_lost_session,
    sync_checkout_session,
)
from payments.services.withdrawal import withdraw

__all__ = [
    "RefundDone",
    "apply_async_payment_failed",
    "apply_checkout_session",
    "apply_payment_intent_succeeded",
    "cancel_order",
    "delivery_refusal",
    "expire_lost_session",
    "expire_session_now",
    "mark_delivered",
    "mark_order_paid",
    "mark_order_processing",
    "mark_orders_delivered",
    "put_back_on_sale",
    "refund_now",
    "refund_paid_order",
    "refund_paid_orders",
    "refund_sale",
    "release_leftover_holds",
    "release_order",
    "retry_pending_stripe_calls",
    "send_pending_stripe_calls",
    "ship_order",
    "start_checkout",
    "sync_checkout_session",
    "unsign_cancel_reference",
    "update_tracking",
    "withdraw",
]
