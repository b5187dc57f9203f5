"""The owner's side of withdrawals (SPEC §12): « Rétractations à traiter » with each refund's
deadline (the withdrawal + 14 days, red once passed), the declaration on the order's page, the
refund and the pieces back on sale from there; and the dashboard, which counts them and warns
while the shop lacks what it needs to sell lawfully."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.flatpages.models import FlatPage
from django.urls import reverse
from django.utils import timezone

from payments import services, withdrawal_period
from payments.models import Order
from payments.tests.after_sale import paid_order
from products.legal import LEGAL_PAGES, create_legal_pages
from products.models import Product

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:payments_order_changelist")
DASHBOARD = reverse("admin:payments_order_dashboard")
TO_HANDLE = {"retractation": "a-traiter"}


@pytest.fixture
def withdrawn(make_product, make_order):
    """`withdrawn(days_ago)`: a paid order its buyer withdrew from that many days ago."""

    def make(days_ago: int) -> Order:
        order = paid_order(make_product, make_order)
        services.withdraw(reference=order.reference, email=order.customer_email, name="Camille")
        Order.objects.filter(pk=order.pk).update(
            withdrawn_at=timezone.now() - timedelta(days=days_ago)
        )
        order.refresh_from_db()
        return order

    return make


def rows(html: str) -> list[str]:
    """The list's rows, its header first; none when the list is empty."""
    if 'id="result_list"' not in html:
        return []
    return re.findall(r"<tr[^>]*>.*?</tr>", html.split('id="result_list"')[1], re.DOTALL)


def test_the_list_of_withdrawals_to_handle_shows_each_deadline_oldest_first(
    admin_client, withdrawn, make_product, make_order
):
    recent, overdue = withdrawn(2), withdrawn(20)
    paid_order(make_product, make_order)  # not withdrawn: not listed
    refunded = withdrawn(3)
    services.refund_paid_order(order_id=refunded.pk, put_back_on_sale=False)

    page = admin_client.get(ORDERS, TO_HANDLE).content.decode()

    listed = rows(page)[1:]
    assert [re.search(r"B-\w{8}", r).group(0) for r in listed] == [
        overdue.reference,
        recent.reference,
    ]
    # Each deadline is the link to that order's refund confirmation.
    late = withdrawal_period.refund_deadline(overdue.withdrawn_at)
    refund_overdue = reverse("admin:payments_order_refund", args=[overdue.pk])
    assert (
        f'<a class="withdrawal withdrawal--overdue" href="{refund_overdue}">en retard : '
        f"{late:%d/%m/%Y}</a>" in listed[0]
    )
    soon = withdrawal_period.refund_deadline(recent.withdrawn_at)
    refund_recent = reverse("admin:payments_order_refund", args=[recent.pk])
    assert (
        f'<a class="withdrawal withdrawal--todo" href="{refund_recent}">à rembourser le '
        f"{soon:%d/%m/%Y}</a>" in listed[1]
    )
    assert ">Rétractations à traiter<" in page
    assert "Rétractations à traiter" in page


def test_the_deadline_is_the_withdrawals_day_in_paris_plus_14(withdrawn):
    order = withdrawn(0)
    assert withdrawal_period.refund_deadline(order.withdrawn_at) == (
        withdrawal_period.paris_day(order.withdrawn_at) + timedelta(days=14)
    )


