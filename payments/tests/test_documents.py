"""Invoices and credit notes (SPEC §12), partial refunds (SPEC §5): numbered without gap or
duplicate under concurrency, issued in the deciding transaction, never changed; PDFs that
open and carry the mentions; the accountant's CSV; the buyer's links under the signed token."""

import csv
import io
import itertools
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from payments import documents, outbox, services
from payments.exceptions import IssuedDocumentChanged, RefundRefused
from payments.models import (
    CreditNote,
    DocumentCounter,
    Invoice,
    Order,
    OrderItem,
    OutboxMessage,
    Refund,
)
from payments.offline.models import Refund as StripeRefund
from payments.offline.testing import submit_hosted_page
from payments.order_page import token_for as order_token
from payments.tests.test_webhook_concurrency import deliver_concurrently
from products.models import Product, StockStatus

NBSP = "\N{NO-BREAK SPACE}"
YEAR = timezone.localtime().year
_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _seller(settings) -> None:
    settings.SELLER_NAME = "Claire Martin EI"
    settings.SELLER_ADDRESS = "12 rue des Lilas, 75011 Paris"
    settings.SELLER_SIREN = "123 456 789"
    settings.SELLER_EMAIL = "boutique@example.com"
    settings.SELLER_VAT_NUMBER = ""
    settings.MEDIATOR_NAME = "CM2C"
    settings.MEDIATOR_URL = "https://www.cm2c.net"


def _piece(price: str = "120.00") -> Product:
    n = next(_counter)
    return Product.objects.create(name=f"Pichet n° {n}", slug=f"pichet-{n}", price=Decimal(price))


def _pay(make_order, signed_event, post_webhook, stripe_session, *prices: str, **fields) -> Order:
    order = make_order(products=[_piece(p) for p in prices or ("120.00",)], **fields)
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    assert post_webhook(body, header).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # Amounts keep their no-break spaces together; printed, they are spaces of a space's width.
    return "\n".join(page.extract_text() for page in reader.pages).replace(NBSP, " ")


def _numbers(kind: type) -> list[str]:
    return list(kind.objects.order_by("number").values_list("number", flat=True))


def _expected(letter: str, count: int) -> list[str]:
    return [f"{letter}-{YEAR}-{n:05d}" for n in range(1, count + 1)]


@pytest.fixture(autouse=True)
def _stripe_unreachable(settings) -> None:
    """Refunds decided here go to a closed port unless a test brings the offline Stripe:
    these tests are about the shop's records (the HTTP tests set `stripe_server`)."""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9/_stripe"


# --- The sale's invoice -----------------------------------------------------------------------


def test_a_sale_issues_its_invoice_with_a_snapshot(
    make_order, signed_event, post_webhook, stripe_session, settings
):
    """Paid through the webhook: invoice F-<year>-00001, dated the payment, stating the
    pieces as paid, shipping, totals and seller; a later change of the settings or of the
    piece's price alters nothing of it."""
    order = _pay(
        make_order, signed_event, post_webhook, stripe_session, "1250.00", "89.50",
        shipping_cost="8.00",
    )  # fmt: skip

    invoice = order.invoice
    assert invoice.number == f"F-{YEAR}-00001"
    assert invoice.issued_at == order.paid_at
    assert invoice.total == Decimal("1347.50")
    content = invoice.content
    assert [line["ttc"] for line in content["lines"]] == ["1250.00", "89.50"]
    assert content["shipping"]["ttc"] == "8.00"
    assert content["seller"]["name"] == "Claire Martin EI"
    assert content["buyer"] == {"name": "Camille Martin", "email": "cliente@example.com"}
    assert content["vat"]["mention"] == "TVA non applicable, art. 293 B du CGI"

    settings.SELLER_NAME = "Quelqu'un d'autre"
    Product.objects.update(price=Decimal("1.00"))
    assert "Claire Martin EI" in _text(documents.pdf_of(Invoice.objects.get(pk=invoice.pk)))


