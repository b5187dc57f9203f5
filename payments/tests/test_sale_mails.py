"""A sale's e-mails (the buyer's confirmation, the owner's note): written to the outbox with
the sale, sent after the response or by `send_mails` (MAIL_WORKER), never lost: a worker
stopped before sending, or a mail server down, leaves them waiting for the next sender.
Through the real webhook with real signatures."""

import io
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command

from payments import outbox
from payments.models import Order, OutboxMessage
from payments.services import mail as senders

pytestmark = pytest.mark.django_db(transaction=True)

Status = OutboxMessage.Status


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


def waiting() -> list[str]:
    return sorted(OutboxMessage.objects.filter(status=Status.PENDING).values_list("key", flat=True))


def test_a_sale_is_confirmed_after_the_response_and_marked_sent(sell):
    order = sell()
    assert subjects() == sorted(
        [
            f"Votre commande {order.reference} est confirmée",
            f"Pièce vendue : commande {order.reference}",
        ]
    )
    assert set(order.emails.values_list("status", flat=True)) == {Status.SENT}
    [confirmation] = [m for m in mail.outbox if "confirmée" in m.subject]
    assert confirmation.to == [order.customer_email]
    assert order.reference in confirmation.body
    assert confirmation.alternatives[0].mimetype == "text/html"


def test_the_sale_and_its_messages_commit_together(sell, monkeypatch):
    """The outbox row is written in the sale's transaction: if the sale fails, no message
    exists; the retry of the delivery sells and queues them, once."""
    real = outbox.queue

    def broken(*mails):
        real(*mails)
        raise RuntimeError("the sale fails after queuing its e-mails")

    with monkeypatch.context() as failing:
        failing.setattr("payments.notifications.outbox.queue", broken)
        with pytest.raises(AssertionError):
            sell()  # the webhook answers 500, Stripe will retry
    assert OutboxMessage.objects.count() == 0
    assert mail.outbox == []


def test_with_a_mail_worker_the_web_sends_nothing_and_send_mails_sends_once(sell, settings):
    settings.MAIL_WORKER = True
    first, second = sell(), sell()
    assert mail.outbox == []
    assert len(waiting()) == 4

    out = io.StringIO()
    call_command("send_mails", "--once", stdout=out)

    assert "E-mails sent: 4" in out.getvalue()
    assert len(mail.outbox) == 4
    assert [m.to for m in mail.outbox if "confirmée" in m.subject] == [
        [first.customer_email],
        [second.customer_email],
    ]
    assert waiting() == []
    call_command("send_mails", "--once", stdout=io.StringIO())
    assert len(mail.outbox) == 4  # sent once


def test_a_mail_server_down_keeps_them_waiting_and_the_next_sender_sends(sell, monkeypatch):
    def down(self, messages):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as broken:
        broken.setattr(EmailBackend, "send_messages", down)
        order = sell()
    assert mail.outbox == []
    # The sale stands; its messages wait, no attempt counted against them.
    assert waiting() == [f"sale:{order.reference}:buyer", f"sale:{order.reference}:owner"]
    assert set(order.emails.values_list("attempts", flat=True)) == {0}
    assert senders.paused()  # this process leaves the mail server alone for a while

    report = senders.send_pending()
    assert sorted(report.sent) == waiting() or waiting() == []
    assert f"Votre commande {order.reference} est confirmée" in subjects()
    assert waiting() == []


def test_a_refused_address_is_tried_again_then_refused_and_the_owner_note_goes_once(
    sell, monkeypatch
):
    """The issue's loop: a buyer address the server refuses made the owner's note go out
    again every few seconds. Each message stands alone: the note goes once, the refused
    confirmation is tried with backoff and ends refused."""
    real = EmailBackend.send_messages

    def refuse_buyer(self, messages):
        for message in messages:
            if "confirmée" in message.subject:
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_buyer)
    order = sell()
    confirmation = order.emails.get(key=f"sale:{order.reference}:buyer")
    assert confirmation.attempts == 1
    assert confirmation.status == Status.PENDING
    assert confirmation.next_attempt_at is not None
    assert "Adresse refusée" in confirmation.last_error

    for _ in range(10):  # reconcile runs ignore the backoff
        senders.send_pending(due_only=False)
    confirmation.refresh_from_db()
    assert confirmation.status == Status.REFUSED
    assert confirmation.attempts == senders.MAX_ATTEMPTS
    assert subjects() == [f"Pièce vendue : commande {order.reference}"]  # once


def test_reconcile_sends_every_waiting_message_whatever_its_age(sell, settings, stripe_server):
    """The process that was to send them after the response stopped first."""
    settings.MAIL_WORKER = True  # nobody sends after the response
    first, second = sell(), sell()

    out = io.StringIO()
    call_command("reconcile", stdout=out)

    assert "E-mails sent: 4" in out.getvalue()
    assert len([m for m in mail.outbox if "confirmée" in m.subject]) == 2
    assert waiting() == []
    assert {first.reference, second.reference} <= {
        ref for m in mail.outbox for ref in (first.reference, second.reference) if ref in m.subject
    }
