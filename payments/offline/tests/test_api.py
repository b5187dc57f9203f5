"""The offline Stripe API, driven through the real stripe library over real HTTP."""

import json
import time

import pytest
import requests
import stripe

from payments.offline.models import CheckoutSession, IdempotencyKey
from payments.offline.testing import submit_hosted_page
from payments.offline.tests.helpers import SECRET_KEY, verify

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_returns_a_stripe_shaped_open_session(stripe_client, session_params, offline_server):
    """A created session reads like Stripe's: cs_test_ id, absolute hosted page URL, amounts in
    cents, the shop's references, no PaymentIntent yet."""
    params = session_params()

    session = stripe_client.v1.checkout.sessions.create(params, {"idempotency_key": "order-1"})

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{offline_server}/_stripe/pay/{session.id}/"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_total, session.currency) == (127599, "eur")
    assert session.client_reference_id == "B-TEST1234"
    assert session.metadata.to_dict() == {"order_id": "B-TEST1234"}
    assert session.payment_intent is None
    assert session.customer_details is None
    assert session.expires_at == params["expires_at"]
    assert session.success_url == params["success_url"]
    assert session.cancel_url == params["cancel_url"]
    assert session.locale == "fr"
    assert abs(session.created - time.time()) < 5
    assert "line_items" not in session


def test_retrieve_expands_line_items(stripe_client, session_params):
    """`expand[0]=line_items` adds the lines as a Stripe list of items with their prices."""
    created = stripe_client.v1.checkout.sessions.create(session_params())

    session = stripe_client.v1.checkout.sessions.retrieve(created.id, {"expand": ["line_items"]})

    lines = session.line_items
    assert lines.object == "list"
    assert lines.has_more is False
    assert [(item.description, item.quantity, item.amount_total) for item in lines.data] == [
        ("Commode Louis XV", 1, 125000),
        ("Vase bleu", 1, 2599),
    ]
    assert lines.data[0].price.unit_amount == 125000
    assert lines.data[0].price.currency == "eur"
    plain = stripe_client.v1.checkout.sessions.retrieve(created.id)
    assert "line_items" not in plain
    listed = stripe_client.v1.checkout.sessions.line_items.list(created.id)
    assert [item.id for item in listed.data] == [item.id for item in lines.data]