def test_a_conflict_refund_issues_neither_invoice_nor_credit_note(
    make_order, signed_event, post_webhook, stripe_session
):
    """A payment for a piece sold meanwhile never became a sale: refunded automatically,
    with a Refund row, and no document at all."""
    first = _pay(make_order, signed_event, post_webhook, stripe_session)
    piece = first.items.get().product
    late = make_order(products=[piece], hold=False)
    body, header = signed_event("checkout.session.completed", stripe_session(late))

    assert post_webhook(body, header).status_code == 200

    late.refresh_from_db()
    assert (late.status, late.refund_reason) == (Order.Status.REFUNDED, "conflict")
    assert Refund.objects.get(order=late).amount == late.total
    assert not Invoice.objects.filter(order=late).exists()
    assert not CreditNote.objects.exists()
    assert _numbers(Invoice) == _expected("F", 1)


def test_an_amount_mismatch_issues_no_invoice(
    make_order, signed_event, post_webhook, stripe_intent
):
    order = make_order(products=[_piece()])
    body, header = signed_event(
        "payment_intent.succeeded", stripe_intent(order, amount=100, amount_received=100)
    )
    assert post_webhook(body, header).status_code == 200
    order.refresh_from_db()
    assert order.refund_reason == "amount_mismatch"
    assert not Invoice.objects.exists()


def test_an_invoice_issued_before_the_session_gets_its_buyer_once(
    make_order, signed_event, post_webhook, stripe_intent, stripe_session
):
    """Stripe's PaymentIntent (no address, no e-mail) came first: the invoice is issued at
    the sale; the session's event completes its buyer and address; nothing else moves."""
    order = make_order(products=[_piece()])
    body, header = signed_event("payment_intent.succeeded", stripe_intent(order))
    assert post_webhook(body, header).status_code == 200
    before = Invoice.objects.get(order=order)
    assert before.content["buyer"]["email"] == ""

    body, header = signed_event("checkout.session.completed", stripe_session(order))
    assert post_webhook(body, header).status_code == 200

    after = Invoice.objects.get(order=order)
    assert after.content["buyer"] == {"name": "Camille Martin", "email": "cliente@example.com"}
    assert after.content["shipping_address"]["address"]["city"] == "Lyon"
    assert (after.number, after.total, after.content["lines"]) == (
        before.number,
        before.total,
        before.content["lines"],
    )
    message = OutboxMessage.objects.get(key=f"sale:{order.reference}:buyer")
    assert "Camille Martin" in _text(_attachments(message)[0][1])


