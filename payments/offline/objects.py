"""The offline rows as Stripe API objects (the JSON the stripe library reads back)."""

from collections.abc import Collection
from typing import Any

from payments.offline.models import CheckoutSession, PaymentIntent, Refund

SESSION_EXPANDABLE = frozenset({"line_items", "line_items.data.price.product", "payment_intent"})


def list_object(data: list[dict[str, Any]], *, url: str, has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def session_object(session: CheckoutSession, *, expand: Collection[str] = ()) -> dict[str, Any]:
    is_open = session.status == CheckoutSession.Status.OPEN
    payment_intent: Any = session.payment_intent.stripe_id if session.payment_intent else None
    if "payment_intent" in expand and session.payment_intent:
        payment_intent = payment_intent_object(session.payment_intent)
    obj: dict[str, Any] = {
        "id": session.stripe_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": session.amount_subtotal,
        "amount_total": session.amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id,
        "collected_information": {
            "business_name": None,
            "individual_name": None,
            "shipping_details": session.shipping_details,
        },
        "created": session.created,
        "currency": session.currency,
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": session.customer_details,
        "customer_email": session.customer_email,
        "expires_at": session.expires_at,
        "invoice": None,
        "livemode": False,
        "locale": session.locale,
        "metadata": session.metadata,
        "mode": session.mode,
        "payment_intent": payment_intent,
        "payment_method_types": ["card", "sepa_debit"],
        "payment_status": session.payment_status,
        "shipping_address_collection": session.shipping_address_collection,
        "status": session.status,
        "submit_type": None,
        "success_url": session.success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        # Stripe only gives the hosted page's URL while the session can still be paid.
        "url": session.url if is_open else None,
    }
    if "line_items" in expand or "line_items.data.price.product" in expand:
        obj["line_items"] = line_items_list(
            session, expand_product="line_items.data.price.product" in expand
        )
    return obj


def line_items_list(session: CheckoutSession, *, expand_product: bool = False) -> dict[str, Any]:
    items = [
        _line_item(session, line, expand_product=expand_product) for line in session.line_items
    ]
    return list_object(
        items, url=f"/v1/checkout/sessions/{session.stripe_id}/line_items", has_more=False
    )


def _line_item(session: CheckoutSession, line: dict[str, Any], *, expand_product: bool) -> dict:
    amount = line["unit_amount"] * line["quantity"]
    product_data = line.get("product_data") or {}
    product: Any = line["product_id"]
    if expand_product:
        product = {
            "id": line["product_id"],
            "object": "product",
            "active": True,
            "created": session.created,
            "description": product_data.get("description"),
            "images": product_data.get("images", []),
            "livemode": False,
            "metadata": product_data.get("metadata", {}),
            "name": product_data.get("name"),
        }
    return {
        "id": line["id"],
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": line["currency"],
        "description": line["description"],
        "metadata": line.get("metadata", {}),
        "price": {
            "id": line["price_id"],
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": session.created,
            "currency": line["currency"],
            "livemode": False,
            "metadata": {},
            "product": product,
            "type": "one_time",
            "unit_amount": line["unit_amount"],
            "unit_amount_decimal": str(line["unit_amount"]),
        },
        "quantity": line["quantity"],
    }


def payment_intent_object(intent: PaymentIntent) -> dict[str, Any]:
    failed = intent.status == PaymentIntent.Status.REQUIRES_PAYMENT_METHOD
    return {
        "id": intent.stripe_id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_received": intent.amount_received,
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "created": intent.created,
        "currency": intent.currency,
        "customer": None,
        "description": intent.description,
        "last_payment_error": (
            {
                "type": "invalid_request_error",
                "code": "payment_method_failed",
                "message": "Le virement SEPA simulé a échoué.",
            }
            if failed
            else None
        ),
        "latest_charge": None,
        "livemode": False,
        "metadata": intent.metadata,
        "payment_method_types": [intent.payment_method_type],
        "receipt_email": intent.receipt_email,
        "status": intent.status,
    }


def refund_object(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.stripe_id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": None,
        "charge": None,
        "created": refund.created,
        "currency": refund.currency,
        "destination_details": None,
        "metadata": refund.metadata,
        "payment_intent": refund.payment_intent.stripe_id,
        "reason": refund.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": refund.status,
        "transfer_reversal": None,
    }
