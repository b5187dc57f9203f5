"""The online withdrawal, end to end (SPEC §12; Code de la consommation L221-21, D221-5): the
footer's link and the order page's button, the form, « Confirmer la rétractation », the
declaration recorded under the order's lock, its acknowledgement with the date and time in
Paris, the owner told; one withdrawal and one acknowledgement however often (and however
concurrently) it is sent; wrong pairs refused alike; closed, refunded and unpaid orders
refused with nothing recorded. Through the real views, CSRF checks on, committing for real."""

import re
import threading
import time
from datetime import datetime, timedelta
from html import unescape

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import order_page, withdrawal_period
from payments.models import Order, OutboxMessage
from payments.services import mail as senders
from payments.tests.after_sale import mails_to, order_page_links, paid_order
from products.templatetags.money import euros
from shop.words import day_in_words, paris_moment

pytestmark = pytest.mark.django_db(transaction=True)

FORM = reverse("payments:withdrawal")
WITHDRAW = "Renoncer au contrat ici"
CONFIRM = "Confirmer la rétractation"


@pytest.fixture
def order(make_product, make_order):
    return paid_order(make_product, make_order)


def buyer() -> Client:
    return Client(enforce_csrf_checks=True)


def submit(client: Client, **fields: str):
    """Open the form (which sets the CSRF cookie), then send it as the browser would."""
    if "csrftoken" not in client.cookies:
        assert client.get(FORM).status_code == 200
    data = {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **fields}
    return client.post(FORM, data)


def field_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', tag)
    return unescape(value.group(1)) if value else ""


def problem(html: str) -> str:
    found = re.search(r"data-withdrawal-problem>(.*?)</div>", html, re.DOTALL)
    return found.group(1) if found else ""


def acknowledgements(order: Order) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.subject.startswith("Accusé de réception")]


def test_from_the_footer_to_the_acknowledgement(order, client, settings):
    """Every page's footer links the form; the form asks the reference, the e-mail and the
    name, and a separate button confirms; the order records the declaration; the buyer
    gets its acknowledgement at once, with its content and the date and time in Paris; the
    owner is told, with the refund's deadline."""
    settings.SELLER_EMAIL = "bonjour@atelier.example"
    catalogue = client.get("/").content.decode()
    assert f'<a class="footer-links__withdrawal" href="{FORM}">{WITHDRAW}</a>' in catalogue

    shopper = buyer()
    form = shopper.get(FORM)
    assert form.status_code == 200
    html = form.content.decode()
    for name in ("reference", "email", "nom"):
        assert f'name="{name}"' in html
    assert f'<button class="button" type="submit">{CONFIRM}</button>' in html

    before = timezone.now()
    response = submit(
        shopper, reference=order.reference, email=order.customer_email, nom="Camille Martin"
    )
    after = timezone.now()

    assert response.status_code == 200
    page = response.content.decode()
    assert "Votre rétractation est enregistrée" in page
    order.refresh_from_db()
    assert before <= order.withdrawn_at <= after
    declaration = order.withdrawal_declaration
    assert declaration["reference"] == order.reference
    assert declaration["name"] == "Camille Martin"
    assert declaration["email"] == order.customer_email
    assert declaration["pieces"] == [
        {"name": "Lampe « champignon »", "price": "120.00"},
        {"name": "Vase bleu", "price": "45.50"},
    ]
    submitted = datetime.fromisoformat(declaration["submitted_at"])
    assert submitted == order.withdrawn_at
    assert declaration["submitted_at"].endswith(("+01:00", "+02:00"))  # Paris time

    when = paris_moment(order.withdrawn_at)  # « samedi 12 décembre 2026 à 14:03:07 (heure… »
    assert re.search(r" à \d\d:\d\d:\d\d \(heure de Paris\)$", when)
    assert when in page

    [ack] = acknowledgements(order)
    assert ack.to == [order.customer_email]
    assert ack.reply_to == ["bonjour@atelier.example"]
    assert order.reference in ack.subject
    for text in (order.reference, "Camille Martin", order.customer_email, "Vase bleu"):
        assert text in ack.body
    assert f"Envoyée le {when}" in ack.body
    assert euros("45.50") in ack.body
    refund_by = withdrawal_period.refund_deadline(order.withdrawn_at)
    assert f"Nous vous remboursons au plus tard le {day_in_words(refund_by)}" in ack.body
    assert order_page_links(ack) == {order_page.url_for(order.reference)}
    html_ack = ack.alternatives[0].content
    assert when in html_ack

    [note] = [m for m in mails_to("proprietaire@example.com") if m.subject.startswith("Rétract")]
    deadline = withdrawal_period.refund_deadline(order.withdrawn_at)
    assert note.subject == (
        f"Rétractation : commande {order.reference}, à rembourser au plus tard le "
        f"{deadline:%d/%m/%Y}"
    )
    assert day_in_words(deadline) in note.body
    assert f"/admin/payments/order/{order.pk}/change/" in note.body


