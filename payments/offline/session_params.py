"""The parameters of `POST /v1/checkout/sessions`, checked as Stripe checks them and
turned into the fields of a `CheckoutSession` row; and the `expand` of the session calls.

Each error names the parameter at fault the way Stripe does (`line_items[0][quantity]`),
so that stripe-python raises what the real API would have raised.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from payments.offline import params as p
from payments.offline.errors import invalid
from payments.offline.models import new_id
from payments.offline.objects import SESSION_EXPANDABLE

MAX_AMOUNT = 99_999_999  # Stripe's ceiling for one payment in EUR, in cents
MAX_SESSION_SECONDS = 24 * 60 * 60

SESSION_CREATE_PARAMS = {
    "cancel_url",
    "client_reference_id",
    "currency",
    "customer_email",
    "expand",
    "expires_at",
    "line_items",
    "locale",
    "metadata",
    "mode",
    "payment_intent_data",
    "phone_number_collection",
    "shipping_address_collection",
    "shipping_options",
    "success_url",
    # Accepted and without effect here (they only change the look of Stripe's page):
    "allow_promotion_codes",
    "billing_address_collection",
    "customer_creation",
    "custom_text",
    "payment_method_types",
    "submit_type",
    "ui_mode",
}
PAYMENT_INTENT_DATA_PARAMS = {
    "description",
    "metadata",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
}
LINE_ITEM_PARAMS = {"metadata", "price_data", "quantity"}
PRICE_DATA_PARAMS = {"currency", "product_data", "tax_behavior", "unit_amount"}
PRODUCT_DATA_PARAMS = {"description", "images", "metadata", "name", "tax_code"}
MAX_SHIPPING_OPTIONS = 5
SHIPPING_RATE_DATA_PARAMS = {
    "delivery_estimate",
    "display_name",
    "fixed_amount",
    "metadata",
    "tax_behavior",
    "tax_code",
    "type",
}


def session_fields(params: Mapping[str, Any], *, created: int) -> dict[str, Any]:
    """The new session's fields, or Stripe's error for the first parameter that is wrong
    (the caller has already refused those not in `SESSION_CREATE_PARAMS`)."""
    mode = p.get_str(params, "mode", param="mode", required=True)
    if mode != "payment":
        raise invalid(
            f"The offline Stripe server only supports mode=payment, not {mode!r}.", param="mode"
        )
    if params.get("ui_mode", "hosted") != "hosted":
        raise invalid("The offline Stripe server only supports ui_mode=hosted.", param="ui_mode")
    lines = _line_items(params)
    currency = _currency(params, lines)
    amount = _amount(lines)
    expires_at = _expires_at(params, created=created)
    intent_data = _payment_intent_data(params)
    shipping_options = _shipping_options(params, currency=currency, created=created)
    shipping = shipping_options[0]["shipping_amount"] if shipping_options else 0
    if amount + shipping > MAX_AMOUNT:
        raise invalid(
            f"Amount must be no more than {MAX_AMOUNT} (in the currency's smallest unit).",
            param="shipping_options",
            code="amount_too_large",
        )
    return {
        "mode": mode,
        "currency": currency,
        "amount_subtotal": amount,
        "amount_total": amount + shipping,
        "line_items": lines,
        "success_url": _url(params, "success_url", required=True),
        "cancel_url": _url(params, "cancel_url"),
        "client_reference_id": p.get_str(
            params, "client_reference_id", param="client_reference_id", max_length=200
        ),
        "customer_email": p.get_str(params, "customer_email", param="customer_email"),
        "shipping_address_collection": _shipping_collection(params),
        "phone_number_collection": _phone_collection(params),
        "shipping_options": shipping_options,
        "metadata": p.get_metadata(params),
        "payment_intent_data": intent_data,
        "locale": p.get_str(params, "locale", param="locale", max_length=16),
        "created": created,
        "expires_at": expires_at,
    }


def session_expand(params: Mapping[str, Any]) -> list[str]:
    expand = p.get_expand(params)
    for item in expand:
        if item not in SESSION_EXPANDABLE:
            raise invalid(
                f"This property cannot be expanded ({item}). The offline Stripe server expands: "
                f"{', '.join(sorted(SESSION_EXPANDABLE))}.",
                param="expand",
            )
    return expand


def session_list_expand(params: Mapping[str, Any]) -> list[str]:
    """A list expands each session's fields under `data.`; returns them without the prefix."""
    requested = p.get_expand(params)
    expand = [item.removeprefix("data.") for item in requested]
    if any(not item.startswith("data.") for item in requested) or not set(expand).issubset(
        SESSION_EXPANDABLE
    ):
        raise invalid(
            "This property cannot be expanded: a list expands data.line_items, "
            "data.payment_intent.",
            param="expand",
        )
    return expand


