"""A sale's e-mails (the buyer's confirmation, the owner's note): flagged on the order with
the sale, sent after the response or by `send_mails` (MAIL_WORKER), never lost silently:
a worker stopped before sending, or a mail server down, leaves the flag up for the next
run of `send_mails` or `reconcile`. Through the real webhook with real signatures."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.utils import timezone

from payments.models import Order
from payments.notifications import send_pending_sale_mails

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sell(make_product, make_order, stripe_session, signed_event, post_webhook):
    """`sell()`: a pending order paid through the webhook; returns the order, reloaded."""

    def run() -> Order:
        order = make_order(products=[make_product(price="80.00")])
        body, header = signed_event("checkout.session.completed", stripe_session(order))
        response = post_webhook(body, header)
        assert response.status_code == 200, response.content
        order.refresh_from_db()
        assert order.status == Order.Status.PAID
        return order

    return run


def subjects() -> list[str]:
    return sorted(message.subject for message in mail.outbox)


def test_a_sale_is_confirmed_after_the_response_and_its_flag_lowered(sell):
    order = sell()
    assert subjects() == sorted(
        [
            f"Votre commande {order.reference} est confirmée",
            f"Pièce vendue : commande {order.reference}",
        ]
    )
    assert order.paid_mail_pending is False


def test_with_a_mail_worker_the_web_sends_nothing_and_send_mails_sends_once(sell, settings):
    settings.MAIL_WORKER = True
    first, second = sell(), sell()
    assert mail.outbox == []
    assert first.paid_mail_pending
    assert second.paid_mail_pending

    out = io.StringIO()
    call_command("send_mails", "--once", stdout=out)

    assert "Sale e-mails sent: 2" in out.getvalue()
    assert len(mail.outbox) == 4
    assert [m.to for m in mail.outbox if "confirmée" in m.subject] == [
        [first.customer_email],
        [second.customer_email],
    ]
    assert not Order.objects.filter(paid_mail_pending=True).exists()
    call_command("send_mails", "--once", stdout=io.StringIO())
    assert len(mail.outbox) == 4  # sent once


def test_a_mail_server_down_keeps_the_flag_and_the_next_run_sends(sell, monkeypatch):
    def down(self, messages):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as broken:
        broken.setattr(EmailBackend, "send_messages", down)
        order = sell()
    assert mail.outbox == []
    assert order.paid_mail_pending is True  # the sale stands, its confirmation waits

    assert send_pending_sale_mails() == [order.reference]
    assert f"Votre commande {order.reference} est confirmée" in subjects()
    order.refresh_from_db()
    assert order.paid_mail_pending is False


def test_reconcile_sends_the_confirmations_still_waiting_ten_minutes_on(
    sell, settings, stripe_server
):
    """The process that was to send the confirmation after the response stopped first."""
    settings.MAIL_WORKER = True  # nobody sends after the response
    late, recent = sell(), sell()
    Order.objects.filter(pk=late.pk).update(paid_at=timezone.now() - timedelta(minutes=11))

    out = io.StringIO()
    call_command("reconcile", stdout=out)

    assert f"Sale e-mails sent late: 1\n  - {late.reference}" in out.getvalue()
    assert [m.subject for m in mail.outbox if "confirmée" in m.subject] == [
        f"Votre commande {late.reference} est confirmée"
    ]
    assert list(Order.objects.filter(paid_mail_pending=True)) == [recent]
