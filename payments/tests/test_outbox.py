"""The outbox (payments/outbox.py): one row per message in the deciding transaction, one key
per event, claimed and marked per message, attachments made when sent, a hung mail server
given up fast. Concurrency on real PostgreSQL; a real socket for the hung server."""

import threading
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments import outbox
from payments.models import Order, OutboxMessage
from payments.services import mail as senders

Status = OutboxMessage.Status


def a_mail(key: str, **fields) -> outbox.Mail:
    return outbox.Mail(
        key=key,
        to=fields.pop("to", ["client@example.com"]),
        subject=fields.pop("subject", f"Message {key}"),
        template=fields.pop("template", "payments/email/owner_payment_without_order"),
        context=fields.pop("context", {"event_id": key}),
        **fields,
    )


def order_summary(order_id: int) -> tuple[str, bytes, str]:
    """An attachment maker: a file made from the order's row when the message is sent."""
    order = Order.objects.get(pk=order_id)
    text = f"{order.reference} : {order.carrier or 'pas de transporteur'}"
    return f"{order.reference}.txt", text.encode(), "text/plain"


@pytest.fixture
def order(make_product, make_order) -> Order:
    return make_order(products=[make_product()], status=Order.Status.PAID, hold=False)


@pytest.mark.django_db(transaction=True)
def test_a_key_is_queued_once_and_a_mail_without_recipient_not_at_all(settings):
    settings.MAIL_WORKER = True
    with transaction.atomic():
        outbox.queue(a_mail("event-1"), a_mail("nobody", to=[""]))
    with transaction.atomic():
        outbox.queue(a_mail("event-1", subject="Une seconde fois"))

    assert list(OutboxMessage.objects.values_list("key", "subject")) == [
        ("event-1", "Message event-1")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_decision_leaves_no_message():
    def decide() -> None:
        with transaction.atomic():
            outbox.queue(a_mail("rolled-back"))
            raise RuntimeError("the decision fails")

    with pytest.raises(RuntimeError):
        decide()

    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_attachments_are_made_when_sent_with_reply_to_and_a_stable_message_id(order, settings):
    settings.MAIL_WORKER = True
    with transaction.atomic():
        outbox.queue(
            a_mail(
                "with-file",
                order=order,
                attachments=[outbox.Attachment(f"{__name__}.order_summary", order.pk)],
                reply_to=["boutique@example.com"],
            )
        )
    Order.objects.filter(pk=order.pk).update(carrier="Colissimo")  # after queuing

    assert senders.send_pending().sent == ["with-file"]

    [sent] = mail.outbox
    assert sent.attachments == [
        (f"{order.reference}.txt", f"{order.reference} : Colissimo", "text/plain")
    ]
    assert sent.reply_to == ["boutique@example.com"]
    message = OutboxMessage.objects.get()
    assert sent.extra_headers["Message-ID"] == outbox.message_id(message)
    assert message.status == Status.SENT
    assert message.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_wrong_attachment_maker_fails_the_decision_not_the_send():
    with pytest.raises(ImportError), transaction.atomic():
        outbox.queue(a_mail("bad", attachments=[outbox.Attachment("payments.nowhere", 1)]))
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_stopping_a_sender_between_two_messages_resends_nothing(settings):
    settings.MAIL_WORKER = True
    with transaction.atomic():
        outbox.queue(*(a_mail(f"m{n}") for n in range(10)))

    first = senders.send_pending(stop=lambda: len(mail.outbox) >= 3)
    assert len(first.sent) == 3
    assert OutboxMessage.objects.filter(status=Status.PENDING, claimed_until=None).count() == 7

    second = senders.send_pending()
    assert len(second.sent) == 7
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert len(ids) == len(set(ids)) == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_send_a_message_twice(settings, monkeypatch):
    settings.MAIL_WORKER = True
    with transaction.atomic():
        outbox.queue(*(a_mail(f"m{n}") for n in range(40)))
    real = EmailBackend.send_messages

    def slow(self, messages):
        time.sleep(0.005)  # each message takes a moment: the senders overlap
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow)
    reports = []

    def sender():
        try:
            reports.append(senders.send_pending())
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert len(ids) == len(set(ids)) == 40
    assert sum(len(report.sent) for report in reports) == 40
    assert sum(1 for report in reports if report.sent) >= 2  # they did run at once


@pytest.mark.django_db(transaction=True)
def test_a_message_held_by_a_sender_is_left_to_it_until_its_claim_lapses(settings):
    settings.MAIL_WORKER = True
    with transaction.atomic():
        outbox.queue(a_mail("held"))
    OutboxMessage.objects.update(claimed_until=timezone.now() + timezone.timedelta(minutes=1))

    assert senders.send_pending(due_only=False).sent == []  # reconcile too leaves it

    OutboxMessage.objects.update(claimed_until=timezone.now() - timezone.timedelta(seconds=1))
    assert senders.send_pending().sent == ["held"]  # its sender died: the next one sends it


