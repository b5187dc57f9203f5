"""The simulated Checkout page: Payer, Annuler, SEPA, and the signed events it sends to the
shop's webhook over real HTTP (a recording stand-in at /api/webhooks/stripe here)."""

import re
import time
from io import StringIO

import pytest
import requests
import stripe
from django.core.management import call_command

from payments.offline.events import post_event
from payments.offline.models import CheckoutSession, Event
from payments.offline.testing import submit_hosted_page
from payments.offline.tests import urls as capture
from payments.offline.tests.helpers import WEBHOOK_SECRET, verify

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def open_session(stripe_client, session_params):
    return stripe_client.v1.checkout.sessions.create(session_params())


def test_the_page_shows_the_lines_the_total_and_says_it_is_simulated(open_session):
    page = requests.get(open_session.url, timeout=10)

    assert page.status_code == 200
    text = page.text
    assert "Paiement simulé — aucun argent réel n'est débité" in text
    assert "Commode Louis XV" in text
    assert "Vase bleu" in text
    assert "1\N{NO-BREAK SPACE}275,99\N{NO-BREAK SPACE}€" in text
    assert 'value="client@example.com"' in text
    assert 'data-action="pay"' in text
    assert 'data-action="cancel"' in text
    assert "Payer par virement SEPA (paiement différé)" in text
    assert 'name="csrfmiddlewaretoken"' in text


def test_the_address_form_names_the_countries_in_french(stripe_client, session_params):
    """As Stripe's page does: « Belgique », not « BE »; the code is what is sent."""
    session = stripe_client.v1.checkout.sessions.create(
        session_params(shipping_address_collection={"allowed_countries": ["FR", "BE"]})
    )

    text = requests.get(session.url, timeout=10).text

    assert '<option value="FR" selected>France</option>' in text
    assert '<option value="BE">Belgique</option>' in text


def test_payer_completes_the_session_then_sends_signed_events(
    open_session, stripe_client, webhooks, offline_server
):
    """Payer: the session is complete and paid with a succeeded PaymentIntent, committed before
    `checkout.session.completed` and `payment_intent.succeeded` reach the shop's webhook, each
    signed for STRIPE_WEBHOOK_SECRET; then 303 to success_url with the session id."""
    response = submit_hosted_page(open_session.url, email="camille@example.com")

    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"{offline_server}/commande/merci/?session_id={open_session.id}"
    )
    assert [d["host"] for d in webhooks] == [offline_server.removeprefix("http://")] * 2
    assert all(d["content_type"].startswith("application/json") for d in webhooks)
    completed, succeeded = (verify(d) for d in webhooks)
    assert [completed.type, succeeded.type] == [
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]
    assert [d["committed_status"] for d in webhooks] == ["complete", "succeeded"]
    session = completed.data.object
    assert (session.id, session.status, session.payment_status) == (
        open_session.id,
        "complete",
        "paid",
    )
    assert session.customer_details.email == "camille@example.com"
    assert session.metadata.order_id == "B-TEST1234"
    assert session.client_reference_id == "B-TEST1234"
    intent = succeeded.data.object
    assert intent.id == session.payment_intent
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 127599, "eur")
    assert intent.metadata.to_dict() == {"order_id": "B-TEST1234"}
    for event in (completed, succeeded):
        assert event.id.startswith("evt_")
        assert event.object == "event"
        assert event.livemode is False
        assert event.api_version == stripe.api_version
    retrieved = stripe_client.v1.checkout.sessions.retrieve(open_session.id)
    assert (retrieved.status, retrieved.payment_status) == ("complete", "paid")
    assert retrieved.payment_intent == intent.id


def test_events_do_not_verify_with_another_secret(open_session, webhooks):
    submit_hosted_page(open_session.url)

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            webhooks[0]["body"], webhooks[0]["signature"], "whsec_someone_else"
        )