def test_the_order_pages_button_fills_the_form_in(order):
    """From the e-mail's link, no cookie: the order page's button opens the form with the
    order's reference, e-mail and name; one click on « Confirmer la rétractation » sends it."""
    shopper = buyer()
    page = shopper.get(order_page.path_for(order.reference)).content.decode()
    button = re.search(rf'href="([^"]+)" data-withdrawal-button>{WITHDRAW}<', page).group(1)

    form = shopper.get(unescape(button)).content.decode()

    assert field_value(form, "reference") == order.reference
    assert field_value(form, "email") == order.customer_email
    assert field_value(form, "nom") == "Camille Martin"
    response = submit(
        shopper,
        reference=field_value(form, "reference"),
        email=field_value(form, "email"),
        nom=field_value(form, "nom"),
    )
    assert response.status_code == 200
    assert len(acknowledgements(order)) == 1


def test_a_bad_token_prefills_nothing(order):
    form = buyer().get(FORM, {"commande": order.reference}).content.decode()
    assert field_value(form, "reference") == ""
    assert order.customer_email not in form


def test_sent_twice_one_withdrawal_one_acknowledgement_and_a_kind_word(order):
    shopper = buyer()
    first = submit(shopper, reference=order.reference, email=order.customer_email)
    order.refresh_from_db()
    recorded_at = order.withdrawn_at

    second = submit(shopper, reference=order.reference.lower(), email=order.customer_email)

    assert first.status_code == second.status_code == 200
    page = second.content.decode()
    assert 'data-withdrawal="already"' in page
    assert "Votre rétractation nous était déjà parvenue" in page
    assert paris_moment(recorded_at) in page
    order.refresh_from_db()
    assert order.withdrawn_at == recorded_at
    assert len(acknowledgements(order)) == 1
    assert OutboxMessage.objects.filter(key__startswith="withdrawal:").count() == 2  # buyer, owner


@pytest.mark.postgres
def test_two_concurrent_submissions_record_one_withdrawal_and_one_acknowledgement(order):
    """Both pass the checks made without a lock, then queue on the order's row lock (held
    here until both wait for it): the second finds the withdrawal recorded."""
    outcomes: list[str] = []
    started = threading.Barrier(3)

    def send() -> None:
        try:
            shopper = buyer()
            shopper.get(FORM)
            started.wait()
            response = submit(shopper, reference=order.reference, email=order.customer_email)
            outcomes.append(re.search(r'data-withdrawal="(\w+)"', response.content.decode())[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order.pk)
        for thread in threads:
            thread.start()
        started.wait()
        _wait_for_lock_waiters(2)
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["already", "recorded"]
    assert len(acknowledgements(order)) == 1
    assert OutboxMessage.objects.filter(key=f"withdrawal:{order.reference}:buyer").count() == 1


def _wait_for_lock_waiters(count: int) -> None:
    """Until `count` other sessions wait for a row lock (the order's)."""
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.05)
    raise AssertionError("the submissions never reached the order's lock")


