"""PaymentIntents (read only: the hosted page creates them when the shopper pays) and
their refunds, never more in total than the PaymentIntent received."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Sum

from payments.offline import params as p
from payments.offline.errors import invalid, missing
from payments.offline.events import Result
from payments.offline.lists import filter_created, paginate
from payments.offline.models import PaymentIntent, Refund, now
from payments.offline.objects import list_object, payment_intent_object, refund_object

REFUND_CREATE_PARAMS = {
    "amount",
    "expand",
    "instructions_email",
    "metadata",
    "payment_intent",
    "reason",
}
REFUND_LIST_PARAMS = {
    "created",
    "ending_before",
    "expand",
    "limit",
    "payment_intent",
    "starting_after",
}
REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}


def retrieve_payment_intent(intent_id: str, params: Mapping[str, Any]) -> Result:
    p.reject_unknown(params, {"expand"})
    p.reject_expand(params)
    intent = PaymentIntent.objects.filter(stripe_id=intent_id).first()
    if intent is None:
        raise missing("payment_intent", intent_id, param="intent")
    return Result(payment_intent_object(intent))


@transaction.atomic
def create_refund(params: Mapping[str, Any]) -> Result:
    """`POST /v1/refunds`: the whole remaining amount unless `amount` is given. Runs inside
    the idempotency transaction."""
    if "charge" in params:
        raise invalid("The offline Stripe server refunds by payment_intent only.", param="charge")
    p.reject_unknown(params, REFUND_CREATE_PARAMS)
    p.reject_expand(params)
    intent_id = p.get_str(params, "payment_intent", param="payment_intent", required=True)
    intent, remaining = _lock_refundable_intent(intent_id)
    refund = Refund.objects.create(
        payment_intent=intent,
        amount=_refund_amount(params, remaining=remaining),
        currency=intent.currency,
        reason=_refund_reason(params),
        metadata=p.get_metadata(params),
        created=now(),
    )
    return Result(refund_object(refund))


def _lock_refundable_intent(intent_id: str) -> tuple[PaymentIntent, int]:
    """The succeeded PaymentIntent and what is left to refund on it. The row stays locked
    until commit, so that two refunds never exceed what was received."""
    intent = PaymentIntent.objects.select_for_update().filter(stripe_id=intent_id).first()
    if intent is None:
        raise invalid(
            f"No such payment_intent: '{intent_id}'",
            param="payment_intent",
            code="resource_missing",
        )
    if intent.status != PaymentIntent.Status.SUCCEEDED:
        raise invalid(
            f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
            param="payment_intent",
            code="charge_not_refundable",
        )
    refunded = intent.refunds.aggregate(total=Sum("amount"))["total"] or 0
    remaining = intent.amount_received - refunded
    if remaining <= 0:
        raise invalid(
            f"Charge for PaymentIntent {intent_id} has already been refunded.",
            code="charge_already_refunded",
        )
    return intent, remaining


def _refund_amount(params: Mapping[str, Any], *, remaining: int) -> int:
    amount = p.get_int(params, "amount", param="amount", minimum=1)
    if amount is None:
        return remaining
    if amount > remaining:
        raise invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            param="amount",
            code="amount_too_large",
        )
    return amount


def _refund_reason(params: Mapping[str, Any]) -> str | None:
    reason = p.get_str(params, "reason", param="reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise invalid(
            f"Invalid reason: must be one of {', '.join(sorted(REFUND_REASONS))}", param="reason"
        )
    return reason


def list_refunds(params: Mapping[str, Any]) -> Result:
    p.reject_unknown(params, REFUND_LIST_PARAMS)
    p.reject_expand(params)
    refunds = Refund.objects.select_related("payment_intent")
    intent_id = p.get_str(params, "payment_intent", param="payment_intent")
    if intent_id is not None:
        refunds = refunds.filter(payment_intent__stripe_id=intent_id)
    refunds = filter_created(refunds, params)
    page, has_more = paginate(refunds, params, object_name="refund")
    return Result(
        list_object([refund_object(r) for r in page], url="/v1/refunds", has_more=has_more)
    )


def retrieve_refund(refund_id: str, params: Mapping[str, Any]) -> Result:
    p.reject_unknown(params, {"expand"})
    refund = Refund.objects.select_related("payment_intent").filter(stripe_id=refund_id).first()
    if refund is None:
        raise missing("refund", refund_id, param="id")
    return Result(refund_object(refund))
