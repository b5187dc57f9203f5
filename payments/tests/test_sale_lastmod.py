"""A sale through the signed webhook moves the piece's lastmod in /sitemap.xml: crawlers
learn that its page now says « Vendu » (products/sitemaps.py)."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone

from payments.models import Order
from products.models import Product

pytestmark = pytest.mark.django_db

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def lastmod_of(path: str) -> str:
    root = ElementTree.fromstring(Client().get("/sitemap.xml").content)
    [url] = [u for u in root.iter(f"{NS}url") if u.findtext(f"{NS}loc").endswith(path)]
    return url.findtext(f"{NS}lastmod")


@pytest.fixture(autouse=True)
def _stripe_unreachable(settings) -> None:
    settings.STRIPE_API_BASE = "http://127.0.0.1:9/_stripe"


def test_a_paid_order_moves_the_lastmod_of_its_pieces(
    make_product, make_order, stripe_session, signed_event, post_webhook
):
    vase = make_product(name="Vase bleu", slug="vase-bleu", price="120.00")
    order = make_order(products=[vase])
    week_ago = timezone.now() - timedelta(days=7)
    Product.objects.filter(pk=vase.pk).update(updated_at=week_ago)
    before = lastmod_of("/produits/vase-bleu/")
    assert before.startswith(timezone.localdate(week_ago).isoformat())

    response = post_webhook(*signed_event("checkout.session.completed", stripe_session(order)))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    vase.refresh_from_db()
    assert vase.updated_at > week_ago + timedelta(days=6)
    after = lastmod_of("/produits/vase-bleu/")
    assert after == timezone.localtime(vase.updated_at).replace(microsecond=0).isoformat()