def _currency(params: Mapping[str, Any], lines: list[dict[str, Any]]) -> str:
    """The one currency of all lines (and of `currency`, if given)."""
    currency = lines[0]["currency"]
    requested = p.get_str(params, "currency", param="currency")
    if any(line["currency"] != currency for line in lines) or (
        requested and requested.lower() != currency
    ):
        raise invalid("All line items must use the same currency.", param="line_items")
    return currency


def _amount(lines: list[dict[str, Any]]) -> int:
    amount = sum(line["unit_amount"] * line["quantity"] for line in lines)
    if amount > MAX_AMOUNT:
        raise invalid(
            f"Amount must be no more than {MAX_AMOUNT} (in the currency's smallest unit).",
            param="line_items",
            code="amount_too_large",
        )
    return amount


def _expires_at(params: Mapping[str, Any], *, created: int) -> int:
    expires_at = p.get_int(params, "expires_at", param="expires_at")
    if expires_at is None:
        return created + MAX_SESSION_SECONDS
    if expires_at <= created:
        # Stripe also asks for 30 minutes at least; not here, so tests can use short holds.
        raise invalid("The `expires_at` timestamp must be in the future.", param="expires_at")
    if expires_at > created + MAX_SESSION_SECONDS:
        raise invalid(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    return expires_at


def _payment_intent_data(params: Mapping[str, Any]) -> dict[str, Any]:
    """What the PaymentIntent created at payment will carry (`metadata` cleaned)."""
    data = p.get_dict(params, "payment_intent_data", param="payment_intent_data")
    p.reject_unknown(data, PAYMENT_INTENT_DATA_PARAMS, where="payment_intent_data")
    return {**data, "metadata": p.get_metadata(data, param="payment_intent_data[metadata]")}


def _line_items(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = p.get_list(params, "line_items", param="line_items")
    if not items:
        raise invalid(
            "You must provide at least one line item in payment mode.",
            param="line_items",
            code="parameter_missing",
        )
    if len(items) > 100:
        raise invalid("A Checkout Session has at most 100 line items.", param="line_items")
    return [_line_item(item, where=p.path("line_items", index)) for index, item in enumerate(items)]


def _line_item(item: Any, *, where: str) -> dict[str, Any]:
    """One `line_items[i]`, as `CheckoutSession.line_items` keeps it."""
    if not isinstance(item, dict):
        raise invalid(f"Invalid hash: {where}", param=where)
    if "price" in item:
        raise invalid(
            "The offline Stripe server has no Prices: give price_data instead.",
            param=f"{where}[price]",
        )
    p.reject_unknown(item, LINE_ITEM_PARAMS, where=where)
    quantity = p.get_int(item, "quantity", param=f"{where}[quantity]", required=True, minimum=1)
    price_where = f"{where}[price_data]"
    price_data = p.get_dict(item, "price_data", param=price_where)
    if not price_data:
        raise p.missing_param(price_where)
    p.reject_unknown(price_data, PRICE_DATA_PARAMS, where=price_where)
    currency = p.get_str(
        price_data, "currency", param=f"{price_where}[currency]", required=True
    ).lower()
    if len(currency) != 3 or not currency.isalpha():
        raise invalid(f"Invalid currency: {currency}", param=f"{price_where}[currency]")
    unit_amount = p.get_int(
        price_data, "unit_amount", param=f"{price_where}[unit_amount]", required=True
    )
    if unit_amount <= 0:
        raise invalid(
            "The unit amount must be greater than 0.", param=f"{price_where}[unit_amount]"
        )
    product = _product_data(price_data, where=f"{price_where}[product_data]")
    return {
        "id": new_id("li"),
        "description": product["name"],
        "quantity": quantity,
        "unit_amount": unit_amount,
        "currency": currency,
        "price_id": new_id("price"),
        "product_id": new_id("prod"),
        "product_data": product,
        "metadata": p.get_metadata(item, param=f"{where}[metadata]"),
    }


def _product_data(price_data: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """`price_data[product_data]`: the offline server has no Products to refer to."""
    product_data = p.get_dict(price_data, "product_data", param=where)
    if not product_data:
        raise invalid(
            f"Missing required param: {where}. The offline Stripe server has no "
            "Products: give product_data.",
            param=where,
            code="parameter_missing",
        )
    p.reject_unknown(product_data, PRODUCT_DATA_PARAMS, where=where)
    return {
        "name": p.get_str(product_data, "name", param=f"{where}[name]", required=True),
        "description": product_data.get("description"),
        "images": p.get_list(product_data, "images", param=f"{where}[images]"),
        "metadata": p.get_metadata(product_data, param=f"{where}[metadata]"),
    }


def _url(params: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = p.get_str(params, key, param=key, required=required, max_length=5000)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise invalid("Not a valid URL", param=key, code="url_invalid")
    return value


def _shipping_collection(params: Mapping[str, Any]) -> dict[str, Any] | None:
    collection = p.get_dict(
        params, "shipping_address_collection", param="shipping_address_collection"
    )
    if not collection:
        return None
    where = "shipping_address_collection[allowed_countries]"
    p.reject_unknown(collection, {"allowed_countries"}, where="shipping_address_collection")
    countries = p.get_list(collection, "allowed_countries", param=where)
    if not countries or not all(isinstance(c, str) and len(c) == 2 for c in countries):
        raise invalid(f"Missing or invalid param: {where}.", param=where)
    return {"allowed_countries": [c.upper() for c in countries]}


def _phone_collection(params: Mapping[str, Any]) -> bool:
    collection = p.get_dict(params, "phone_number_collection", param="phone_number_collection")
    p.reject_unknown(collection, {"enabled"}, where="phone_number_collection")
    if not collection:
        return False
    return p.get_bool(
        collection, "enabled", param="phone_number_collection[enabled]", required=True
    )


def _shipping_options(
    params: Mapping[str, Any], *, currency: str, created: int
) -> list[dict[str, Any]]:
    """`shipping_options[i][shipping_rate_data]`: inline fixed-amount rates, each made into a
    shipping rate as Stripe does (the offline server has no saved `shipping_rate` to name)."""
    options = p.get_list(params, "shipping_options", param="shipping_options")
    if len(options) > MAX_SHIPPING_OPTIONS:
        raise invalid(
            f"A Checkout Session has at most {MAX_SHIPPING_OPTIONS} shipping options.",
            param="shipping_options",
        )
    return [
        _shipping_option(
            option, where=p.path("shipping_options", index), currency=currency, created=created
        )
        for index, option in enumerate(options)
    ]


def _shipping_option(option: Any, *, where: str, currency: str, created: int) -> dict[str, Any]:
    if not isinstance(option, dict):
        raise invalid(f"Invalid hash: {where}", param=where)
    if "shipping_rate" in option:
        raise invalid(
            "The offline Stripe server has no saved Shipping Rates: give shipping_rate_data "
            "instead.",
            param=f"{where}[shipping_rate]",
        )
    p.reject_unknown(option, {"shipping_rate_data"}, where=where)
    data_where = f"{where}[shipping_rate_data]"
    data = p.get_dict(option, "shipping_rate_data", param=data_where)
    if not data:
        raise p.missing_param(data_where)
    p.reject_unknown(data, SHIPPING_RATE_DATA_PARAMS, where=data_where)
    rate_type = p.get_str(data, "type", param=f"{data_where}[type]") or "fixed_amount"
    if rate_type != "fixed_amount":
        raise invalid(f"Invalid type: {rate_type}", param=f"{data_where}[type]")
    name = p.get_str(
        data, "display_name", param=f"{data_where}[display_name]", required=True, max_length=100
    )
    fixed_where = f"{data_where}[fixed_amount]"
    fixed = p.get_dict(data, "fixed_amount", param=fixed_where)
    if not fixed:
        raise p.missing_param(fixed_where)
    p.reject_unknown(fixed, {"amount", "currency"}, where=fixed_where)
    amount = p.get_int(fixed, "amount", param=f"{fixed_where}[amount]", required=True, minimum=0)
    rate_currency = p.get_str(
        fixed, "currency", param=f"{fixed_where}[currency]", required=True
    ).lower()
    if rate_currency != currency:
        raise invalid(
            "The shipping rate's currency must be the currency of the line items.",
            param=f"{fixed_where}[currency]",
        )
    rate = {
        "id": new_id("shr"),
        "object": "shipping_rate",
        "active": True,
        "created": created,
        "delivery_estimate": None,
        "display_name": name,
        "fixed_amount": {"amount": amount, "currency": rate_currency},
        "livemode": False,
        "metadata": p.get_metadata(data, param=f"{data_where}[metadata]"),
        "tax_behavior": p.get_str(data, "tax_behavior", param=f"{data_where}[tax_behavior]")
        or "unspecified",
        "tax_code": None,
        "type": "fixed_amount",
    }
    return {"shipping_amount": amount, "shipping_rate": rate}
