"""Refunds (SPEC §5, §7, §12; docs/decisions/0016): a payment the shop cannot honour (a piece
already sold, a wrong amount) is refunded in full in the transaction that finds it; the
owner refunds a sale, in full or in part, from the admin's confirmation page.

Each refund is a `Refund` row, decided under the order's lock (the sum of an order's refunds
never exceeds what was paid), and reaches Stripe after commit (`stripe_calls.refund_now`).
A refund of a sale issues its credit note in the same transaction; a payment that never
became a sale issues none (it has no invoice). The order stays `paid` while part of the
payment is kept, and becomes `refunded` (`refund_reason` = `admin`) with the refund that
gives back the rest.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from payments import notifications
from payments.exceptions import RefundRefused
from payments.models import Invoice, Order, OrderItem, Refund
from payments.selectors import sold_to_paid_order
from payments.services.documents import issue_credit_note
from payments.services.locking import after_commit, lock_order
from payments.services.stripe_calls import refund_now
from products import stock
from products.models import Product
from products.templatetags.money import euros

logger = logging.getLogger(__name__)


def paid_amount(order: Order) -> Decimal:
    """What the buyer paid: what Stripe reported, else the order's total."""
    return order.amount_received if order.amount_received is not None else order.total


def refundable(order: Order) -> Decimal:
    """What is left to refund of the order's payment (read again under the order's lock
    before deciding)."""
    refunded = order.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    return max(paid_amount(order) - refunded, Decimal("0.00"))


def refund_in_transaction(order: Order, products: list[Product], *, reason: str) -> str:
    """Inside the transaction that locked them: refund a payment the shop cannot honour (a
    piece already sold, a wrong amount) in full and release the order's holds. The payment
    never became a sale: no invoice, no credit note."""
    stock.release_holds(products, order_id=order.pk)
    order.status = Order.Status.REFUNDED
    order.refund_reason = reason
    order.refund_pending = bool(order.stripe_payment_intent_id)
    order.save()
    Refund.objects.create(
        order=order,
        amount=paid_amount(order),
        reason=reason,
        created_at=timezone.now(),
        idempotency_key=f"order-{order.reference}-refund",
    )
    after_commit(refund_now, order.pk)
    notifications.refund(order=order, to_owner=True)
    logger.error("Paid order refunded automatically (%s)", reason, extra={"order": order.reference})
    return f"refunded ({reason})"


@dataclass(frozen=True)
class RefundDone:
    refund: Refund
    order: Order
    credit_note_number: str
    put_back: list[Product]

    @property
    def closed(self) -> bool:
        """Whether this refund gave back the rest: the order is now `refunded`."""
        return self.order.status == Order.Status.REFUNDED