def test_retrieve_unknown_session_is_a_404_invalid_request(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_nope")

    assert error.value.http_status == 404
    assert error.value.code == "resource_missing"
    assert "cs_test_nope" in error.value.user_message


def test_list_filters_and_paginates_newest_first(stripe_client, session_params):
    """`created[gte]`, `status`, `limit`, `starting_after` and `has_more` behave like Stripe's,
    newest first (ties within one second in creation order)."""
    first, second, third = (
        stripe_client.v1.checkout.sessions.create(session_params()) for _ in range(3)
    )
    stripe_client.v1.checkout.sessions.expire(second.id)
    old = CheckoutSession.objects.get(stripe_id=first.id)
    old.created -= 3600
    old.save()

    everything = stripe_client.v1.checkout.sessions.list({"limit": 100})
    assert [s.id for s in everything.data] == [third.id, second.id, first.id]
    assert everything.has_more is False

    recent = stripe_client.v1.checkout.sessions.list(
        {"created": {"gte": int(time.time()) - 60}, "limit": 100}
    )
    assert [s.id for s in recent.data] == [third.id, second.id]

    open_ones = stripe_client.v1.checkout.sessions.list({"status": "open", "limit": 100})
    assert [s.id for s in open_ones.data] == [third.id, first.id]

    page = stripe_client.v1.checkout.sessions.list({"limit": 1})
    assert ([s.id for s in page.data], page.has_more) == ([third.id], True)
    page = stripe_client.v1.checkout.sessions.list({"limit": 1, "starting_after": third.id})
    assert ([s.id for s in page.data], page.has_more) == ([second.id], True)
    page = stripe_client.v1.checkout.sessions.list({"limit": 5, "starting_after": second.id})
    assert ([s.id for s in page.data], page.has_more) == ([first.id], False)
    page = stripe_client.v1.checkout.sessions.list({"limit": 5, "ending_before": first.id})
    assert [s.id for s in page.data] == [third.id, second.id]

    paged = stripe_client.v1.checkout.sessions.list({"limit": 1}).auto_paging_iter()
    assert [s.id for s in paged] == [third.id, second.id, first.id]


def test_list_completed_sessions_like_reconcile(stripe_client, session_params):
    """The shop's reconcile call: complete sessions created since a time, with their
    PaymentIntent id once paid."""
    paid = stripe_client.v1.checkout.sessions.create(session_params())
    stripe_client.v1.checkout.sessions.create(session_params())
    assert submit_hosted_page(paid.url).status_code == 303

    listed = stripe_client.v1.checkout.sessions.list(
        {"created": {"gte": int(time.time()) - 60}, "status": "complete", "limit": 100}
    )

    assert [s.id for s in listed.data] == [paid.id]
    assert listed.data[0].payment_status == "paid"
    assert listed.data[0].payment_intent.startswith("pi_")


def test_expire_sends_a_signed_event_to_the_calling_host(
    stripe_client, session_params, webhooks, offline_server
):
    """Expiring an open session answers it `expired` and posts a signed
    `checkout.session.expired` to /api/webhooks/stripe on the host that was called."""
    session = stripe_client.v1.checkout.sessions.create(session_params())

    expired = stripe_client.v1.checkout.sessions.expire(
        session.id, options={"idempotency_key": "expire-1"}
    )

    assert (expired.status, expired.url) == ("expired", None)
    assert len(webhooks) == 1
    assert webhooks[0]["host"] == offline_server.removeprefix("http://")
    event = verify(webhooks[0])
    assert event.type == "checkout.session.expired"
    assert event.data.object.id == session.id
    assert event.data.object.status == "expired"
    assert webhooks[0]["committed_status"] == "expired"


def test_expire_refuses_a_session_that_is_not_open(stripe_client, session_params, webhooks):
    """Only open sessions expire; otherwise Stripe's 400 and no second event."""
    session = stripe_client.v1.checkout.sessions.create(session_params())
    stripe_client.v1.checkout.sessions.expire(session.id)

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.checkout.sessions.expire(session.id)

    assert error.value.http_status == 400
    assert 'status of "expired"' in error.value.user_message
    assert len(webhooks) == 1


def test_a_session_past_its_time_expires_when_read(stripe_client, session_params, webhooks):
    """No background job: a session whose `expires_at` has passed is expired (and the shop told)
    the first time it is retrieved or listed, once."""
    session = stripe_client.v1.checkout.sessions.create(session_params())
    CheckoutSession.objects.filter(stripe_id=session.id).update(expires_at=int(time.time()) - 1)

    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert stripe_client.v1.checkout.sessions.list({"status": "open"}).data == []

    assert [verify(d).type for d in webhooks] == ["checkout.session.expired"]


def test_same_idempotency_key_and_params_replays_the_first_answer(stripe_client, session_params):
    """A retried create with the same key returns the saved session, creates nothing."""
    params = session_params()

    first = stripe_client.v1.checkout.sessions.create(params, {"idempotency_key": "order-42-v1"})
    again = stripe_client.v1.checkout.sessions.create(params, {"idempotency_key": "order-42-v1"})

    assert again.id == first.id
    headers = {name.lower(): value for name, value in again.last_response.headers.items()}
    assert headers["idempotent-replayed"] == "true"
    assert CheckoutSession.objects.count() == 1
    assert IdempotencyKey.objects.filter(key="order-42-v1").count() == 1


def test_same_idempotency_key_with_other_params_is_an_idempotency_error(
    stripe_client, session_params
):
    stripe_client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "order-43"})

    with pytest.raises(stripe.IdempotencyError) as error:
        stripe_client.v1.checkout.sessions.create(
            session_params(client_reference_id="B-OTHER"), {"idempotency_key": "order-43"}
        )

    assert error.value.http_status == 400
    assert CheckoutSession.objects.count() == 1


def test_a_failed_request_is_not_saved_under_its_key(stripe_client, session_params):
    """Like Stripe, a validation error is not replayed: the fixed request goes through."""
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.checkout.sessions.create(
            session_params(expires_at=int(time.time()) - 10), {"idempotency_key": "order-44"}
        )

    session = stripe_client.v1.checkout.sessions.create(
        session_params(), {"idempotency_key": "order-44"}
    )

    assert session.status == "open"