@pytest.mark.django_db(transaction=True)
def test_a_hung_mail_server_is_given_up_fast_in_a_web_worker_then_left_alone(settings, silent_port):
    settings.MAIL_WORKER = True  # queue only; the test plays the web worker's sender
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent_port
    settings.MAIL_REQUEST_TIMEOUT = 0.3
    with transaction.atomic():
        outbox.queue(a_mail("sale"))

    started = time.monotonic()
    report = senders.send_after_response(["sale"])
    first = time.monotonic() - started
    started = time.monotonic()
    senders.send_after_response(["sale"])
    second = time.monotonic() - started

    assert report.server_error
    assert report.sent == []
    assert 0.3 <= first < 1.0
    assert second < 0.05  # the process leaves the mail server alone for a while
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.claimed_until) == (Status.PENDING, 0, None)
    assert "injoignable" in message.last_error


@pytest.mark.postgres  # SQLite writes no FOR UPDATE
@pytest.mark.django_db(transaction=True)
def test_a_sales_messages_are_claimed_in_one_statement_then_marked_one_by_one(settings):
    settings.MAIL_WORKER = True
    with transaction.atomic():
        outbox.queue(a_mail("confirmation"), a_mail("note"))

    with CaptureQueriesContext(connection) as queries:
        report = senders.send_pending(keys=["confirmation", "note"], limit=2)

    assert report.sent == ["confirmation", "note"]
    claims = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert len(claims) == 1
    marks = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "sent_at" in q["sql"]]
    assert len(marks) == 2  # each recorded as soon as the mail server took it
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.django_db(transaction=True)
def test_a_requests_messages_are_claimed_together_and_released_untried_when_the_server_hangs(
    settings, silent_port, django_assert_max_num_queries
):
    settings.MAIL_WORKER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent_port
    with transaction.atomic():
        outbox.queue(a_mail("confirmation"), a_mail("note"))

    # One claim for both (its SELECT ... SKIP LOCKED and UPDATE, in a transaction), the first
    # released with its reason, the second released untried: nothing else.
    with django_assert_max_num_queries(6):
        report = senders.send_pending(keys=["confirmation", "note"], limit=2, timeout=0.3)

    assert report.server_error
    assert report.handled == 0
    rows = dict(OutboxMessage.objects.values_list("key", "claimed_until"))
    assert rows == {"confirmation": None, "note": None}  # the next sender takes both at once
    assert OutboxMessage.objects.get(key="note").last_error == ""  # never tried
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.PENDING, 0)}


@pytest.mark.django_db(transaction=True)
def test_the_in_request_sender_looks_for_messages_due_again_at_most_every_30_seconds(
    settings, monkeypatch
):
    settings.MAIL_WORKER = True  # queue only; the test plays the web worker's sender

    def due_again(key: str) -> None:
        with transaction.atomic():
            outbox.queue(a_mail(key))
        OutboxMessage.objects.filter(key=key).update(
            attempts=1, next_attempt_at=timezone.now() - timezone.timedelta(seconds=1)
        )

    def sale(key: str) -> list[str]:
        with transaction.atomic():
            outbox.queue(a_mail(key))
        return senders.send_after_response([key]).sent

    due_again("retry-1")
    assert sale("sale-1") == ["sale-1", "retry-1"]

    due_again("retry-2")
    assert sale("sale-2") == ["sale-2"]  # looked a moment ago: the retry waits

    monkeypatch.setattr(senders, "_due_checked_at", time.monotonic() - senders.DUE_CHECK_SECONDS)
    assert sale("sale-3") == ["sale-3", "retry-2"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_flagged_sales_into_the_outbox(settings):
    """Orders whose confirmation was still flagged (`paid_mail_pending`) get their two
    messages in the outbox; the flag is then removed."""
    executor = MigrationExecutor(connection)
    before = [("payments", "0006_order_paid_mail_pending")]
    latest = executor.loader.graph.leaf_nodes("payments")
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        OldOrder = apps.get_model("payments", "Order")
        flagged = OldOrder.objects.create(
            reference="B-FLAGGED1",
            status="paid",
            total=Decimal("10.00"),
            customer_email="client@example.com",
            paid_mail_pending=True,
        )
        OldOrder.objects.create(reference="B-SENT0001", status="paid", total=Decimal("10.00"))

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    finally:
        MigrationExecutor(connection).migrate(latest)

    messages = OutboxMessage.objects.order_by("key")
    assert [(m.key, m.to, m.order_id, m.status) for m in messages] == [
        ("sale:B-FLAGGED1:buyer", ["client@example.com"], flagged.pk, Status.PENDING),
        ("sale:B-FLAGGED1:owner", [settings.OWNER_EMAIL], flagged.pk, Status.PENDING),
    ]
    assert "paid_mail_pending" not in {f.name for f in Order._meta.get_fields()}
    assert senders.send_pending().sent == ["sale:B-FLAGGED1:buyer", "sale:B-FLAGGED1:owner"]
    assert "B-FLAGGED1" in mail.outbox[1].body