def refund_sale(
    *,
    order_id: int,
    amount: Decimal | None = None,
    note: str = "",
    put_back_product_ids: Iterable[int] = (),
) -> RefundDone:
    """The owner refunds a sale: `amount` (all that is left when None), for the reason
    `note`, putting these of its pieces back on sale. Under the order's lock: refused
    (RefundRefused, nothing changed) when the order is no sale or the amount is more than
    what is left. Issues the refund's credit note; the refund reaches Stripe after commit,
    and the buyer gets an e-mail with the credit note."""
    with transaction.atomic():
        order, products, _ = lock_order(order_id)
        if order.status != Order.Status.PAID:
            raise RefundRefused(
                f"La commande {order.reference} n'est pas une vente en cours "
                f"({order.get_status_display().lower()}) : rien n'est remboursé."
            )
        left = refundable(order)
        amount = left if amount is None else Decimal(amount).quantize(Decimal("0.01"))
        if amount <= 0:
            raise RefundRefused("Le montant à rembourser doit être supérieur à 0,00 €.")
        if amount > left:
            raise RefundRefused(
                f"{euros(amount)} dépasse ce qu'il reste à rembourser sur la commande "
                f"{order.reference} ({euros(left)}) : rien n'est remboursé."
            )
        own = {p.pk for p in products}
        back_ids = [pk for pk in put_back_product_ids if pk in own]
        put_back: list[Product] = []
        if back_ids:
            OrderItem.objects.filter(order=order, product_id__in=back_ids).update(sold=False)
            put_back, _ = stock.put_back_on_sale(back_ids, owned=sold_to_paid_order)
        now = timezone.now()
        number = order.refunds.count() + 1
        refund = Refund.objects.create(
            order=order,
            amount=amount,
            reason=Order.RefundReason.ADMIN,
            note=note.strip()[:255],
            put_back_on_sale=bool(put_back),
            partial=amount < left,
            created_at=now,
            idempotency_key=f"order-{order.reference}-refund-{number}",
        )
        fields = ["refund_pending", "updated_at"]
        if amount == left:
            order.status = Order.Status.REFUNDED
            order.refund_reason = Order.RefundReason.ADMIN
            fields += ["status", "refund_reason"]
        order.refund_pending = bool(order.stripe_payment_intent_id)
        order.save(update_fields=fields)
        invoice = Invoice.objects.filter(order=order).first()
        credit_note = None
        if invoice is not None:
            # The credit notes' counter stays locked from here to the commit: only the
            # e-mail's row is written after it (refunds are rare; its number is in the mail).
            credit_note = issue_credit_note(refund=refund, invoice=invoice, at=now)
        notifications.refund(order=order, to_owner=False, refund=refund, credit_note=credit_note)
        after_commit(refund_now, order.pk)
    logger.info(
        "Refund decided: %s of %s", amount, order.reference, extra={"order": order.reference}
    )
    return RefundDone(
        refund=refund,
        order=order,
        credit_note_number=credit_note.number if credit_note else "",
        put_back=put_back,
    )


def refund_paid_order(*, order_id: int, put_back_on_sale: bool) -> str:
    """Refund all that is left of a sale and, if asked, put all its pieces back on sale (the
    orders list's actions). Returns what was done."""
    product_ids = []
    if put_back_on_sale:
        product_ids = list(
            OrderItem.objects.filter(order_id=order_id).values_list("product_id", flat=True)
        )
    try:
        refund_sale(order_id=order_id, put_back_product_ids=product_ids)
    except RefundRefused:
        status = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
        return f"unchanged ({status})"
    return "refunded (admin)"


def refund_paid_orders(
    *, orders: QuerySet[Order], put_back_on_sale: bool
) -> tuple[list[str], list[str], list[str]]:
    """Owner action on several orders: refund all that is left of each sale
    (`refund_paid_order`), each in its own transaction. Returns the references refunded,
    those left alone (not paid), and those refunded whose refund Stripe has not taken yet
    (flagged: reconcile retries it)."""
    refunded, skipped, pending = [], [], []
    for order_id, reference in orders.values_list("pk", "reference"):
        outcome = refund_paid_order(order_id=order_id, put_back_on_sale=put_back_on_sale)
        if not outcome.startswith("refunded"):
            skipped.append(reference)
            continue
        refunded.append(reference)
        # The refund reaches Stripe after the commit; a refused call leaves the flag up.
        if Order.objects.filter(pk=order_id, refund_pending=True).exists():
            pending.append(reference)
    return refunded, skipped, pending


@transaction.atomic
def put_back_on_sale(*, product_ids: Iterable[int]) -> tuple[list[Product], list[Product]]:
    """Owner action: put sold pieces back on sale, except those a paid order owns.

    The items of refunded orders let go of the pieces put back, so that they can sell
    again under the single-sale constraint. Returns (put back, refused).
    """
    done, refused = stock.put_back_on_sale(product_ids, owned=sold_to_paid_order)
    OrderItem.objects.filter(product_id__in=[p.pk for p in done], sold=True).update(sold=False)
    return done, refused
