"""What Stripe's objects say (payments/stripe_shapes.py): plain dicts in, plain values out,
no database. Read against Stripe's own examples (payments/offline/tests/stripe_fixtures/)
and against the variants Stripe sends (an id or an expanded object, a field left out)."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from payments import stripe_shapes
from payments.stripe_shapes import Payment

FIXTURES = Path(__file__).resolve().parents[1] / "offline" / "tests" / "stripe_fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def paid_session() -> dict[str, Any]:
    """Stripe's example Checkout Session, completed and paid for an order of this shop."""
    session = fixture("checkout.session")
    session.update(
        status="complete",
        payment_status="paid",
        amount_total=12_500,
        currency="eur",
        client_reference_id="B-ABCD2345",
        metadata={"order_id": "B-ABCD2345"},
    )
    session["customer_details"].update(email="cliente@example.com", phone="+33612345678")
    session["collected_information"]["shipping_details"] = {
        "name": "Camille Martin",
        "address": {
            "line1": "3 rue des Lilas",
            "line2": None,
            "postal_code": "69001",
            "city": "Lyon",
            "state": None,
            "country": "FR",
        },
    }
    return session


def test_stripes_example_session_is_open_and_unpaid():
    session = fixture("checkout.session")

    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    assert not stripe_shapes.is_paid(session)
    assert not stripe_shapes.pays_its_order(session)
    assert not stripe_shapes.delayed_payment_failed(session)
    assert stripe_shapes.order_reference_of(session) == ""  # no metadata, no reference


@pytest.mark.parametrize(
    ("status", "payment_status", "paid", "pays"),
    [
        ("complete", "paid", True, True),
        ("complete", "no_payment_required", True, True),
        (None, "paid", True, True),  # an event's object may leave the status out
        ("open", "paid", True, False),
        ("expired", "paid", True, False),
        ("complete", "unpaid", False, False),  # a delayed method: processing, not paid
    ],
)
def test_a_session_pays_its_order_when_paid_and_complete(status, payment_status, paid, pays):
    session = {"id": "cs_test_1", "payment_status": payment_status}
    if status is not None:
        session["status"] = status

    assert stripe_shapes.is_paid(session) is paid
    assert stripe_shapes.pays_its_order(session) is pays


@pytest.mark.parametrize(
    ("event_type", "payment_status", "expected"),
    [
        ("checkout.session.completed", "paid", True),
        ("checkout.session.completed", "unpaid", False),
        ("checkout.session.async_payment_succeeded", "unpaid", True),
        ("payment_intent.succeeded", None, True),
        ("checkout.session.expired", "unpaid", False),
        ("checkout.session.async_payment_failed", "unpaid", False),
        ("charge.refunded", None, False),
    ],
)
def test_which_events_report_money_received(event_type, payment_status, expected):
    assert stripe_shapes.reports_payment(event_type, {"payment_status": payment_status}) is (
        expected
    )


def test_a_delayed_payment_refused_by_the_bank_shows_on_the_expanded_intent():
    intent = fixture("payment_intent")  # Stripe's example: requires_payment_method
    session = {"status": "complete", "payment_status": "unpaid", "payment_intent": intent}

    assert stripe_shapes.delayed_payment_failed(session)
    assert not stripe_shapes.delayed_payment_failed({**session, "payment_intent": intent["id"]})
    assert not stripe_shapes.delayed_payment_failed({**session, "payment_status": "paid"})
    pending = {**intent, "status": "processing"}
    assert not stripe_shapes.delayed_payment_failed({**session, "payment_intent": pending})


def test_an_id_is_read_from_a_string_or_an_expanded_object():
    intent = fixture("payment_intent")

    assert stripe_shapes.id_of(intent) == "pi_1PgafyB7WZ01zgkWSjxsAJo3"
    assert stripe_shapes.id_of("pi_123") == "pi_123"
    assert stripe_shapes.id_of(None) == ""
    assert stripe_shapes.id_of({"object": "payment_intent"}) == ""


def test_the_order_reference_comes_from_the_metadata_then_the_client_reference():
    assert stripe_shapes.order_reference_of({"metadata": {"order_id": "B-1"}}) == "B-1"
    both = {"metadata": {"order_id": "B-1"}, "client_reference_id": "B-2"}
    assert stripe_shapes.order_reference_of(both) == "B-1"
    assert stripe_shapes.order_reference_of({"metadata": {}, "client_reference_id": "B-2"}) == "B-2"
    assert stripe_shapes.order_reference_of(fixture("payment_intent")) == ""
    with pytest.raises(AttributeError):
        stripe_shapes.order_reference_of({"metadata": "B-1"})


def test_the_reported_amount_is_the_sessions_total_else_the_intents():
    assert stripe_shapes.reported_amount({"amount_total": 500, "amount": 700}) == 500
    assert stripe_shapes.reported_amount({"amount_received": 0, "amount": 700}) == 0
    assert stripe_shapes.reported_amount({"amount": 700}) == 700
    assert stripe_shapes.reported_amount(fixture("payment_intent")) == 0
    assert stripe_shapes.reported_amount({}) is None


