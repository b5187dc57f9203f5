"""The offline server answers with the shape of Stripe's own objects: every field of Stripe's
published examples (stripe_fixtures/, from Stripe's OpenAPI repository), and for each field
the shop or stripe-python reads, the same JSON type.

The objects are read through the real stripe library over real HTTP, from a session made
with the parameters the shop sends (address and phone collection, one inline shipping rate).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from payments.offline.models import CheckoutSession
from payments.offline.testing import submit_hosted_page
from payments.offline.tests.helpers import verify

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).parent / "stripe_fixtures"

# Fields read by the shop (payments/services, webhooks, reconcile, stripe_client) or by
# stripe-python (`object` picks the class; lists are read by `auto_paging_iter`). Where
# Stripe's example holds null, the type it has when set is given here.
SESSION_READS: dict[str, type | None] = {
    "id": None,
    "object": None,
    "status": None,
    "payment_status": None,
    "mode": None,
    "amount_subtotal": int,
    "amount_total": int,
    "currency": str,
    "created": None,
    "expires_at": None,
    "client_reference_id": str,
    "metadata": None,
    "payment_intent": None,
    "customer_email": str,
    "customer_details": None,
    "customer_details.email": None,
    "customer_details.phone": str,
    "customer_details.name": str,
    "collected_information": None,
    "collected_information.shipping_details": None,
    "collected_information.shipping_details.name": None,
    "collected_information.shipping_details.address": None,
    "collected_information.shipping_details.address.line1": str,
    "collected_information.shipping_details.address.postal_code": str,
    "collected_information.shipping_details.address.city": str,
    "collected_information.shipping_details.address.country": str,
    "shipping_address_collection.allowed_countries": None,
    "phone_number_collection.enabled": None,
    "shipping_cost.amount_total": None,
    "shipping_cost.shipping_rate": str,
    "shipping_options": None,
    "total_details.amount_shipping": int,
    "success_url": None,
    "cancel_url": None,
    "livemode": None,
}
PAYMENT_INTENT_READS: dict[str, type | None] = {
    "id": None,
    "object": None,
    "status": None,
    "amount": None,
    "amount_received": None,
    "currency": None,
    "metadata": None,
    "receipt_email": str,
    "shipping": None,
}
REFUND_READS: dict[str, type | None] = {
    "id": None,
    "object": None,
    "status": None,
    "amount": None,
    "currency": None,
    "payment_intent": str,
    "metadata": None,
}
EVENT_READS: dict[str, type | None] = {
    "id": None,
    "object": None,
    "type": None,
    "created": None,
    "api_version": str,
    "data": None,
    "data.object": None,
    "livemode": None,
}
SHIPPING_RATE_READS: dict[str, type | None] = {
    "id": None,
    "object": None,
    "type": None,
    "display_name": None,
    "fixed_amount.amount": None,
    "fixed_amount.currency": None,
}


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def value_at(obj: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        assert isinstance(obj, dict), f"{path}: not an object above {part!r}"
        assert part in obj, f"{path}: no {part!r}"
        obj = obj[part]
    return obj


def assert_same_shape(offline: dict[str, Any], stripe: dict[str, Any], reads: dict) -> None:
    """Every top-level field of Stripe's example is there; each field read has its type.
    A field that is null here may only be one Stripe's example allows to be null (no type
    given), and only in this state of the object."""
    missing = sorted(set(stripe) - set(offline))
    assert not missing, f"fields Stripe has and the offline server lacks: {missing}"
    for path, declared in reads.items():
        expected = declared or type(value_at(stripe, path))
        assert expected is not type(None), f"{path}: give the type Stripe uses when set"
        actual = value_at(offline, path)
        # JSON tells true from 1: a bool is not an int here.
        same = isinstance(actual, expected) and isinstance(actual, bool) == (expected is bool)
        assert same, f"{path}: {type(actual).__name__} here, {expected.__name__} at Stripe"


@pytest.fixture
def paid_session(stripe_client, session_params, webhooks):
    created = stripe_client.v1.checkout.sessions.create(
        session_params(
            shipping_address_collection={"allowed_countries": ["FR", "BE"]},
            phone_number_collection={"enabled": True},
            shipping_options=[
                {
                    "shipping_rate_data": {
                        "type": "fixed_amount",
                        "fixed_amount": {"amount": 800, "currency": "eur"},
                        "display_name": "Livraison",
                    }
                }
            ],
            customer_email="camille@example.com",
            payment_intent_data={
                "metadata": {"order_id": "B-TEST1234"},
                "receipt_email": "camille@example.com",
            },
        )
    )
    open_session = created.to_dict(recursive=True)
    assert submit_hosted_page(created.url).status_code == 303
    paid = stripe_client.v1.checkout.sessions.retrieve(created.id).to_dict(recursive=True)
    return open_session, paid


def test_an_open_session_has_stripes_fields_and_types(paid_session):
    open_session, _ = paid_session
    reads = {
        path: kind
        for path, kind in SESSION_READS.items()
        if not path.startswith(("customer_details", "collected_information."))
        and path not in ("payment_intent",)
    }
    assert_same_shape(open_session, fixture("checkout.session"), reads | {"url": None})
    assert open_session["payment_intent"] is None
    assert open_session["customer_details"] is None


def test_a_paid_session_has_stripes_fields_and_types(paid_session):
    _, paid = paid_session
    assert_same_shape(paid, fixture("checkout.session"), SESSION_READS)
    # What Stripe reports of the one shipping option: in the total, and on its own.
    assert (paid["amount_subtotal"], paid["amount_total"]) == (127599, 128399)
    assert paid["shipping_cost"]["amount_total"] == paid["total_details"]["amount_shipping"] == 800
    assert paid["shipping_options"][0]["shipping_amount"] == 800
    assert paid["shipping_options"][0]["shipping_rate"] == paid["shipping_cost"]["shipping_rate"]
    assert paid["customer_details"]["phone"]
    assert paid["collected_information"]["shipping_details"]["address"]["country"] == "FR"


def test_the_payment_intent_has_stripes_fields_and_types(paid_session, stripe_client):
    _, paid = paid_session
    intent = stripe_client.v1.payment_intents.retrieve(paid["payment_intent"])
    offline = intent.to_dict(recursive=True)
    assert_same_shape(offline, fixture("payment_intent"), PAYMENT_INTENT_READS)
    # Checkout copies the collected address and phone onto the PaymentIntent.
    assert offline["shipping"]["address"]["city"] == "Paris"
    assert offline["shipping"]["phone"] == paid["customer_details"]["phone"]
    assert offline["amount"] == 128399


def test_a_refund_has_stripes_fields_and_types(paid_session, stripe_client):
    _, paid = paid_session
    refund = stripe_client.v1.refunds.create({"payment_intent": paid["payment_intent"]})
    assert_same_shape(refund.to_dict(recursive=True), fixture("refund"), REFUND_READS)


def test_events_have_stripes_envelope(paid_session, webhooks):
    events = [verify(delivery).to_dict(recursive=True) for delivery in webhooks]
    assert [event["type"] for event in events] == [
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]
    for event in events:
        assert_same_shape(event, fixture("event"), EVENT_READS)
    assert_same_shape(events[0]["data"]["object"], fixture("checkout.session"), SESSION_READS)


def test_the_inline_shipping_rate_has_stripes_fields_and_types(paid_session):
    _, paid = paid_session
    session = CheckoutSession.objects.get(stripe_id=paid["id"])
    rate = session.shipping_options[0]["shipping_rate"]
    assert_same_shape(rate, fixture("shipping_rate"), SHIPPING_RATE_READS)
    assert rate["id"] == paid["shipping_cost"]["shipping_rate"]
    assert (rate["display_name"], rate["fixed_amount"]) == (
        "Livraison",
        {"amount": 800, "currency": "eur"},
    )