def test_a_wrong_api_key_is_refused(offline_server, settings, session_params):
    """Any key but STRIPE_SECRET_KEY gets a 401 that the library raises as AuthenticationError."""
    wrong = stripe.StripeClient(
        "sk_test_wrong_key_123456",
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=0,
    )

    with pytest.raises(stripe.AuthenticationError) as error:
        wrong.v1.checkout.sessions.create(session_params())

    assert error.value.http_status == 401
    assert CheckoutSession.objects.count() == 0
    bare = requests.get(f"{offline_server}/_stripe/v1/checkout/sessions", timeout=10)
    assert bare.status_code == 401
    assert bare.json()["error"]["type"] == "invalid_request_error"


def test_everything_is_404_when_offline_mode_is_off(offline_server, settings, session_params):
    """STRIPE_OFFLINE is read at request time: off, neither the API nor the page exists."""
    page_url = (
        stripe.StripeClient(
            SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE}, max_network_retries=0
        )
        .v1.checkout.sessions.create(session_params())
        .url
    )
    settings.STRIPE_OFFLINE = False
    headers = {"Authorization": f"Bearer {SECRET_KEY}"}

    assert requests.get(page_url, timeout=10).status_code == 404
    api = requests.get(
        f"{offline_server}/_stripe/v1/checkout/sessions", headers=headers, timeout=10
    )
    assert api.status_code == 404
    created = requests.post(
        f"{offline_server}/_stripe/v1/checkout/sessions", headers=headers, timeout=10
    )
    assert created.status_code == 404


REFUSED = [
    ({"expires_at": 1_000_000_000}, "expires_at"),
    ({"mode": "subscription"}, "mode"),
    ({"line_items": []}, "line_items"),
    (
        {"line_items": [{"price_data": {"currency": "eur", "unit_amount": 100}}]},
        "line_items[0][quantity]",
    ),
    (
        {"line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 0}}]},
        "line_items[0][price_data][unit_amount]",
    ),
    (
        {"line_items": [{"quantity": 1, "price_data": {"unit_amount": 100}}]},
        "line_items[0][price_data][currency]",
    ),
    ({"success_url": "pas une url"}, "success_url"),
    (
        {"shiping_address_collection": {"allowed_countries": ["FR"]}},
        "shiping_address_collection",
    ),
    ({"shipping_options": [{"shipping_rate": "shr_123"}]}, "shipping_options[0][shipping_rate]"),
    (
        {"shipping_options": [{"shipping_rate_data": {"display_name": "Colis"}}]},
        "shipping_options[0][shipping_rate_data][fixed_amount]",
    ),
    (
        {
            "shipping_options": [
                {
                    "shipping_rate_data": {
                        "display_name": "Colis",
                        "fixed_amount": {"amount": 800, "currency": "usd"},
                    }
                }
            ]
        },
        "shipping_options[0][shipping_rate_data][fixed_amount][currency]",
    ),
    (
        {
            "shipping_options": [
                {
                    "shipping_rate_data": {
                        "display_name": "Colis",
                        "fixed_amount": {"amount": -1, "currency": "eur"},
                    }
                }
            ]
        },
        "shipping_options[0][shipping_rate_data][fixed_amount][amount]",
    ),
    ({"phone_number_collection": {"enabled": "oui"}}, "phone_number_collection[enabled]"),
    (
        {
            "shipping_options": [
                {
                    "shipping_rate_data": {
                        "display_name": "Colis",
                        "fixed_amount": {"amount": 99_999_999, "currency": "eur"},
                    }
                }
            ]
        },
        "shipping_options",
    ),
]


def test_what_stripe_refuses_is_refused(stripe_client, session_params):
    """Past `expires_at`, other modes, missing quantity or currency, a zero amount, a bad URL,
    an unknown parameter, a shipping rate that is not inline, lacks its amount, is in another
    currency, negative or past Stripe's ceiling with the pieces, a phone collection that is
    not a boolean: a 400 invalid_request_error naming the parameter. (One test for all
    cases: each live-server test costs a database flush.)"""
    for overrides, param in REFUSED:
        with pytest.raises(stripe.InvalidRequestError) as error:
            stripe_client.v1.checkout.sessions.create(session_params(**overrides))

        assert (error.value.http_status, error.value.param) == (400, param), overrides
    assert CheckoutSession.objects.count() == 0


def test_a_short_hold_is_accepted(stripe_client, session_params):
    """Stripe's 30-minute minimum is not enforced, so tests can use short holds."""
    expires_at = int(time.time()) + 90

    session = stripe_client.v1.checkout.sessions.create(session_params(expires_at=expires_at))

    assert session.expires_at == expires_at


def test_an_unknown_route_is_a_stripe_404(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.customers.list()

    assert error.value.http_status == 404
    assert "Unrecognized request URL" in error.value.user_message


def test_payment_intent_carries_the_amount_and_payment_intent_data_metadata(
    stripe_client, session_params
):
    session = stripe_client.v1.checkout.sessions.create(
        session_params(metadata={"order_id": "B-TEST1234", "only": "session"})
    )
    submit_hosted_page(session.url)
    paid = stripe_client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})

    intent = stripe_client.v1.payment_intents.retrieve(paid.payment_intent.id)

    assert intent.id.startswith("pi_")
    assert (intent.status, intent.amount, intent.amount_received) == ("succeeded", 127599, 127599)
    assert intent.currency == "eur"
    assert intent.metadata.to_dict() == {"order_id": "B-TEST1234"}
    assert paid.payment_intent.id == intent.id