def test_a_shipping_address_needs_an_address_and_fills_the_missing_parts():
    details = {"name": "Camille Martin", "address": {"line1": "3 rue des Lilas", "city": None}}

    assert stripe_shapes.shipping_address_of(details, phone="+33612345678") == {
        "name": "Camille Martin",
        "address": {
            "line1": "3 rue des Lilas",
            "line2": "",
            "postal_code": "",
            "city": "",
            "state": "",
            "country": "",
        },
        "phone": "+33612345678",
    }
    assert stripe_shapes.shipping_address_of(details, phone=12)["phone"] == ""
    assert stripe_shapes.shipping_address_of({"name": "Camille"}) is None
    assert stripe_shapes.shipping_address_of(None) is None
    assert stripe_shapes.shipping_address_of(fixture("payment_intent")["shipping"]) is None


def test_a_payment_read_from_a_paid_session(paid_session):
    payment = Payment.from_session(paid_session)

    assert payment == Payment(
        reference="B-ABCD2345",
        session_id=paid_session["id"],
        payment_intent="pi_1PgafyB7WZ01zgkWSjxsAJo3",
        amount=12_500,
        currency="eur",
        email="cliente@example.com",
        shipping={
            "name": "Camille Martin",
            "address": {
                "line1": "3 rue des Lilas",
                "line2": "",
                "postal_code": "69001",
                "city": "Lyon",
                "state": "",
                "country": "FR",
            },
            "phone": "+33612345678",
        },
    )


def test_a_session_with_its_intent_expanded_and_older_fields(paid_session):
    """The PaymentIntent expanded (as reconcile lists sessions), the e-mail and address in
    the fields older API versions used."""
    older = copy.deepcopy(paid_session)
    older["payment_intent"] = fixture("payment_intent")
    older["customer_details"] = None
    older["customer_email"] = "ancienne@example.com"
    older["shipping_details"] = older.pop("collected_information")["shipping_details"]
    older["currency"] = "EUR"

    payment = Payment.from_session(older)

    assert payment.payment_intent == "pi_1PgafyB7WZ01zgkWSjxsAJo3"
    assert payment.email == "ancienne@example.com"
    assert payment.currency == "eur"
    assert payment.shipping is not None
    assert payment.shipping["address"]["city"] == "Lyon"
    assert payment.shipping["phone"] == ""


def test_a_payment_read_from_a_payment_intent():
    intent = fixture("payment_intent")
    intent.update(
        status="succeeded",
        amount=12_500,
        amount_received=12_500,
        currency="eur",
        metadata={"order_id": "B-ABCD2345"},
        receipt_email=None,
    )

    payment = Payment.from_payment_intent(intent)

    assert payment == Payment(
        reference="B-ABCD2345",
        session_id="",
        payment_intent="pi_1PgafyB7WZ01zgkWSjxsAJo3",
        amount=12_500,
        currency="eur",
        email="",
        shipping=None,  # Stripe's example has an empty `shipping`
    )
    assert Payment.from_payment_intent({**intent, "amount_received": 0}).amount == 12_500


def test_stripes_example_event_is_an_envelope_the_shop_stores():
    event = fixture("event")
    event["data"]["object"] = fixture("checkout.session")

    assert stripe_shapes.envelope_problem(event) == ""


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: [], "not a JSON object"),
        (lambda e: {**e, "id": 12}, "no string id"),
        (lambda e: {**e, "id": ""}, "no string id"),
        (lambda e: {**e, "type": "x" * 101}, "no string type"),
        (lambda e: {**e, "data": {"object": "cs_1"}}, "no data.object"),
        (lambda e: {**e, "data": {"object": {"n": float("nan")}}}, "cannot be stored as JSON"),
        (lambda e: {**e, "data": {"object": {"name": "a\x00b"}}}, "contains a NUL character"),
    ],
)
def test_an_envelope_that_is_no_stripe_event_says_why(change, problem):
    event = fixture("event")
    event["data"]["object"] = {"id": "cs_test_1"}

    assert stripe_shapes.envelope_problem(change(event)) == problem


def test_stripes_example_objects_have_the_shape_the_services_read():
    session, intent = fixture("checkout.session"), fixture("payment_intent")

    assert stripe_shapes.object_problem("checkout.session.completed", session) == ""
    assert stripe_shapes.object_problem("checkout.session.expired", session) == ""
    assert stripe_shapes.object_problem("payment_intent.succeeded", intent) == ""


@pytest.mark.parametrize(
    ("event_type", "obj", "problem"),
    [
        ("checkout.session.completed", {"amount_total": True}, "amount_total is not an amount"),
        ("checkout.session.completed", {"amount_total": -1}, "amount_total is not an amount"),
        ("checkout.session.completed", {"amount_total": 10**10}, "amount_total is not an amount"),
        ("checkout.session.completed", {"metadata": "B-1"}, "metadata is not an object"),
        ("checkout.session.completed", {"status": 1}, "status is not a string"),
        ("payment_intent.succeeded", {"shipping": []}, "shipping is not an object"),
        ("payment_intent.succeeded", {"amount_received": 1.5}, "amount_received is not an"),
        ("checkout.session.completed", {"payment_intent": 7}, "payment_intent is neither"),
        ("checkout.session.completed", {"payment_intent": {"id": 7}}, "payment_intent.id is"),
        ("checkout.session.completed", {"customer_details": {"email": 1}}, "email is not"),
        ("payment_intent.succeeded", {"receipt_email": "a" * 255}, "email too long"),
        ("checkout.session.completed", {"id": "cs_" + "x" * 253}, "id too long"),
        ("checkout.session.completed", {"payment_intent": "p" * 256}, "payment_intent id too"),
    ],
)
def test_an_object_the_services_cannot_read_says_why(event_type, obj, problem):
    assert stripe_shapes.object_problem(event_type, obj).startswith(problem)