def _attachments(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    return [tuple(a) for a in outbox.build(message).attachments]


def test_the_confirmation_carries_the_invoice_pdf(
    make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    message = OutboxMessage.objects.get(key=f"sale:{order.reference}:buyer")

    [(name, content, mimetype)] = _attachments(message)

    assert (name, mimetype) == (f"facture-F-{YEAR}-00001.pdf", "application/pdf")
    assert f"F-{YEAR}-00001" in _text(content)
    assert "Votre facture est jointe" in outbox.build(message).body


@pytest.mark.postgres
def test_the_sale_takes_the_counter_last_in_one_statement(
    make_order, signed_event, stripe_session, post_webhook
):
    """The invoice costs the webhook ONE statement (counter and insert together), taken
    after every write of the sale but the event's own row: the counter's lock is held for
    that UPDATE and the commit only."""
    order = make_order(products=[_piece()])
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    with CaptureQueriesContext(connection) as queries:
        assert post_webhook(body, header).status_code == 200

    statements = [q["sql"] for q in queries.captured_queries]
    counter = [i for i, sql in enumerate(statements) if "payments_documentcounter" in sql]
    assert len(counter) == 1
    assert 'INSERT INTO "payments_invoice"' in statements[counter[0]]
    after = [sql.split()[0] for sql in statements[counter[0] + 1 :]]
    assert after[0] == "UPDATE", statements[counter[0] + 1 :]
    assert 'UPDATE "payments_stripeevent"' in statements[counter[0] + 1]
    assert set(after[1:]) <= {"RELEASE", "COMMIT"}


# --- Numbers under concurrency ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_invoices_of_concurrent_sales_follow_each_other_without_gap(
    make_order, signed_event, stripe_session
):
    """Ten orders paid at the same moment through the real webhook. One delivery takes the
    first number and holds it half a second (the others queue on the counter) before its
    transaction fails and rolls back: nine invoices, numbered 1 to 9, no gap, no duplicate;
    Stripe's retry of the failed one gets number 10."""
    orders = [make_order(products=[_piece()]) for _ in range(10)]
    deliveries = [signed_event("checkout.session.completed", stripe_session(o)) for o in orders]

    responses = deliver_concurrently(
        deliveries, failing_thread=3, failing_statement='UPDATE "payments_stripeevent"'
    )

    assert sorted(r.status_code for r in responses) == [200] * 9 + [500]
    assert _numbers(Invoice) == _expected("F", 9)
    assert not Invoice.objects.filter(order=orders[3]).exists()
    assert DocumentCounter.objects.get(kind="F", year=YEAR).last == 9
    paid = Invoice.objects.order_by("number").values_list("issued_at", flat=True)
    assert list(paid) == sorted(paid) or len(set(paid)) == len(paid)

    retry = Client().post(
        reverse("payments:stripe-webhook"),
        data=deliveries[3][0],
        content_type="application/json",
        headers={"Stripe-Signature": deliveries[3][1]},
    )
    assert retry.status_code == 200
    assert Invoice.objects.get(order=orders[3]).number == f"F-{YEAR}-00010"
    assert _numbers(Invoice) == _expected("F", 10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_sale_gives_its_number_back(make_order):
    """A transaction that took a number and rolled back leaves no gap: the next takes it."""
    from payments.services.documents import issue_invoice

    first, second = (make_order(products=[_piece()], paid_at=timezone.now()) for _ in range(2))

    def failing_sale() -> None:
        with transaction.atomic():
            issue_invoice(order=first, lines=[("x", Decimal("1.00"))])
            raise RuntimeError("the sale failed after its invoice")

    with pytest.raises(RuntimeError):
        failing_sale()
    assert not Invoice.objects.exists()

    with transaction.atomic():
        invoice = issue_invoice(order=second, lines=[("x", Decimal("1.00"))])
    assert invoice.number == f"F-{YEAR}-00001"


# --- Issued documents never change ---------------------------------------------------------------


def test_an_issued_invoice_is_never_changed_or_deleted(
    make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    invoice = order.invoice

    invoice.total = Decimal("1.00")
    with pytest.raises(IssuedDocumentChanged):
        invoice.save()
    with pytest.raises(IssuedDocumentChanged):
        invoice.delete()
    with pytest.raises(IssuedDocumentChanged):
        Invoice.objects.filter(pk=invoice.pk).update(total=Decimal("1.00"))
    with pytest.raises(IssuedDocumentChanged):
        Invoice.objects.all().delete()
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("120.00")


@pytest.mark.postgres
def test_postgresql_refuses_a_change_made_behind_the_models_back(
    make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    for sql in (
        "UPDATE payments_invoice SET total = 1 WHERE id = %s",
        "UPDATE payments_invoice SET content = content || '{\"lines\": []}' WHERE id = %s",
        "DELETE FROM payments_invoice WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
            connection.cursor().execute(sql, [order.invoice.pk])


# --- Refunds and credit notes ------------------------------------------------------------------


def test_a_refund_of_a_sale_issues_a_credit_note_naming_its_invoice(
    make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session, "120.00", "80.00")

    done = services.refund_sale(order_id=order.pk, amount=Decimal("80.00"), note="Pièce abîmée")

    note = CreditNote.objects.get()
    assert note.number == done.credit_note_number == f"A-{YEAR}-00001"
    assert note.invoice == order.invoice
    assert note.refund == done.refund
    assert note.total == Decimal("80.00")
    assert note.content["invoice"]["number"] == order.invoice.number
    assert note.content["refund"]["amount"] == "80.00"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # part of the payment is kept
    assert order.refund_reason == ""
    assert done.refund.partial

    services.refund_sale(order_id=order.pk, note="Rétractation")
    order.refresh_from_db()
    assert (order.status, order.refund_reason) == (Order.Status.REFUNDED, "admin")
    assert [r.amount for r in order.refunds.all()] == [Decimal("80.00"), Decimal("120.00")]
    assert _numbers(CreditNote) == _expected("A", 2)
    mail = OutboxMessage.objects.get(key=f"refund:{order.reference}:{done.refund.pk}:buyer")
    [(name, pdf, _)] = _attachments(mail)
    assert name == f"avoir-A-{YEAR}-00001.pdf"
    assert "Remboursement partiel" in mail.subject
    assert f"80,00{NBSP}€" in outbox.build(mail).body


def test_a_refund_above_what_is_left_is_refused_and_changes_nothing(
    make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    services.refund_sale(order_id=order.pk, amount=Decimal("100.00"))

    with pytest.raises(RefundRefused, match="20,00"):
        services.refund_sale(order_id=order.pk, amount=Decimal("20.01"))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.refunds.count() == 1
    assert CreditNote.objects.count() == 1
    assert DocumentCounter.objects.get(kind="A").last == 1


def test_an_unpaid_order_cannot_be_refunded(make_order):
    order = make_order(products=[_piece()])
    with pytest.raises(RefundRefused, match="n'est pas une vente"):
        services.refund_sale(order_id=order.pk)
    assert not Refund.objects.exists()


def test_putting_a_piece_back_on_a_partial_refund(
    make_order, signed_event, post_webhook, stripe_session
):
    """One piece of two comes back: its price refunded, it alone back on sale."""
    order = _pay(make_order, signed_event, post_webhook, stripe_session, "120.00", "80.00")
    back, kept = sorted(order.items.all(), key=lambda i: i.price)

    services.refund_sale(
        order_id=order.pk, amount=Decimal("80.00"), put_back_product_ids=[back.product_id]
    )

    statuses = dict(Product.objects.with_status().values_list("pk", "stock_status"))
    assert statuses[back.product_id] == StockStatus.AVAILABLE
    assert statuses[kept.product_id] == StockStatus.SOLD
    assert not OrderItem.objects.get(pk=back.pk).sold


@pytest.mark.django_db(transaction=True)
def test_a_partial_refund_reaches_stripe_once_with_its_amount(stripe_server, settings):
    """Over HTTP to the offline Stripe: the partial refund is sent with its amount, once
    however often it is retried; the rest goes without one and Stripe refunds what is left."""
    settings.STRIPE_API_BASE = f"{stripe_server.url}/_stripe"
    piece = _piece("310.00")
    order = services.start_checkout(product_ids=[piece.pk], shopper_id="s-partial")
    assert submit_hosted_page(order.checkout_url).status_code == 303
    order.refresh_from_db()

    done = services.refund_sale(order_id=order.pk, amount=Decimal("25.50"), note="Geste")
    services.send_pending_stripe_calls(order_id=order.pk)
    Refund.objects.filter(pk=done.refund.pk).update(state=Refund.State.FAILED)
    Order.objects.filter(pk=order.pk).update(refund_pending=True)
    services.send_pending_stripe_calls(order_id=order.pk)  # a retry: the same key

    intent = order.stripe_payment_intent_id
    amounts = lambda: list(  # noqa: E731
        StripeRefund.objects.filter(payment_intent__stripe_id=intent)
        .order_by("pk")
        .values_list("amount", flat=True)
    )
    assert amounts() == [2550]
    order.refresh_from_db()
    assert order.refunded_at is None  # partly refunded: still a sale
    refund = Refund.objects.get(pk=done.refund.pk)
    assert refund.state == Refund.State.SENT
    assert refund.stripe_refund_id.startswith("re_")

    services.refund_sale(order_id=order.pk, note="Rétractation")
    assert amounts() == [2550, 28450]
    order.refresh_from_db()
    assert (order.status, order.refund_pending) == (Order.Status.REFUNDED, False)
    assert order.refunded_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_failed_partial_refund_is_retried_by_reconcile(stripe_server, settings):
    settings.STRIPE_API_BASE = f"{stripe_server.url}/_stripe"
    piece = _piece("310.00")
    order = services.start_checkout(product_ids=[piece.pk], shopper_id="s-retry")
    assert submit_hosted_page(order.checkout_url).status_code == 303
    api = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9/_stripe"
    done = services.refund_sale(order_id=order.pk, amount=Decimal("10.00"))
    assert Refund.objects.get(pk=done.refund.pk).state == Refund.State.FAILED
    settings.STRIPE_API_BASE = api

    from django.core.management import call_command

    call_command("reconcile", stdout=io.StringIO())

    assert Refund.objects.get(pk=done.refund.pk).state == Refund.State.SENT
    assert list(StripeRefund.objects.values_list("amount", flat=True)) == [1000]


# --- PDFs ---------------------------------------------------------------------------------------


def test_the_invoice_pdf_opens_and_carries_the_mentions(
    make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(
        make_order, signed_event, post_webhook, stripe_session, "1250.00", shipping_cost="8.00"
    )
    text = _text(documents.pdf_of(order.invoice))

    for mention in (
        "FACTURE",
        f"F-{YEAR}-00001",
        "Claire Martin EI",
        "12 rue des Lilas, 75011 Paris",
        "SIREN : 123 456 789",
        order.reference,
        "Camille Martin",
        "cliente@example.com",
        "3 rue des Lilas",
        "Lyon",
        "France",
        "Pichet n°",
        "1 250,00 €",
        "Livraison",
        "8,00 €",
        "1 258,00 €",
        "TVA non applicable, art. 293 B du CGI",
        "Payée le",
        "Stripe",
        f"pi_{order.reference}",
        "médiateur de la consommation : CM2C",
        "https://www.cm2c.net",
    ):
        assert mention in text, mention


def test_with_a_vat_number_the_invoice_shows_ht_vat_ttc_per_line(
    make_order, signed_event, post_webhook, stripe_session, settings
):
    """20 %: 100.00 TTC is 83.33 HT + 16.67; 0.10 TTC is 0.08 HT + 0.02 (rounded per line)."""
    settings.SELLER_VAT_NUMBER = "FR12123456789"
    settings.VAT_RATE = Decimal("20")
    order = _pay(make_order, signed_event, post_webhook, stripe_session, "100.00", "0.10")

    content = order.invoice.content
    assert [(line["ht"], line["vat"]) for line in content["lines"]] == [
        ("83.33", "16.67"),
        ("0.08", "0.02"),
    ]
    assert content["totals"] == {"ht": "83.41", "vat": "16.69", "ttc": "100.10"}
    text = _text(documents.pdf_of(order.invoice))
    assert "FR12123456789" in text
    assert "Prix HT" in text
    assert "TVA 20 %" in text
    assert "Total TTC" in text
    assert "293 B" not in text


def test_the_credit_note_pdf_names_its_invoice_and_amount(
    make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    services.refund_sale(order_id=order.pk, amount=Decimal("20.00"), note="Colis abîmé")

    text = _text(documents.pdf_of(CreditNote.objects.get()))

    assert "AVOIR" in text
    assert f"A-{YEAR}-00001" in text
    assert f"Avoir sur la facture F-{YEAR}-00001" in text
    assert "20,00 €" in text
    assert "Motif : Colis abîmé" in text


def test_a_name_in_another_script_prints_without_breaking_the_pdf(
    make_order, signed_event, post_webhook, stripe_session
):
    piece = _piece()
    Product.objects.filter(pk=piece.pk).update(name="Vase ☃ 花瓶 Émile")
    order = make_order(products=[Product.objects.get(pk=piece.pk)])
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    post_webhook(body, header)

    text = _text(documents.pdf_of(Invoice.objects.get(order=order)))
    assert "Vase" in text
    assert "Émile" in text


def test_a_long_piece_name_wraps_in_its_row_and_prints_whole(
    make_order, signed_event, post_webhook, stripe_session
):
    name = (
        "Très grande armoire normande en chêne massif sculpté de fleurs et d'oiseaux, "
        "avec sa clé d'origine et ses ferrures en laiton"
    )
    short, long_ = _piece("80.00"), _piece("1450.00")
    Product.objects.filter(pk=long_.pk).update(name=name)
    order = make_order(products=[short, Product.objects.get(pk=long_.pk)])
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    post_webhook(body, header)

    text = " ".join(_text(documents.pdf_of(Invoice.objects.get(order=order))).split())
    assert name.replace("'", "’") in text.replace("'", "’")
    assert "1 450,00 €" in text.replace(NBSP, " ")


# --- The buyer's links and the owner's pages ---------------------------------------------------


def test_the_buyer_opens_the_documents_under_the_signed_token(
    client, make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    services.refund_sale(order_id=order.pk, amount=Decimal("10.00"))
    token = order_token(order.reference)

    links = documents.buyer_links(order)
    assert [link.label for link in links] == [f"Facture F-{YEAR}-00001", f"Avoir A-{YEAR}-00001"]
    invoice = client.get(links[0].url)
    note = client.get(links[1].url)

    assert invoice.status_code == note.status_code == 200
    assert invoice["Content-Type"] == "application/pdf"
    assert f"F-{YEAR}-00001" in _text(invoice.content)
    assert f"A-{YEAR}-00001" in _text(note.content)
    assert "no-cache" in invoice["Cache-Control"] or "no-store" in invoice["Cache-Control"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(reverse("payments:order-invoice", args=[tampered])).status_code == 404
    other = _pay(make_order, signed_event, post_webhook, stripe_session)
    other_token = order_token(other.reference)
    foreign = reverse("payments:order-credit-note", args=[other_token, f"A-{YEAR}-00001"])
    assert client.get(foreign).status_code == 404


@pytest.fixture
def owner_client(client, db) -> Client:
    owner = User.objects.create_superuser("proprietaire", "p@example.com", "un-mot-de-passe")
    client.force_login(owner)
    return client


def test_the_order_page_offers_the_refund_and_lists_documents(
    owner_client, make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    services.refund_sale(order_id=order.pk, amount=Decimal("10.00"), note="Geste commercial")

    page = owner_client.get(reverse("admin:payments_order_change", args=[order.pk])).content
    page = page.decode()

    assert reverse("admin:payments_order_refund", args=[order.pk]) in page
    assert f"Facture F-{YEAR}-00001" in page
    assert f"Avoir A-{YEAR}-00001" in page
    assert "Geste commercial" in page
    pdf = owner_client.get(reverse("admin:payments_order_invoice", args=[order.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"


def test_the_refund_page_defaults_to_what_is_left_and_warns_when_shipped(
    owner_client, make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    services.refund_sale(order_id=order.pk, amount=Decimal("20.00"))
    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now(), carrier="Colissimo")
    url = reverse("admin:payments_order_refund", args=[order.pk])

    page = owner_client.get(url)

    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="montant" value="100,00"' in html
    assert "Le colis est parti : attendez le retour ?" in html
    assert page.context["form"].initial["remettre_en_vente"] == []  # the piece is away

    too_much = owner_client.post(url, {"montant": "100,01", "motif": "Rétractation"})
    assert too_much.status_code == 400
    assert "Il ne reste que 100,00" in too_much.content.decode()
    ambiguous = owner_client.post(url, {"montant": "1.000", "motif": "Rétractation"})
    assert ambiguous.status_code == 400
    assert order.refunds.count() == 1


def test_the_accountant_exports_a_period_as_csv(
    owner_client, make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session, "120.00")
    services.refund_sale(order_id=order.pk, amount=Decimal("20.00"))
    today = timezone.localdate()

    response = owner_client.get(
        reverse("admin:payments_invoice_export"), {"du": today.isoformat(), "au": today}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Numéro", "Type", "Date"]
    assert [row[:2] for row in rows[1:]] == [
        [f"F-{YEAR}-00001", "Facture"],
        [f"A-{YEAR}-00001", "Avoir"],
    ]
    invoice_row, note_row = rows[1:]
    assert invoice_row[2] == today.strftime("%d/%m/%Y")
    assert invoice_row[4:9] == ["Camille Martin", "cliente@example.com", "120,00", "0,00", "120,00"]
    assert note_row[6:9] == ["-20,00", "0,00", "-20,00"]
    assert note_row[10:] == [f"F-{YEAR}-00001", f"pi_{order.reference}"]

    yesterday = today.replace(day=today.day - 1) if today.day > 1 else today
    if yesterday != today:
        empty = owner_client.get(
            reverse("admin:payments_invoice_export"), {"du": yesterday, "au": yesterday}
        )
        assert len(empty.content.decode("utf-8-sig").splitlines()) == 1
    bad = owner_client.get(reverse("admin:payments_invoice_export"), {"du": today, "au": "x"})
    assert bad.status_code == 400


def test_issued_documents_cannot_be_added_changed_or_deleted_in_the_admin(
    owner_client, make_order, signed_event, post_webhook, stripe_session
):
    order = _pay(make_order, signed_event, post_webhook, stripe_session)
    listing = owner_client.get(reverse("admin:payments_invoice_changelist"))
    assert listing.status_code == 200
    assert f"F-{YEAR}-00001" in listing.content.decode()
    assert owner_client.get(reverse("admin:payments_invoice_add")).status_code == 403
    delete = reverse("admin:payments_invoice_delete", args=[order.invoice.pk])
    assert owner_client.post(delete, {"post": "yes"}).status_code == 403
    assert Invoice.objects.filter(pk=order.invoice.pk).exists()


# --- Orders from before refunds had rows ---------------------------------------------------------


def test_the_migration_records_earlier_refunds_and_sales(make_order):
    """A sale and a refund made before this change: each refunded order gets one Refund
    (its key as first sent), each sale its invoice, each owner's refund its credit note."""
    from importlib import import_module

    history = import_module("payments.migrations.0013_documents_guard_and_history").history
    earlier = timezone.now() - timezone.timedelta(days=3)
    kept = make_order(products=[_piece()], status=Order.Status.PAID, paid_at=earlier)
    refunded = make_order(
        products=[_piece("50.00")],
        status=Order.Status.REFUNDED,
        refund_reason="admin",
        paid_at=earlier - timezone.timedelta(hours=1),
        refunded_at=earlier,
        stripe_refund_id="re_old",
        amount_received=Decimal("50.00"),
    )
    conflict = make_order(
        products=[_piece()], status=Order.Status.REFUNDED, refund_reason="conflict",
        refund_pending=True, last_error="refund: down",
    )  # fmt: skip

    history(django_apps, None)

    assert Refund.objects.get(order=refunded).state == Refund.State.SENT
    assert (
        Refund.objects.get(order=refunded).idempotency_key == f"order-{refunded.reference}-refund"
    )
    assert Refund.objects.get(order=conflict).state == Refund.State.FAILED
    assert not Refund.objects.filter(order=kept).exists()
    assert Invoice.objects.get(order=refunded).number.endswith("-00001")  # paid first
    assert Invoice.objects.get(order=kept).number.endswith("-00002")
    assert not Invoice.objects.filter(order=conflict).exists()
    assert CreditNote.objects.get().invoice.order == refunded


def test_a_sale_made_by_the_code_from_before_invoices_gets_its_invoice_from_reconcile(
    make_order,
):
    """During a deploy, a process still running the code from before sold a piece without
    an invoice: reconcile's step issues it, dated the payment, and issues nothing twice."""
    from payments.services.documents import issue_missing_invoices

    paid_at = timezone.now() - timezone.timedelta(minutes=5)
    sale = make_order(products=[_piece("75.00")], status=Order.Status.PAID, paid_at=paid_at)
    make_order(products=[_piece()], status=Order.Status.REFUNDED, refund_reason="conflict")

    assert issue_missing_invoices() == [sale.reference]
    assert issue_missing_invoices() == []

    invoice = Invoice.objects.get()
    assert (invoice.order, invoice.issued_at, invoice.total) == (sale, paid_at, Decimal("75.00"))
    assert invoice.number == f"F-{YEAR}-00001"


def test_the_order_page_links_the_invoice_and_credit_notes(
    client, make_order, signed_event, post_webhook, stripe_session
):
    """« Facture F-2026-00001 » on the buyer's order page is the link to its PDF (SPEC §12);
    a partial refund adds its credit note and the page says « Remboursée partiellement »."""
    from payments import order_page

    order = _pay(make_order, signed_event, post_webhook, stripe_session, "120.00")
    token = order_token(order.reference)
    invoice_link = reverse("payments:order-invoice", args=[token])

    page = client.get(order_page.path_for(order.reference)).content.decode()
    assert f'<a href="{invoice_link}" data-document>Facture F-{YEAR}-00001</a>' in page

    services.refund_sale(order_id=order.pk, amount=Decimal("20.00"), note="Geste commercial")
    page = client.get(order_page.path_for(order.reference)).content.decode()
    note_link = reverse("payments:order-credit-note", args=[token, f"A-{YEAR}-00001"])
    assert f'<a href="{note_link}" data-document>Avoir A-{YEAR}-00001</a>' in page
    assert "Remboursée partiellement" in page
    assert client.get(note_link).status_code == 200


def test_paragraphs_wrap_at_spaces_and_keep_amounts_whole():
    from payments.pdf_layout import wrap

    def measure(text: str) -> float:
        return len(text)

    text = f"Remboursement de 1{NBSP}320,50{NBSP}€ effectué le 06/12/2026"
    lines = wrap(text, 16, measure)
    assert lines == ["Remboursement de", f"1{NBSP}320,50{NBSP}€", "effectué le", "06/12/2026"]
    assert wrap("une ligne\npuis une autre", 20, measure) == ["une ligne", "puis une autre"]
    assert wrap("https://exemple.test/une-adresse-bien-trop-longue", 20, measure) is None