def test_paying_a_paid_session_again_is_refused_in_french(open_session, webhooks):
    """A second Payer (another tab, a double submit) finds the session complete: a French
    message, no second PaymentIntent, no new event."""
    page = requests.get(open_session.url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    assert submit_hosted_page(open_session.url).status_code == 303

    again = requests.post(
        open_session.url + "payer/",
        data={"csrfmiddlewaretoken": token, "email": "a@example.com", "name": "A"},
        headers={"Cookie": f"csrftoken={page.cookies['csrftoken']}"},
        allow_redirects=False,
        timeout=10,
    )

    assert again.status_code == 409
    assert "déjà réglée" in again.text
    assert len(webhooks) == 2


def test_paying_an_expired_session_is_refused_in_french(open_session, stripe_client, webhooks):
    """The page was open when the session expired: Payer shows a French message instead."""
    page = requests.get(open_session.url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    stripe_client.v1.checkout.sessions.expire(open_session.id)

    response = requests.post(
        open_session.url + "payer/",
        data={"csrfmiddlewaretoken": token, "email": "a@example.com", "name": "A"},
        headers={"Cookie": f"csrftoken={page.cookies['csrftoken']}"},
        allow_redirects=False,
        timeout=10,
    )

    assert response.status_code == 409
    assert "a expiré" in response.text
    assert [verify(d).type for d in webhooks] == ["checkout.session.expired"]
    assert CheckoutSession.objects.get(stripe_id=open_session.id).payment_intent is None


def test_a_session_past_its_time_expires_when_its_page_opens(open_session, webhooks):
    CheckoutSession.objects.filter(stripe_id=open_session.id).update(
        expires_at=int(time.time()) - 1
    )

    page = requests.get(open_session.url, timeout=10)

    assert page.status_code == 200
    assert "Cette session de paiement a expiré" in page.text
    assert 'data-action="pay"' not in page.text
    assert [verify(d).type for d in webhooks] == ["checkout.session.expired"]


def test_payer_refuses_a_form_without_csrf_token(open_session, webhooks):
    response = requests.post(
        open_session.url + "payer/", data={"email": "a@example.com", "name": "A"}, timeout=10
    )

    assert response.status_code == 403
    assert webhooks == []
    assert CheckoutSession.objects.get(stripe_id=open_session.id).status == "open"


def test_annuler_goes_back_to_cancel_url_and_leaves_the_session_open(
    open_session, stripe_client, webhooks
):
    response = submit_hosted_page(open_session.url, "cancel")

    assert response.status_code == 303
    assert response.headers["Location"] == open_session.cancel_url
    assert stripe_client.v1.checkout.sessions.retrieve(open_session.id).status == "open"
    assert webhooks == []


def test_sepa_debit_completes_unpaid_then_succeeds(open_session, stripe_client, webhooks):
    """A delayed method: `checkout.session.completed` with payment_status unpaid first, then,
    when the bank agrees, `async_payment_succeeded` and `payment_intent.succeeded`."""
    started = submit_hosted_page(open_session.url, method="sepa_debit")

    assert started.status_code == 303
    assert started.headers["Location"] == f"/_stripe/pay/{open_session.id}/"
    (completed,) = (verify(d) for d in webhooks)
    assert completed.type == "checkout.session.completed"
    assert completed.data.object.payment_status == "unpaid"
    intent_id = completed.data.object.payment_intent
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "processing"
    page = requests.get(open_session.url, timeout=10)
    assert "Virement SEPA en attente" in page.text

    settled = submit_hosted_page(open_session.url, "transfer_succeeded")

    assert settled.status_code == 303
    assert [verify(d).type for d in webhooks[1:]] == [
        "checkout.session.async_payment_succeeded",
        "payment_intent.succeeded",
    ]
    assert verify(webhooks[1]).data.object.payment_status == "paid"
    assert verify(webhooks[2]).data.object.metadata.to_dict() == {"order_id": "B-TEST1234"}
    assert stripe_client.v1.checkout.sessions.retrieve(open_session.id).payment_status == "paid"
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "succeeded"


def test_sepa_debit_can_fail(open_session, stripe_client, webhooks):
    submit_hosted_page(open_session.url, method="sepa_debit")

    failed = submit_hosted_page(open_session.url, "transfer_failed")

    assert failed.status_code == 303
    assert [verify(d).type for d in webhooks] == [
        "checkout.session.completed",
        "checkout.session.async_payment_failed",
    ]
    session = stripe_client.v1.checkout.sessions.retrieve(open_session.id)
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    intent = stripe_client.v1.payment_intents.retrieve(session.payment_intent)
    assert intent.status == "requires_payment_method"
    assert "Virement échoué" in requests.get(open_session.url, timeout=10).text


def test_a_webhook_failure_is_kept_and_the_events_can_be_resent(
    open_session, stripe_client, webhooks
):
    """The shop's webhook answers 500: Payer still completes and redirects; the events stay
    undelivered, the page offers "Renvoyer les événements", which sends them again, freshly
    signed."""
    capture.answer["status"] = 500

    response = submit_hosted_page(open_session.url)

    assert response.status_code == 303
    assert stripe_client.v1.checkout.sessions.retrieve(open_session.id).payment_status == "paid"
    assert len(webhooks) == 2
    assert list(Event.objects.values_list("delivered_at", "last_status", "attempts")) == [
        (None, 500, 1),
        (None, 500, 1),
    ]
    page = requests.get(open_session.url, timeout=10)
    assert "Renvoyer les événements" in page.text

    capture.answer["status"] = 200
    resent = submit_hosted_page(open_session.url, "resend")

    assert resent.status_code == 303
    assert [d["body"] for d in webhooks[2:]] == [d["body"] for d in webhooks[:2]]
    assert [verify(d).type for d in webhooks[2:]] == [
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]
    assert not Event.objects.filter(delivered_at__isnull=True).exists()
    assert "Renvoyer les événements" not in requests.get(open_session.url, timeout=10).text


def test_an_unreachable_webhook_does_not_break_payer_and_the_command_resends(
    open_session, settings, webhooks, offline_server
):
    """Nobody listens at the webhook URL: Payer still redirects, the events keep their error;
    `manage.py resend_offline_events --url ...` delivers them later."""
    settings.STRIPE_OFFLINE_WEBHOOK_URL = "http://127.0.0.1:9/api/webhooks/stripe"

    response = submit_hosted_page(open_session.url)

    assert response.status_code == 303
    events = list(Event.objects.all())
    assert [e.type for e in events] == ["checkout.session.completed", "payment_intent.succeeded"]
    assert all(e.delivered_at is None and e.last_error for e in events)
    assert webhooks == []

    out = StringIO()
    call_command("resend_offline_events", url=offline_server + "/api/webhooks/stripe", stdout=out)

    assert "2 of 2 event(s) delivered." in out.getvalue()
    assert [verify(d).type for d in webhooks] == [e.type for e in events]
    assert not Event.objects.filter(delivered_at__isnull=True).exists()


def test_post_event_signs_the_exact_body(offline_server, webhooks):
    """The one sending function: POST the payload as is, `Stripe-Signature: t=...,v1=...`."""
    payload = '{"id": "evt_1", "object": "event", "type": "ping", "data": {"object": {}}}'

    status = post_event(payload, url=offline_server + "/api/webhooks/stripe", secret=WEBHOOK_SECRET)

    assert status == 200
    assert webhooks[0]["body"] == payload.encode()
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", webhooks[0]["signature"])
    assert verify(webhooks[0]).id == "evt_1"


def test_the_page_is_404_for_an_unknown_session(offline_server):
    response = requests.get(f"{offline_server}/_stripe/pay/cs_test_unknown/", timeout=10)

    assert response.status_code == 404


@pytest.mark.parametrize("session_id", ["%00", "cs_test_%00nope"])
def test_the_page_is_404_for_a_session_id_with_a_nul_character(offline_server, session_id):
    response = requests.get(f"{offline_server}/_stripe/pay/{session_id}/", timeout=10)

    assert response.status_code == 404