def test_refunds_are_full_by_default_and_listed_by_payment_intent(stripe_client, session_params):
    session = stripe_client.v1.checkout.sessions.create(session_params())
    submit_hosted_page(session.url)
    intent_id = stripe_client.v1.checkout.sessions.retrieve(session.id).payment_intent

    refund = stripe_client.v1.refunds.create(
        {"payment_intent": intent_id, "reason": "duplicate", "metadata": {"order_id": "B-1"}},
        {"idempotency_key": "refund-1"},
    )
    replayed = stripe_client.v1.refunds.create(
        {"payment_intent": intent_id, "reason": "duplicate", "metadata": {"order_id": "B-1"}},
        {"idempotency_key": "refund-1"},
    )

    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.payment_intent) == (
        "succeeded",
        127599,
        intent_id,
    )
    assert refund.metadata.to_dict() == {"order_id": "B-1"}
    assert replayed.id == refund.id
    listed = stripe_client.v1.refunds.list({"payment_intent": intent_id})
    assert [r.id for r in listed.data] == [refund.id]
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.refunds.create({"payment_intent": intent_id})
    assert error.value.code == "charge_already_refunded"


def test_partial_refunds_never_exceed_what_was_received(stripe_client, session_params):
    session = stripe_client.v1.checkout.sessions.create(session_params())
    submit_hosted_page(session.url)
    intent_id = stripe_client.v1.checkout.sessions.retrieve(session.id).payment_intent

    part = stripe_client.v1.refunds.create({"payment_intent": intent_id, "amount": 2599})
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.refunds.create({"payment_intent": intent_id, "amount": 125001})
    rest = stripe_client.v1.refunds.create({"payment_intent": intent_id})

    assert part.amount == 2599
    assert error.value.code == "amount_too_large"
    assert rest.amount == 125000


def test_a_payment_intent_that_has_not_succeeded_cannot_be_refunded(stripe_client, session_params):
    """A SEPA debit still processing has nothing to refund yet; an unknown PI neither."""
    session = stripe_client.v1.checkout.sessions.create(session_params())
    submit_hosted_page(session.url, method="sepa_debit")
    intent_id = stripe_client.v1.checkout.sessions.retrieve(session.id).payment_intent

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.refunds.create({"payment_intent": intent_id})
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.v1.refunds.create({"payment_intent": "pi_unknown"})

    assert error.value.code == "charge_not_refundable"
    assert unknown.value.code == "resource_missing"
    assert stripe_client.v1.refunds.list({"payment_intent": intent_id}).data == []


def test_errors_have_stripes_json_shape(offline_server):
    """Raw HTTP: the body is {"error": {"type", "message", "param"}}."""
    response = requests.post(
        f"{offline_server}/_stripe/v1/checkout/sessions",
        data="mode=payment&success_url=https://example.com/",
        headers={
            "Authorization": f"Bearer {SECRET_KEY}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=10,
    )

    assert response.status_code == 400
    error = json.loads(response.content)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "line_items"
    assert error["message"]