def test_an_unknown_reference_and_a_wrong_email_are_refused_alike(order):
    """Same status, same words: the page never tells whether a reference exists."""
    unknown = submit(buyer(), reference="B-ZZZZZZZZ", email=order.customer_email)
    wrong_email = submit(buyer(), reference=order.reference, email="quelquun@example.com")
    no_email_order = submit(buyer(), reference=order.reference, email="")

    assert unknown.status_code == wrong_email.status_code == 400
    assert problem(unknown.content.decode()) == problem(wrong_email.content.decode())
    assert "Nous ne trouvons pas de commande avec cette référence" in problem(
        unknown.content.decode()
    )
    assert no_email_order.status_code == 400  # a form error: the e-mail is required
    order.refresh_from_db()
    assert order.withdrawn_at is None
    assert mail.outbox == []


def test_the_email_is_compared_without_regard_to_case_and_the_reference_loosely(order):
    response = submit(
        buyer(), reference=" b-" + order.reference[2:].lower(), email="CAMILLE@Example.COM"
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.withdrawn_at is not None


def test_a_closed_period_is_refused_with_its_end_and_nothing_recorded(order):
    delivered = timezone.now() - timedelta(days=30)
    Order.objects.filter(pk=order.pk).update(
        shipped_at=delivered - timedelta(days=2), delivered_at=delivered
    )
    last = withdrawal_period.last_day(shipped_at=None, delivered_at=delivered, days=14)

    response = submit(buyer(), reference=order.reference, email=order.customer_email)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Le délai de rétractation est écoulé" in page
    assert f"a pris fin le <strong>{day_in_words(last)}</strong> à minuit" in page
    order.refresh_from_db()
    assert order.withdrawn_at is None
    assert order.withdrawal_declaration is None
    assert mail.outbox == []


def test_a_refunded_or_unpaid_order_is_refused_and_nothing_recorded(
    order, make_product, make_order
):
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUNDED)
    refunded = submit(buyer(), reference=order.reference, email=order.customer_email)
    unpaid = make_order(
        products=[make_product()], status=Order.Status.PROCESSING, customer_email="a@example.com"
    )
    not_paid = submit(buyer(), reference=unpaid.reference, email="a@example.com")

    assert refunded.status_code == not_paid.status_code == 409
    assert "Cette commande est déjà remboursée" in refunded.content.decode()
    assert "Cette commande n'a pas été payée" in not_paid.content.decode()
    assert not Order.objects.filter(withdrawn_at__isnull=False).exists()
    assert mail.outbox == []


def test_the_form_needs_its_csrf_token(order):
    shopper = buyer()
    response = shopper.post(FORM, {"reference": order.reference, "email": order.customer_email})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.withdrawn_at is None


def test_submissions_are_rate_limited_per_client_address(order, settings):
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_WITHDRAWAL = "2/m"
    bot = Client(REMOTE_ADDR="203.0.113.7")
    other = Client(REMOTE_ADDR="198.51.100.4")

    statuses = [
        bot.post(FORM, {"reference": f"B-AAAAAAA{n}", "email": "x@example.com"}).status_code
        for n in range(3)
    ]

    assert statuses == [400, 400, 429]
    refused = bot.post(FORM, {"reference": order.reference, "email": order.customer_email})
    assert refused.status_code == 429
    assert "Votre demande n'a pas été enregistrée" in refused.content.decode()
    assert (
        other.post(FORM, {"reference": "B-AAAAAAAA", "email": "x@example.com"}).status_code == 400
    )
    order.refresh_from_db()
    assert order.withdrawn_at is None
    assert bot.get(FORM).status_code == 200  # the form itself is never limited


def test_with_the_mail_server_down_the_withdrawal_stands_and_its_acknowledgement_waits(
    order, monkeypatch
):
    """SPEC §12, §13: queued at once with the withdrawal; sent as soon as the server answers,
    by the next sender, with the date and time of the submission (not of the sending)."""

    def down(self, messages):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as broken:
        broken.setattr(EmailBackend, "send_messages", down)
        response = submit(buyer(), reference=order.reference, email=order.customer_email)
    assert response.status_code == 200
    assert mail.outbox == []
    order.refresh_from_db()
    waiting = OutboxMessage.objects.get(key=f"withdrawal:{order.reference}:buyer")
    assert waiting.status == OutboxMessage.Status.PENDING

    senders.send_pending(due_only=False)

    [ack] = acknowledgements(order)
    assert f"Envoyée le {paris_moment(order.withdrawn_at)}" in ack.body