def test_a_withdrawn_orders_page_shows_the_declaration_and_how_to_refund(admin_client, withdrawn):
    order = withdrawn(1)
    page = admin_client.get(reverse("admin:payments_order_change", args=[order.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Rétractation" in html
    assert "Camille" in html
    assert "Lampe « champignon »" in html
    assert "(heure de Paris)" in html
    assert "Rembourser…" in html
    assert reverse("admin:payments_order_refund", args=[order.pk]) in html


def test_an_order_not_withdrawn_has_no_withdrawal_section(admin_client, make_product, make_order):
    order = paid_order(make_product, make_order)
    html = admin_client.get(reverse("admin:payments_order_change", args=[order.pk])).content
    assert "déclaration du client" not in html.decode()


def test_from_the_list_the_owner_refunds_and_puts_the_pieces_back_on_sale(admin_client, withdrawn):
    """The withdrawal's « à rembourser » leads to the refund's confirmation, all that is
    left and the withdrawal's reason offered; confirmed with the pieces ticked, the order is
    refunded and its pieces are back on sale."""
    order = withdrawn(4)
    refund_url = reverse("admin:payments_order_refund", args=[order.pk])
    assert refund_url in "".join(rows(admin_client.get(ORDERS, TO_HANDLE).content.decode()))
    form = admin_client.get(refund_url).context["form"]
    assert form.initial["motif"] == "Rétractation du client"

    response = admin_client.post(
        refund_url,
        {
            "montant": f"{form.initial['montant']:.2f}",
            "motif": form.initial["motif"],
            "remettre_en_vente": [str(pk) for pk, _ in form.fields["remettre_en_vente"].choices],
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert all(p.in_stock for p in Product.objects.filter(order_items__order=order))
    admin_client.get(ORDERS)  # the messages about the refund, read
    assert order.reference not in "".join(
        rows(admin_client.get(ORDERS, TO_HANDLE).content.decode())
    )


def test_the_dashboard_counts_withdrawals_to_handle_and_those_overdue(admin_client, withdrawn):
    withdrawn(1), withdrawn(16), withdrawn(30)

    html = admin_client.get(DASHBOARD).content.decode()

    figure = re.search(r'data-figure="withdrawals">(.*?)</a>', html, re.DOTALL).group(1)
    assert "Rétractations à traiter" in figure
    assert "<strong>3</strong> · dont 2 en retard" in figure
    assert 'dashboard__figure--alert" href="/admin/payments/order/?retractation=a-traiter"' in html


# --- What to settle before opening -------------------------------------------------------


def settle(admin_client) -> str:
    html = admin_client.get(DASHBOARD).content.decode()
    found = re.search(r"data-to-settle>(.*?)</div>", html, re.DOTALL)
    return unescape(found.group(1)) if found else ""


@pytest.fixture
def complete(settings):
    """A shop whose seller, owner and mediator are all set, and whose pages are written."""
    settings.SELLER_NAME = "Camille Martin EI"
    settings.SELLER_ADDRESS = "12 rue des Lilas, 75011 Paris"
    settings.SELLER_SIREN = "123 456 789"
    settings.OWNER_EMAIL = "camille@example.com"
    settings.MEDIATOR_NAME = "Médiateur du e-commerce"
    settings.MEDIATOR_URL = "https://mediateur.example"
    create_legal_pages()
    for page in FlatPage.objects.all():
        page.content = re.sub(r"\[([^\[\]]+)\](?!\()", r"\1", page.content)
        page.save()
    return settings


def test_nothing_to_settle_in_a_complete_shop(admin_client, complete):
    assert settle(admin_client) == ""


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("SELLER_NAME", "Le nom du vendeur n'est pas renseigné"),
        ("SELLER_ADDRESS", "L'adresse du vendeur n'est pas renseignée"),
        ("SELLER_SIREN", "Le numéro SIREN n'est pas renseigné"),
        ("OWNER_EMAIL", "Aucune adresse e-mail pour vous prévenir"),
    ],
)
def test_each_missing_identity_setting_is_named_with_what_to_do(
    admin_client, complete, setting, words
):
    setattr(complete, setting, "")
    found = settle(admin_client)
    assert words in found
    assert "Indiquez-le dans la configuration de votre hébergeur" in found
    assert setting in found


def test_a_missing_mediator_is_named(admin_client, complete):
    complete.MEDIATOR_NAME = complete.MEDIATOR_URL = ""
    assert "Aucun médiateur de la consommation" in settle(admin_client)


def test_a_legal_page_with_placeholders_is_named_with_its_link(admin_client, complete):
    cgv = FlatPage.objects.get(url="/pages/cgv/")
    cgv.content += "\n\nMédiateur : [nom du médiateur]."
    cgv.save()
    found = settle(admin_client)
    assert "La page « Conditions générales de vente » contient encore un passage à compléter" in (
        found
    )
    assert "[nom du médiateur]" in found
    assert reverse("admin:flatpages_flatpage_change", args=[cgv.pk]) in found


def test_edited_cgv_without_the_online_withdrawal_are_flagged(admin_client, complete):
    FlatPage.objects.filter(url="/pages/cgv/").update(content="Mes conditions, sans le lien.")
    found = settle(admin_client)
    assert "ne disent pas où se rétracter en ligne" in found
    assert "Vous pouvez également exercer votre droit de rétractation en ligne" in found


def test_the_new_drafts_say_where_the_online_withdrawal_is_with_the_model_text(db):
    create_legal_pages()
    cgv = FlatPage.objects.get(url="/pages/cgv/").content
    assert "[« Renoncer au contrat ici »](/retractation/)" in cgv
    assert (
        "Si vous utilisez cette fonctionnalité en ligne, nous vous enverrons, dans les meilleurs "
        "délais, un accusé de réception de la rétractation sur un support durable (par exemple, "
        "par courriel), y compris son contenu ainsi que la date et l'heure de sa soumission."
    ) in cgv
    returns = FlatPage.objects.get(url="/pages/livraison-retours/").content
    assert "(/retractation/)" in returns
    assert "« Confirmer la rétractation »" in returns
    assert {page.url for page in LEGAL_PAGES} >= {"/pages/cgv/", "/pages/livraison-retours/"}
