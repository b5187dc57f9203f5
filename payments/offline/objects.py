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
    shipping = session.shipping_options[0] if session.shipping_options else None
    amount_shipping = shipping["shipping_amount"] if shipping else 0
    # Every field of Stripe's Checkout Session (../shared/stripe-fixtures), those the offline
    # server has nothing to say about set to what Stripe answers when they are unused.
    obj: dict[str, Any] = {
        "id": session.stripe_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": session.amount_subtotal,
        "amount_total": session.amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id,
        "client_secret": None,
        "collected_information": {
            "business_name": None,
            "individual_name": None,
            "shipping_details": session.shipping_details,
        },
        "consent": None,
        "consent_collection": None,
        "created": session.created,
        "currency": session.currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_account": None,
        "customer_creation": "if_required",
        "customer_details": session.customer_details,
        "customer_email": session.customer_email,
        "discounts": [],
        "expires_at": session.expires_at,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": session.locale,
        "managed_payments": {"enabled": False},
        "metadata": session.metadata,
        "mode": session.mode,
        "origin_context": None,
        "payment_intent": payment_intent,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card", "sepa_debit"],
        "payment_status": session.payment_status,
        "permissions": None,
        "phone_number_collection": {"enabled": session.phone_number_collection},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": session.shipping_address_collection,
        "shipping_cost": (
            {
                "amount_subtotal": amount_shipping,
                "amount_tax": 0,
                "amount_total": amount_shipping,
                "shipping_rate": shipping["shipping_rate"]["id"],
            }
            if shipping
            else None
        ),
        "shipping_options": [
            {
                "shipping_amount": option["shipping_amount"],
                "shipping_rate": option["shipping_rate"]["id"],
            }
            for option in session.shipping_options
        ],
        "status": session.status,
        "submit_type": None,
        "subscription": None,
        "success_url": session.success_url,
        "total_details": {
            "amount_discount": 0,
            "amount_shipping": amount_shipping,
            "amount_tax": 0,
        },
        "ui_mode": "hosted",
        # Stripe only gives the hosted page's URL while the session can still be paid.
        "url": session.url if is_open else None,
        "wallet_options": None,
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
    session = CheckoutSession.objects.filter(payment_intent=intent).first()
    details = (session.shipping_details if session else None) or None
    phone = ((session.customer_details or {}).get("phone") if session else None) or None
    return {
        "id": intent.stripe_id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": intent.amount_received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent.stripe_id}_secret_offline",
        "confirmation_method": "automatic",
        "created": intent.created,
        "currency": intent.currency,
        "customer": None,
        "customer_account": None,
        "description": intent.description,
        "excluded_payment_method_types": None,
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
        "managed_payments": {"enabled": False},
        "metadata": intent.metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": [intent.payment_method_type],
        "processing": None,
        "receipt_email": intent.receipt_email,
        "review": None,
        "setup_future_usage": None,
        # Checkout copies the shipping details it collected onto the PaymentIntent.
        "shipping": (
            {
                "address": details["address"],
                "carrier": None,
                "name": details["name"],
                "phone": phone,
                "tracking_number": None,
            }
            if details
            else None
        ),
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": intent.status,
        "transfer_data": None,
        "transfer_group": None,
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
        "customer": None,
        "customer_account": None,
        "destination_details": None,
        "metadata": refund.metadata,
        "payment_intent": refund.payment_intent.stripe_id,
        "payment_method": None,
        "reason": refund.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": refund.status,
        "transfer_reversal": None,
    }
