"""Stripe answers slower than the shop's timeout (SPEC §13): Commander gives up within 10 s,
fails the order and releases its piece at once, and sends the shopper back to the cart with
a French message, never a 500 nor a piece "Réservé" for nobody."""

import re
import time

import pytest
import requests

from shop.tests.faults.conftest import ROUTER, report

pytestmark = pytest.mark.faults


class Visitor:
    """A browser, enough for CSRF: cookies kept by hand (the shop's are `Secure`, and the
    router's HTTPS is simulated by X-Forwarded-Proto), the Referer of the page posted from."""

    def __init__(self, shop) -> None:
        self.shop, self.cookies = shop, {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {
            **ROUTER,
            "Referer": self.shop.https_base + "/",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        response = requests.request(
            method, self.shop.base + path, headers=headers, allow_redirects=False, timeout=60,
            **kwargs,
        )  # fmt: skip
        self.cookies.update(response.cookies.get_dict())
        return response

    def token(self, path: str) -> str:
        page = self.request("GET", path).text
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_a_stripe_slower_than_the_timeout_releases_the_hold_at_once(make_shop, postgres, stripe):
    port = stripe.start(latency=25)  # slower than any timeout the shop allows itself
    shop = make_shop(STRIPE_API_BASE=f"http://127.0.0.1:{port}")
    piece_id, slug = postgres.query(
        "SELECT id, slug FROM products_product WHERE in_stock AND held_by_id IS NULL LIMIT 1"
    )[0]
    visitor = Visitor(shop)
    token = visitor.token(f"/produits/{slug}/")
    assert visitor.request(
        "POST", f"/panier/ajouter/{piece_id}/", data={"csrfmiddlewaretoken": token}
    ).status_code == 302  # fmt: skip

    token = visitor.token("/panier/")
    started = time.monotonic()
    try:
        answer = visitor.request(
            "POST", "/commande/", data={"csrfmiddlewaretoken": token, "cgv": "on"}
        )
        status, location = answer.status_code, answer.headers.get("Location")
    except requests.RequestException:
        status, location = 0, None  # no answer: the worker was killed at gunicorn's timeout
    elapsed = time.monotonic() - started
    stock = shop.get(f"/api/products?ids={piece_id}").json()["products"][0]["status"]
    order_status = postgres.query(
        "SELECT o.status FROM payments_order o JOIN payments_orderitem i ON i.order_id = o.id "
        "WHERE i.product_id = %s ORDER BY o.id DESC LIMIT 1",
        piece_id,
    )

    report(
        "stripe slower than the timeout",
        commander_status=status,
        commander_seconds=round(elapsed, 1),
        piece=stock,
        order=order_status[0][0] if order_status else None,
    )
    assert (status, location) == (302, "/panier/")
    assert elapsed <= 10
    assert stock == "available"
    assert order_status == [("failed",)]
    cart = visitor.request("GET", "/panier/").text
    assert "Le paiement est momentanément indisponible" in cart
